import { readFileSync, existsSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { identitySchema } from './identity-config.ts';
import { runtimeSchema } from './runtime-config.ts';
import { gatewaySchema } from './gateway-config.ts';
import { modelSchema } from './model-config.ts';
import { toolsSchema } from './tools-config.ts';
import { telemetrySchema } from './telemetry-config.ts';
import { DEFAULT_SERVER_CONFIG, serverSchema } from './server-config.ts';
import { controlPlaneSchema, DEFAULT_CONTROL_PLANE_CONFIG } from './control-plane-config.ts';
import { tokenVaultSchema } from './token-vault-config.ts';

export const configSchema = z.strictObject({
  region: z.string().regex(/^[a-z0-9-]{1,32}$/).default('local'),
  accountId: z.string().regex(/^\d{12}$/, 'must be 12 digits').default('000000000000'),
  port: z.number().int().min(0).max(65_535).optional(),
  publicUrl: z.string().url().optional(),
  /** Serve HTTPS with a locally generated CA and certificate kept in `{dataDir}/tls` (development: `gatehouse up --https`). */
  https: z.boolean().default(false),
  dataDir: z.string().optional(),
  /** `embedded` (in-process + SQLite) or a `redis://` / `rediss://` URL shared by several instances. */
  store: z
    .string()
    .refine((value) => value === 'embedded' || /^rediss?:\/\//.test(value), 'must be "embedded" or a redis:// URL')
    .default('embedded'),
  /** Where durable state lives: `embedded` (SQLite files in the data dir) or a `postgres://` URL shared by several instances. */
  database: z
    .string()
    .refine((value) => value === 'embedded' || /^postgres(ql)?:\/\//.test(value), 'must be "embedded" or a postgres:// URL')
    .default('embedded'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  identity: identitySchema.optional(),
  runtimes: z.array(runtimeSchema).optional(),
  gateways: z.array(gatewaySchema).optional(),
  model: modelSchema.default({ provider: 'offline' }),
  tools: toolsSchema.default({ registry: { backend: 'sqlite' }, sandbox: { enabled: true }, accounts: [], allowOperations: [] }),
  telemetry: telemetrySchema.default({}),
  /** Header, body and keep-alive timeouts of the HTTP server. */
  server: serverSchema.default(DEFAULT_SERVER_CONFIG),
  /** The control plane's local commands and functions, rate and quotas. */
  controlPlane: controlPlaneSchema.default(DEFAULT_CONTROL_PLANE_CONFIG),
  /** OAuth2 and API-key credential providers of the token vault (per-user SaaS tokens for tools). */
  tokenVault: tokenVaultSchema.optional(),
});

export type GatehouseConfig = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  readonly code = 'ConfigError';
  readonly issues: readonly string[];
  constructor(source: string, issues: readonly string[]) {
    super(`Invalid configuration in ${source}:\n${issues.map((issue) => `  - ${issue}`).join('\n')}`);
    this.issues = issues;
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, key) => (typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key)), '');
}

/** Validates an already-parsed object; the result is deeply frozen. */
export function parseConfig(input: unknown, source = 'configuration'): Readonly<GatehouseConfig> {
  const result = configSchema.safeParse(input ?? {});
  if (!result.success) {
    throw new ConfigError(
      source,
      result.error.issues.map((issue) => {
        const where = formatPath(issue.path) || '(top level)';
        if (issue.code === 'unrecognized_keys') return `${where}: unknown field(s) ${issue.keys.map((key) => `"${key}"`).join(', ')}`;
        return `${where}: ${issue.message}`;
      }),
    );
  }
  return deepFreeze(result.data);
}

export interface LoadConfigOptions {
  readonly file?: string | undefined;
  /** Whether a missing `file` is an error (true when the user named it explicitly). */
  readonly required?: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

/** Reads `gatehouse.yaml` (if present), applies environment overrides, validates once. */
export function loadConfig(options: LoadConfigOptions = {}): { config: Readonly<GatehouseConfig>; source: string | undefined } {
  const env = options.env ?? process.env;
  let raw: Record<string, unknown> = {};
  let source: string | undefined;
  if (options.file && existsSync(options.file)) {
    source = options.file;
    try {
      const parsed: unknown = parseYaml(readFileSync(options.file, 'utf8'));
      if (parsed !== null && parsed !== undefined && (typeof parsed !== 'object' || Array.isArray(parsed))) {
        throw new ConfigError(options.file, ['(top level): must be a mapping of settings']);
      }
      raw = (parsed ?? {}) as Record<string, unknown>;
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw new ConfigError(options.file, [`not valid YAML: ${(error as Error).message.split('\n')[0]}`]);
    }
  } else if (options.file && options.required) {
    throw new ConfigError(options.file, ['file not found']);
  }
  const overridden = { ...raw };
  if (env.GATEHOUSE_PORT) overridden.port = Number(env.GATEHOUSE_PORT);
  if (env.GATEHOUSE_PUBLIC_URL) overridden.publicUrl = env.GATEHOUSE_PUBLIC_URL;
  if (env.GATEHOUSE_DATA_DIR) overridden.dataDir = env.GATEHOUSE_DATA_DIR;
  if (env.GATEHOUSE_STORE) overridden.store = env.GATEHOUSE_STORE;
  if (env.GATEHOUSE_DATABASE_URL) overridden.database = env.GATEHOUSE_DATABASE_URL;
  // Anything but true/1/false/0 stays a string, so the schema refuses it naming `https` instead of reading it as off.
  if (env.GATEHOUSE_HTTPS) overridden.https = ({ true: true, 1: true, false: false, 0: false } as Record<string, boolean>)[env.GATEHOUSE_HTTPS] ?? env.GATEHOUSE_HTTPS;
  if (env.GATEHOUSE_LOG_LEVEL) overridden.logLevel = env.GATEHOUSE_LOG_LEVEL;
  return { config: parseConfig(overridden, source ?? 'environment and defaults'), source };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
  }
  return value;
}
