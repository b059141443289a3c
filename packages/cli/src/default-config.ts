import { gatewaySchema, runtimeSchema, type GatehouseConfig, type GatewayConfig, type RuntimeConfig } from '@gatehouse/core';

/** What the defaults need to know about the running identity service. */
export interface DefaultPoolFacts {
  readonly discoveryUrl: string;
  readonly webClientId: string;
}

/** What `withDefaults` fills the default runtime and gateway from. */
export interface DefaultsFacts {
  readonly pool: DefaultPoolFacts;
  /** Gatehouse's public URL: the default gateway's `/mcp` and the allowed origin derive from it. */
  readonly baseUrl: string;
  /** How the default runtime starts its agent (`[node, agent entry]`). */
  readonly agentCommand: readonly string[];
  /** Where model credentials and OTEL_* settings are picked from; default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Set for every agent unless its runtime says otherwise (with `--https`: the local CA for NODE_EXTRA_CA_CERTS). */
  readonly hostEnvironment?: Readonly<Record<string, string>>;
}

export const DEFAULT_RUNTIME_NAME = 'ops_agent';
export const DEFAULT_GATEWAY_NAME = 'default';
/** Function-target name under which `gatehouse up` registers the built-in ops tools. */
export const OPS_TOOLS_FUNCTION = 'gatehouse:ops-tools';
export const OPS_TARGET_NAME = 'ops';

/**
 * Fills in the runtime and gateway that `gatehouse up` runs when the config declares none
 * (DESIGN: declaring `runtimes` or `gateways` replaces the default ones).
 */
export function withDefaults(config: Readonly<GatehouseConfig>, facts: DefaultsFacts): GatehouseConfig {
  const { pool, baseUrl, agentCommand, env = process.env, hostEnvironment = {} } = facts;
  // No allowedClients: the default runtime and gateway accept every app client of the default pool
  // (live perimeter settings, see start-gatehouse), so a client made later works without a restart.
  const jwt = { customJWTAuthorizer: { discoveryUrl: pool.discoveryUrl } };
  // Every spawned agent learns where the default gateway is and which model to use, unless its
  // own environment says otherwise (the reference agent reads these; others may ignore them).
  const agentEnvironment = {
    ...hostEnvironment,
    GATEHOUSE_GATEWAY_URL: `${baseUrl}/mcp`,
    GATEHOUSE_MODEL: JSON.stringify(config.model),
    ...pickTelemetryEnvironment(config, env),
  };
  // Agent processes inherit nothing from Gatehouse's environment (the runtime passes only PATH,
  // HOME, locale and CA settings). The reference agent still needs its model credentials, so the
  // default runtime gets exactly the variables of the configured provider — never tool credentials.
  const modelEnvironment = pickModelEnvironment(config, env);
  const declared: RuntimeConfig[] = config.runtimes
    ? [...config.runtimes]
    : [
        // Parsed by the schema, so every limit and lifecycle default comes from one place.
        runtimeSchema.parse({
          agentRuntimeName: DEFAULT_RUNTIME_NAME,
          description: 'Reference operations agent (offline planner unless a model is configured)',
          agent: { command: [...agentCommand], env: modelEnvironment },
          authorizerConfiguration: jwt,
          allowedOrigins: [new URL(baseUrl).origin],
        }),
      ];
  const runtimes = declared.map((runtime) => ({ ...runtime, environmentVariables: { ...agentEnvironment, ...runtime.environmentVariables } }));
  const gateways: GatewayConfig[] = config.gateways
    ? [...config.gateways]
    : [
        gatewaySchema.parse({
          name: DEFAULT_GATEWAY_NAME,
          description: 'Multi-account operations tools',
          authorizerConfiguration: jwt,
          allowedOrigins: [new URL(baseUrl).origin],
          targets: [
            {
              name: OPS_TARGET_NAME,
              description: 'Account registry, read-only AWS calls and bucket tools, acting with the caller’s derived credentials',
              targetConfiguration: { mcp: { lambda: { module: OPS_TOOLS_FUNCTION, handler: 'handler' } } },
              credentialProviderConfigurations: [
                {
                  credentialProviderType: 'GATEWAY_IAM_ROLE',
                  iamCredentialProvider: { service: 'sts', roleArn: `arn:aws:iam::${config.accountId}:role/GatehouseToolsBridge`, webIdentity: true },
                },
              ],
            },
          ],
        }),
      ];
  return { ...config, runtimes, gateways };
}

/** AWS's default credential chain reads these; SSO and profiles need HOME (passed by the runtime) or the file paths. */
const AWS_CHAIN_VARIABLES = [
  'AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN',
  'AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE', 'AWS_ROLE_ARN', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_ROLE_SESSION_NAME',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_AUTHORIZATION_TOKEN',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE', 'AWS_EC2_METADATA_DISABLED',
];

export function pickModelEnvironment(config: Readonly<GatehouseConfig>, env: NodeJS.ProcessEnv): Record<string, string> {
  const model = config.model;
  const names =
    model.provider === 'bedrock'
      ? AWS_CHAIN_VARIABLES
      : model.provider === 'anthropic'
        ? [model.apiKeyEnv]
        : model.provider === 'openai-compatible' && model.apiKeyEnv
          ? [model.apiKeyEnv]
          : [];
  const picked: Record<string, string> = {};
  for (const name of names) {
    const value = env[name];
    if (value !== undefined) picked[name] = value;
  }
  return picked;
}

/** Collector credentials stay with Gatehouse; an agent exports to the same endpoint without them. */
const WITHHELD_TELEMETRY = new Set(['OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_TRACES_HEADERS', 'OTEL_SERVICE_NAME']);

/**
 * The OpenTelemetry settings agents need to join Gatehouse's traces: every OTEL_* variable except
 * collector headers (they may hold credentials) and the service name (the agent names itself), plus
 * `telemetry.otlpEndpoint` from the config when no variable names an endpoint.
 */
export function pickTelemetryEnvironment(config: Readonly<GatehouseConfig>, env: NodeJS.ProcessEnv): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith('OTEL_') && !WITHHELD_TELEMETRY.has(name) && value !== undefined) picked[name] = value;
  }
  const endpoint = config.telemetry.otlpEndpoint;
  if (endpoint && picked.OTEL_EXPORTER_OTLP_ENDPOINT === undefined && picked.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT === undefined) picked.OTEL_EXPORTER_OTLP_ENDPOINT = endpoint;
  return picked;
}
