import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import type { Server } from 'node:http';
import {
  ConfigError,
  closeServer,
  createAppServer,
  createLogger,
  drainServer,
  listen,
  loadConfig,
  startTracing,
  parseConfig,
  systemClock,
  type GatehouseConfig,
  type GatewayConfig,
  type HttpComponent,
  type RuntimeConfig,
  type Logger,
  type Platform,
  type SharedStore,
} from '@gatehouse/core';
import { createJwtAuthorizer, type SigV4Key } from '@gatehouse/auth';
import { createIdentity, type IdentityService, type PerimeterResource, type WorkloadDefinition } from '@gatehouse/identity';
import { createRuntime, probeAgentInSandbox, type RuntimeService } from '@gatehouse/runtime';
import { createGateway, type GatewayService } from '@gatehouse/gateway';
import { createControlPlane, type ControlPlaneService } from '@gatehouse/control-plane';
import { agentEntryPath } from '@gatehouse/agent';
import { createAccountRegistry, createOpsTools } from '@gatehouse/tools';
import { createSandbox, type SandboxService } from '@gatehouse/sandbox';
import { createMetrics, createStore, instrumentComponent, standardMetrics, type Metrics } from '@gatehouse/cluster';
import { authFailureChannel, toolCallChannel, type AuthFailureEvent, type ToolCallEvent } from '@gatehouse/core';
import { withDefaults, OPS_TOOLS_FUNCTION, DEFAULT_RUNTIME_NAME, DEFAULT_GATEWAY_NAME } from './default-config.ts';
import { perimeterDeclarations } from './perimeter-declarations.ts';
import { createWebComponent, type Readiness, type WebSettings } from './web-component.ts';
import { ensureLocalCertificate } from './local-certificate.ts';

export type ComponentName = 'identity' | 'runtime' | 'gateway';

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
 */
export async function startGatehouse(options: StartOptions = {}): Promise<RunningGatehouse> {
  const env = options.env ?? process.env;
  const loaded =
    options.config !== undefined
      ? { config: parseConfig(applyEnv(options.config, env), 'the given configuration') }
      : loadConfig({ file: options.configFile ?? 'gatehouse.yaml', required: options.configFile !== undefined, env });
  const base = loaded.config;
  const dataDir = path.resolve(options.dataDir ?? base.dataDir ?? '.gatehouse');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const logger = options.logger ?? createLogger({ level: options.logLevel ?? base.logLevel, name: 'gatehouse' });
  const metrics = createMetrics();
  const standard = standardMetrics(metrics);
  const store = await createStore(base.store, { logger, onUnavailable: (operation) => standard.storeUnavailable.inc({ store: 'redis', operation }) });
  // Spans are exported only when an OTLP endpoint is configured (telemetry.otlpEndpoint or OTEL_*).
  const tracing = startTracing({ serviceName: 'gatehouse', endpoint: base.telemetry.otlpEndpoint, env, logger });
  // Components publish auth failures and tool calls on diagnostics channels; count them here.
  const onAuthFailure = (message: unknown): void => {
    const event = message as AuthFailureEvent;
    standard.authFailures.inc({ component: event.component, reason: event.reason });
  };
  const onToolCall = (message: unknown): void => {
    const event = message as ToolCallEvent;
    standard.toolCalls.inc({ gateway: event.gateway, target: event.target, decision: event.decision, outcome: event.outcome });
  };
  authFailureChannel.subscribe(onAuthFailure);
  toolCallChannel.subscribe(onToolCall);
  const unsubscribe = (): void => {
    authFailureChannel.unsubscribe(onAuthFailure);
    toolCallChannel.unsubscribe(onToolCall);
  };

  const components: HttpComponent[] = [];
  const pending: HttpComponent = {
    name: 'starting',
    handle(_request, response) {
      response.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' }).end('{"message":"Gatehouse is starting"}');
      return true;
    },
    async close() {},
  };
  components.push(pending);
  const listenHost = options.host ?? '127.0.0.1';
  const tls = options.https ?? base.https ? localCertificate(dataDir, options.publicUrl ?? base.publicUrl, listenHost, logger) : undefined;
  const server: Server = createAppServer(components, logger, base.server, tls);
  const scheme = tls ? 'https' : 'http';
  let port: number;
  try {
    port = await listen(server, options.port ?? base.port ?? 8080, listenHost);
  } catch (error) {
    // e.g. the port is taken: leave nothing running behind the error.
    unsubscribe();
    await tracing.shutdown();
    await store.close();
    throw error;
  }
  const baseUrl = (options.publicUrl ?? base.publicUrl ?? `${scheme}://localhost:${port}`).replace(/\/+$/, '');
  const localUrl = `${scheme}://${listenHost === '0.0.0.0' || listenHost === '::' ? '127.0.0.1' : listenHost.includes(':') ? `[${listenHost}]` : listenHost}:${port}`;
  const only = new Set<ComponentName>(options.only ?? ['identity', 'runtime', 'gateway']);
  // Admin verbs run later against the same data dir must derive the same URLs (issuer, default
  // client's callback) as this server, or applying the defaults would rewrite them.
  writeFileSync(path.join(dataDir, 'server.json'), `${JSON.stringify({ baseUrl, port, pid: process.pid }, null, 2)}\n`, { mode: 0o600 });

  const started: HttpComponent[] = [];
  const drainTimeoutMs = options.drainTimeoutMs ?? 10_000;
  let draining = false;
  try {
    const basePlatform: Platform = { config: base, dataDir: realpathSync(dataDir), baseUrl, logger, clock: systemClock, store };
    const identity = await createIdentity(basePlatform, { env });
    started.push(identity);
    const pool = identity.defaultPool;
    const defaults = withDefaults(base, pool, baseUrl, [process.execPath, agentEntryPath], env, tls ? { NODE_EXTRA_CA_CERTS: agentCaFile(tls.caFile, env) } : {});
    const config = parseConfig(defaults, 'configuration with defaults');
    const platform: Platform = { ...basePlatform, config };
    const defaultAudience = `${baseUrl}/mcp`;
    // One workload identity per runtime, named like it (AgentCore creates one with each runtime).
    const declaredWorkloads: WorkloadDefinition[] = (config.runtimes ?? []).map((entry) => ({
      name: entry.agentRuntimeName,
      inbound: entry.authorizerConfiguration?.customJWTAuthorizer,
      audience: entry.workloadIdentity.audience ?? defaultAudience,
    }));
    identity.registerWorkloads(declaredWorkloads);
    // Live client and origin lists (config plus `gatehouse perimeter` changes), one per runtime and gateway.
    const declarations = perimeterDeclarations(base, pool.userPoolId, baseUrl);
    const perimeterOf = (resource: PerimeterResource): ReturnType<IdentityService['perimeter']> | undefined => {
      const declaration = declarations.get(resource);
      return declaration && identity.perimeter(resource, declaration);
    };
    const runtimePerimeter = (entry: RuntimeConfig): ReturnType<IdentityService['perimeter']> | undefined => perimeterOf(`runtime:${entry.agentRuntimeName}`);
    const gatewayPerimeter = (entry: GatewayConfig): ReturnType<IdentityService['perimeter']> | undefined => perimeterOf(`gateway:${entry.name}`);

    let sandbox: SandboxService | undefined;
    if (config.tools.sandbox.enabled) {
      const webIdentity = createJwtAuthorizer(
        { discoveryUrl: pool.discoveryUrl, allowedAudience: ['sts'] },
        { isRevoked: (claims) => identity.isRevoked(claims), fetch: identity.fetch },
      );
      sandbox = await createSandbox(platform, {
        lookupAccessKey: (id) => identity.lookupAccessKey(id),
        verifyWebIdentity: (token) => webIdentity.verify(token),
      });
      started.push(sandbox);
    }
    const lookupAccessKey = async (accessKeyId: string): Promise<SigV4Key | undefined> =>
      (await identity.lookupAccessKey(accessKeyId)) ?? (await sandbox?.lookupTemporaryKey(accessKeyId));

    let gateway: GatewayService | undefined;
    if (only.has('gateway')) {
      const registry = await createAccountRegistry(config.tools.registry, platform.dataDir);
      const ops = createOpsTools({
        registry,
        region: config.region,
        ...(sandbox ? { stsEndpoint: sandbox.stsEndpoint, s3Endpoint: sandbox.s3Endpoint } : {}),
        allowOperations: config.tools.allowOperations,
        logger,
      });
      gateway = await createGateway(platform, {
        // Identity answers in this very process: its token endpoint is reached on this listener, never
        // through the public URL (a balancer that may route it to another, possibly dead, instance).
        // (Only when this process serves identity's routes; `gatehouse gateway` alone asks the public URL.)
        serviceClient: only.has('identity') ? { ...identity.serviceClient('gateway'), tokenEndpoint: `${localUrl}/oauth2/token` } : identity.serviceClient('gateway'),
        // No credentials of the gateway's own: the default target derives them per user by web identity.
        sts: sandbox ? { endpoint: sandbox.stsEndpoint, region: config.region } : { region: env.AWS_REGION ?? config.region },
        isRevoked: (claims) => identity.isRevoked(claims),
        functions: { [OPS_TOOLS_FUNCTION]: { handler: ops.handler, toolSchema: ops.toolSchema } },
        fetch: identity.fetch,
        workloadDiscoveryUrl: pool.discoveryUrl,
        perimeter: gatewayPerimeter,
        // Users' SaaS tokens (token-vault providerArn targets) come from identity's vault in this process.
        vault: identity.vault,
      });
      started.push(gateway);
    }

    let runtime: RuntimeService | undefined;
    if (only.has('runtime')) {
      const instanceUrl =
        options.instanceUrl ?? env.GATEHOUSE_INSTANCE_URL ?? (store.kind === 'redis' ? `${scheme}://${listenHost}:${port}` : undefined);
      runtime = await createRuntime(platform, {
        ...(instanceUrl ? { instanceUrl } : {}),
        lookupAccessKey,
        // In-process: identity runs in this process whatever `only` says, so minting never goes out through the public URL.
        workloadIdentity: identity,
        defaultWorkloadAudience: defaultAudience,
        isRevoked: (claims) => identity.isRevoked(claims),
        fetch: identity.fetch,
        perimeter: runtimePerimeter,
      }, { drainTimeoutMs });
      started.push(runtime);
    }

    let controlPlane: ControlPlaneService | undefined;
    if (only.has('identity')) {
      // Admin keys only (identity's), never the sandbox's temporary ones: this API changes the deployment.
      controlPlane = await createControlPlane(platform, {
        lookupAccessKey: (id) => identity.lookupAccessKey(id),
        gatewayUrl: (name) => gateway?.gateways.find((entry) => entry.name === name)?.url,
        // Workload identities created through the API (and those of the runtimes it creates) mint tokens for the default audience.
        onWorkloadIdentities: (workloads) => identity.registerWorkloads([...declaredWorkloads, ...workloads.map((workload) => ({ ...workload, audience: defaultAudience }))]),
        ...(runtime ? { runtimes: runtime } : {}),
        // Code zips come from the sandbox S3 in this process, read from its storage directly (no key of anyone's).
        ...(sandbox ? { codeSource: { getObject: (accountId: string, bucket: string, key: string, maxBytes: number) => sandbox.readObject(accountId, bucket, key, maxBytes) } } : {}),
        // An unpacked zip is tried the way its sessions will run it: in its own namespaces where the host allows.
        probeAgent: (command, cwd, timeoutMs) => probeAgentInSandbox({ command, cwd, timeoutMs, dataDir: platform.dataDir, baseUrl, logger }),
        ...(gateway ? { gateways: gateway } : {}),
        env,
      });
      started.push(controlPlane);
      // Credential providers and workload return URLs created through the API feed the token vault.
      identity.addCredentialProviders(controlPlane.credentialProviders);
    }

    const runtimeEntry = runtime?.runtimes.find((entry) => entry.name === DEFAULT_RUNTIME_NAME) ?? runtime?.runtimes[0];
    const gatewayEntry = gateway?.gateways.find((entry) => entry.name === DEFAULT_GATEWAY_NAME) ?? gateway?.gateways[0];
    const settings: WebSettings = {
      region: config.region,
      userPoolId: pool.userPoolId,
      clientId: pool.webClientId,
      issuer: pool.issuer,
      authority: pool.issuer,
      runtimeArn: runtimeEntry?.arn ?? `arn:aws:bedrock-agentcore:${config.region}:${config.accountId}:runtime/${DEFAULT_RUNTIME_NAME}`,
      gatewayUrl: gatewayEntry?.url ?? `${baseUrl}/mcp`,
      runtimeProtocol: config.runtimes?.find((declared) => declared.agentRuntimeName === runtimeEntry?.name)?.protocolConfiguration.serverProtocol ?? 'HTTP',
      acceptedClients: base.runtimes === undefined ? 'pool' : 'listed',
    };

    // Order matters: specific API prefixes first, the identity's `POST /` + OAuth paths, then the web UI.
    const mounted: HttpComponent[] = [];
    // The control plane first: it claims only its own paths (`PUT /runtimes/`, `GET /gateways/{id}/`, `POST /identities/CreateWorkloadIdentity`…),
    // which the runtime, gateway and identity would otherwise answer as unknown operations of theirs.
    if (controlPlane) mounted.push(controlPlane);
    if (runtime) mounted.push(runtime);
    if (gateway) mounted.push(gateway);
    if (sandbox) mounted.push(sandbox);
    if (only.has('identity')) mounted.push(identity);
    // Gauges are read from the live state when scraped rather than kept in step by every change.
    const renderMetrics = (): string => {
      for (const [name, stats] of runtime?.stats() ?? []) {
        standard.sessions.set({ runtime: name }, stats.sessions);
        standard.agentProcesses.set({ runtime: name }, stats.agentProcesses);
      }
      return metrics.render();
    };
    const readiness = async (): Promise<Readiness> => {
      const checks: Record<string, string> = {};
      for (const component of mounted) checks[component.name] = draining ? 'draining' : 'serving';
      let storeOk = true;
      if (store.ping) {
        // Bounded by the store's own command timeout (2 s); a probe never hangs.
        storeOk = await store.ping().then(() => true, () => false);
        checks.store = storeOk ? 'ok' : 'unavailable';
      } else checks.store = store.kind;
      return { ready: !draining && storeOk, checks };
    };
    mounted.push(createWebComponent(() => settings, { metrics: renderMetrics, readiness, ...(options.webDistDirectory ? { distDirectory: options.webDistDirectory } : {}) }));
    components.splice(0, components.length, ...mounted.map((component) => instrumentComponent(component, metrics)));

    let closed = false;
    return {
      url: baseUrl,
      port,
      dataDir: platform.dataDir,
      caCertificateFile: tls?.caFile,
      config,
      firstRun: identity.firstRun,
      adminCredentialsFile: identity.adminCredentialsFile,
      identity,
      runtime,
      gateway,
      sandbox,
      controlPlane,
      settings,
      store,
      metrics,
      async close() {
        if (closed) return;
        closed = true;
        // Graceful: /ready answers 503 at once (load balancers stop sending work), the runtime refuses
        // new invocations with 503 and lets running streams finish up to its drain deadline. The port
        // stays open meanwhile, because those agents still call the gateway and identity on it.
        draining = true;
        await runtime?.close().catch((error: unknown) => logger.warn({ err: error }, 'close failed'));
        // Then stop accepting connections and let requests still running (tool calls, sign-ins) finish,
        // up to the drain deadline; what remains after it (idle streams) is cut.
        await drainServer(server, drainTimeoutMs);
        for (const component of [...started].reverse()) {
          if (component !== runtime) await component.close().catch((error: unknown) => logger.warn({ err: error }, 'close failed'));
        }
        await store.close();
        unsubscribe();
        await tracing.shutdown();
      },
    };
  } catch (error) {
    unsubscribe();
    await tracing.shutdown();
    await closeServer(server);
    for (const component of started.reverse()) await component.close().catch(() => undefined);
    await store.close();
    throw error;
  }
}

function applyEnv(config: unknown, env: NodeJS.ProcessEnv): unknown {
  if (!config || typeof config !== 'object') return config;
  const copy: Record<string, unknown> = { ...(config as Record<string, unknown>) };
  if (env.GATEHOUSE_STORE) copy.store = env.GATEHOUSE_STORE;
  return copy;
}

/**
 * The local CA and server certificate for `--https` (made once, then reused from the data dir). This
 * process trusts the CA too: identity, the gateway and the runtime reach each other and the public URL
 * over HTTPS. The CA is name-constrained to the local names, so trusting it grants nothing elsewhere.
 */
function localCertificate(dataDir: string, publicUrl: string | undefined, listenHost: string, logger: Logger): ReturnType<typeof ensureLocalCertificate> {
  const hosts = [listenHost];
  if (publicUrl !== undefined) {
    const url = new URL(publicUrl);
    if (url.protocol !== 'https:') {
      throw new ConfigError('the configuration', [`publicUrl: must start with https:// when https is on (got ${url.protocol}//…); drop publicUrl or --https`]);
    }
    hosts.push(url.hostname);
  }
  const certificate = ensureLocalCertificate(dataDir, hosts);
  if (certificate.made === 'ca-and-server-certificate') logger.warn({ caCertificate: certificate.caFile }, 'made a new local CA for HTTPS: trust this certificate in your browser or OS (development only)');
  else if (certificate.made === 'server-certificate') logger.info({ caCertificate: certificate.caFile }, 'made a new server certificate, signed by the existing local CA');
  const trusted = getCACertificates('default');
  if (!trusted.includes(certificate.caPem)) setDefaultCACertificates([...trusted, certificate.caPem]);
  return certificate;
}

/**
 * What agents get as NODE_EXTRA_CA_CERTS (Node reads one file): the local CA, plus whatever file this
 * process was already told to trust, so a corporate proxy's CA keeps working in the agent.
 */
function agentCaFile(caFile: string, env: NodeJS.ProcessEnv): string {
  const existing = env.NODE_EXTRA_CA_CERTS;
  if (!existing || !existsSync(existing)) return caFile;
  const bundle = path.join(path.dirname(caFile), 'agent-ca-bundle.pem');
  writeFileSync(bundle, `${readFileSync(existing, 'utf8').trimEnd()}\n${readFileSync(caFile, 'utf8')}`, { mode: 0o644 });
  return bundle;
}
