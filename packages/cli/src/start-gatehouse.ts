import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Server } from 'node:http';
import {
  closeServer,
  createAppServer,
  createLogger,
  drainServer,
  listen,
  loadConfig,
  parseConfig,
  systemClock,
  type GatehouseConfig,
  type HttpComponent,
  type Logger,
  type SharedStore,
} from '@gatehouse/core';
import type { IdentityService } from '@gatehouse/identity';
import type { RuntimeService } from '@gatehouse/runtime';
import type { GatewayService } from '@gatehouse/gateway';
import type { ControlPlaneService } from '@gatehouse/control-plane';
import type { SandboxService } from '@gatehouse/sandbox';
import type { Metrics } from '@gatehouse/cluster';
import { mountComponents, webSettingsFor } from './mount-components.ts';
import { openProcessServices, type ProcessServices } from './process-services.ts';
import { localCertificate, type LocalCertificate } from './serve-https.ts';
import { startComponents, startIdentity, type ComponentName, type ProcessUrls, type StartedComponents } from './start-components.ts';
import type { WebSettings } from './web-component.ts';

export type { ComponentName } from './start-components.ts';

export interface StartOptions {
  /** Data directory; created when missing. Default `.gatehouse` in the working directory. */
  readonly dataDir?: string;
  /** Port to listen on; 0 picks a free one. Default: config `port`, then 8080. */
  readonly port?: number;
  readonly host?: string;
  readonly configFile?: string;
  /** An already-parsed `gatehouse.yaml` object (tests); validated like a file. */
  readonly config?: unknown;
  readonly publicUrl?: string;
  /** Serve HTTPS with a local CA and certificate kept in `{dataDir}/tls` (default: config `https`, false). */
  readonly https?: boolean;
  readonly logLevel?: string;
  /** How long a shutdown lets running requests finish (runtime streams, then tool calls); default 10 s. */
  readonly drainTimeoutMs?: number;
  /** Serve only these components (scale-out: `gatehouse runtime`); all by default. */
  readonly only?: readonly ComponentName[];
  /**
   * This instance's own URL as other instances reach it (several instances sharing `store: redis://…`):
   * a session whose agent lives here is forwarded here. Default `GATEHOUSE_INSTANCE_URL`, else
   * `http://{host}:{port}` when the store is shared.
   */
  readonly instanceUrl?: string;
  readonly logger?: Logger;
  readonly env?: NodeJS.ProcessEnv;
  /** Where the built web UI is served from; default `packages/web/dist` of this checkout. */
  readonly webDistDirectory?: string;
}

export interface RunningGatehouse {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** With HTTPS: the local CA certificate clients must trust (PEM file in the data dir); undefined over plain HTTP. */
  readonly caCertificateFile: string | undefined;
  readonly config: Readonly<GatehouseConfig>;
  readonly firstRun: { readonly username: string; readonly password: string } | undefined;
  readonly adminCredentialsFile: string;
  readonly identity: IdentityService;
  readonly runtime: RuntimeService | undefined;
  readonly gateway: GatewayService | undefined;
  readonly sandbox: SandboxService | undefined;
  /** The AgentCore control plane (`aws bedrock-agentcore-control`), served with identity. */
  readonly controlPlane: ControlPlaneService | undefined;
  readonly settings: WebSettings;
  readonly store: SharedStore;
  readonly metrics: Metrics;
  close(): Promise<void>;
}

/**
 * `gatehouse up`: one port, every component. The server listens first (port 0 resolves to a real
 * port), because issuers, `/config.json` and the default client's callback derive from the public URL.
 * The steps: read the configuration → open the process services (store, metrics, tracing) → listen →
 * start identity, then the other components → mount them behind the listener.
 */
export async function startGatehouse(options: StartOptions = {}): Promise<RunningGatehouse> {
  const env = options.env ?? process.env;
  const base = readConfig(options, env);
  const dataDir = path.resolve(options.dataDir ?? base.dataDir ?? '.gatehouse');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const logger = options.logger ?? createLogger({ level: options.logLevel ?? base.logLevel, name: 'gatehouse' });
  const services = await openProcessServices({ config: base, env, logger });
  const listener = await listenFirst({ options, env, base, dataDir, logger, services });
  const { server, components, port, tls, urls } = listener;
  // Admin verbs run later against the same data dir must derive the same URLs (issuer, default
  // client's callback) as this server, or applying the defaults would rewrite them.
  writeFileSync(path.join(dataDir, 'server.json'), `${JSON.stringify({ baseUrl: urls.baseUrl, port, pid: process.pid }, null, 2)}\n`, { mode: 0o600 });

  const started: HttpComponent[] = [];
  const only = new Set<ComponentName>(options.only ?? ['identity', 'runtime', 'gateway']);
  const drainTimeoutMs = options.drainTimeoutMs ?? 10_000;
  const state = { draining: false };
  try {
    const basePlatform = { config: base, dataDir: realpathSync(dataDir), baseUrl: urls.baseUrl, logger, clock: systemClock, store: services.store };
    const identityParts = await startIdentity({ basePlatform, env, tls, started });
    const { identity, platform } = identityParts;
    const running = await startComponents({ ...identityParts, env, only, urls, drainTimeoutMs, started });
    const settings = webSettingsFor({ config: platform.config, declaredRuntimes: base.runtimes !== undefined, identity, components: running, baseUrl: urls.baseUrl });
    const mounted = mountComponents({ identity, components: running, only, services, settings, isDraining: () => state.draining, webDistDirectory: options.webDistDirectory });
    components.splice(0, components.length, ...mounted);
    const close = closeOnce({ server, services, started, runtime: running.runtime, drainTimeoutMs, logger, state });
    return {
      url: urls.baseUrl,
      port,
      dataDir: platform.dataDir,
      caCertificateFile: tls?.caFile,
      config: platform.config,
      firstRun: identity.firstRun,
      adminCredentialsFile: identity.adminCredentialsFile,
      identity,
      ...running,
      settings,
      store: services.store,
      metrics: services.metrics,
      close,
    };
  } catch (error) {
    services.unsubscribe();
    await services.tracing.shutdown();
    await closeServer(server);
    for (const component of started.reverse()) await component.close().catch(() => undefined);
    await services.store.close();
    throw error;
  }
}

function readConfig(options: StartOptions, env: NodeJS.ProcessEnv): Readonly<GatehouseConfig> {
  const loaded =
    options.config !== undefined
      ? { config: parseConfig(applyEnv(options.config, env), 'the given configuration') }
      : loadConfig({ file: options.configFile ?? 'gatehouse.yaml', required: options.configFile !== undefined, env });
  return loaded.config;
}

interface ListenRequest {
  readonly options: StartOptions;
  readonly env: NodeJS.ProcessEnv;
  readonly base: Readonly<GatehouseConfig>;
  readonly dataDir: string;
  readonly logger: Logger;
  readonly services: ProcessServices;
}

interface Listener {
  readonly server: Server;
  /** What the server offers requests to: a 503 "starting" answer until the components are mounted. */
  readonly components: HttpComponent[];
  readonly port: number;
  readonly tls: LocalCertificate | undefined;
  readonly urls: ProcessUrls;
}

/** Listens before any component starts (port 0 resolves first); until then every request gets 503 + retry-after. */
async function listenFirst({ options, env, base, dataDir, logger, services }: ListenRequest): Promise<Listener> {
  const pending: HttpComponent = {
    name: 'starting',
    handle(_request, response) {
      response.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' }).end('{"message":"Gatehouse is starting"}');
      return true;
    },
    async close() {},
  };
  const components: HttpComponent[] = [pending];
  const listenHost = options.host ?? '127.0.0.1';
  const tls = options.https ?? base.https ? localCertificate({ dataDir, publicUrl: options.publicUrl ?? base.publicUrl, listenHost, logger }) : undefined;
  const server: Server = createAppServer(components, logger, base.server, tls);
  const scheme = tls ? 'https' : 'http';
  let port: number;
  try {
    port = await listen(server, options.port ?? base.port ?? 8080, listenHost);
  } catch (error) {
    // e.g. the port is taken: leave nothing running behind the error.
    services.unsubscribe();
    await services.tracing.shutdown();
    await services.store.close();
    throw error;
  }
  const baseUrl = (options.publicUrl ?? base.publicUrl ?? `${scheme}://localhost:${port}`).replace(/\/+$/, '');
  const localUrl = `${scheme}://${listenHost === '0.0.0.0' || listenHost === '::' ? '127.0.0.1' : listenHost.includes(':') ? `[${listenHost}]` : listenHost}:${port}`;
  const instanceUrl =
    options.instanceUrl ?? env.GATEHOUSE_INSTANCE_URL ?? (services.store.kind === 'redis' ? `${scheme}://${listenHost}:${port}` : undefined);
  return { server, components, port, tls, urls: { baseUrl, localUrl, instanceUrl } };
}

interface CloseRequest {
  readonly server: Server;
  readonly services: ProcessServices;
  readonly started: readonly HttpComponent[];
  readonly runtime: StartedComponents['runtime'];
  readonly drainTimeoutMs: number;
  readonly logger: Logger;
  readonly state: { draining: boolean };
}

function closeOnce({ server, services, started, runtime, drainTimeoutMs, logger, state }: CloseRequest): () => Promise<void> {
  let closed = false;
  return async () => {
    if (closed) return;
    closed = true;
    // Graceful: /ready answers 503 at once (load balancers stop sending work), the runtime refuses
    // new invocations with 503 and lets running streams finish up to its drain deadline. The port
    // stays open meanwhile, because those agents still call the gateway and identity on it.
    state.draining = true;
    await runtime?.close().catch((error: unknown) => logger.warn({ err: error }, 'close failed'));
    // Then stop accepting connections and let requests still running (tool calls, sign-ins) finish,
    // up to the drain deadline; what remains after it (idle streams) is cut.
    await drainServer(server, drainTimeoutMs);
    for (const component of [...started].reverse()) {
      if (component !== runtime) await component.close().catch((error: unknown) => logger.warn({ err: error }, 'close failed'));
    }
    await services.store.close();
    services.unsubscribe();
    await services.tracing.shutdown();
  };
}

function applyEnv(config: unknown, env: NodeJS.ProcessEnv): unknown {
  if (!config || typeof config !== 'object') return config;
  const copy: Record<string, unknown> = { ...(config as Record<string, unknown>) };
  if (env.GATEHOUSE_STORE) copy.store = env.GATEHOUSE_STORE;
  return copy;
}
