import type { ClientAllowList } from '@gatehouse/auth';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { GatewayConfig, GatewayTargetConfig, HttpComponent, Platform } from '@gatehouse/core';
import { AuditLog } from './audit-log.ts';
import { ConcurrencyLimiter } from './concurrency-limiter.ts';
import { CredentialResolver } from './credentials/resolve-credentials.ts';
import { SealedBox } from './credentials/sealed-box.ts';
import type { GatewayVault } from './credentials/vault-credentials.ts';
import { GatewayEndpoint } from './gateway-endpoint.ts';
import { GatewayError } from './gateway-error.ts';
import { createInboundAuthorizer, type InboundAuthorizer } from './inbound-authorizer.ts';
import { PolicyEngine } from './policy-engine.ts';
import { FunctionTarget, parseToolSchema } from './targets/function-target.ts';
import { McpTarget } from './targets/mcp-target.ts';
import { OpenApiTarget } from './targets/openapi-target.ts';
import type { ToolTarget } from './targets/tool-target.ts';
import { ToolCatalog, type CatalogTarget } from './tool-catalog.ts';
import { ToolDispatcher } from './tool-dispatcher.ts';
import type { LambdaHandler, ToolDefinition } from './tool-definition.ts';
import { redactText, sendWire } from '@gatehouse/core';

export interface GatewayService extends HttpComponent {
  /** The gateways served now (gatehouse.yaml's, then those added). */
  readonly gateways: readonly { readonly name: string; readonly url: string }[];
  /**
   * Serves a gateway at once at `/gateways/{name}/mcp`, or replaces the one of that name (new targets, tool
   * catalog reloaded; its MCP sessions stay open). Throws, serving nothing new, when a setting is bad.
   */
  addGateway(config: GatewayConfig): Promise<{ url: string }>;
  /** Stops serving a gateway: its MCP sessions end, its paths answer 404, its targets are closed. */
  removeGateway(name: string): Promise<void>;
  close(): Promise<void>;
}

export interface GatewayDeps {
  /** The gateway's confidential client at the identity service, for TOKEN_EXCHANGE / CLIENT_CREDENTIALS credential providers. */
  serviceClient?: { clientId: string; clientSecret: string; tokenEndpoint: string };
  /** STS endpoint for GATEWAY_IAM_ROLE providers (absent → the real regional STS) and the credentials the gateway signs AssumeRole with. */
  sts?: { endpoint?: string; region: string; credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } };
  isRevoked?(claims: Record<string, unknown>): Promise<boolean>;
  /** Lambda-style function targets resolved by name before module paths, e.g. `{ 'gatehouse:ops-tools': { handler, toolSchema } }`. */
  functions?: Readonly<Record<string, { handler: LambdaHandler; toolSchema: readonly ToolDefinition[] }>>;
  /** Gateways to serve instead of `platform.config.gateways` (e.g. the lead's default gateway). */
  gateways?: readonly GatewayConfig[];
  /** Directory that relative function-module and OpenAPI paths resolve against (the config file's folder); default: cwd. */
  configDir?: string;
  /** Fetch for discovery/JWKS; Gatehouse passes one that answers its own issuer in-process. */
  fetch?: typeof fetch;
  /** Discovery URL of Gatehouse's issuer of workload access tokens, accepted beside the gateway's own issuer. */
  workloadDiscoveryUrl?: string;
  /** Live client and origin lists per gateway (identity's perimeter settings). */
  /** The token vault (identity's, in-process) for targets whose credential provider names a `providerArn`. */
  vault?: GatewayVault;
  /** Where a user's browser lands after consenting at a SaaS (default: the web UI at the base URL). */
  vaultReturnUrl?: string;
  perimeter?: (config: GatewayConfig) => { readonly clients: ClientAllowList | undefined; readonly origins: { has(origin: string): boolean } } | undefined;
}

/** `/mcp` for the gateway named `default`, `/gateways/{name}/mcp` for every gateway. */
export function gatewayPaths(name: string): string[] {
  return name === 'default' ? ['/mcp', `/gateways/${name}/mcp`] : [`/gateways/${name}/mcp`];
}

async function buildTarget(config: GatewayTargetConfig, deps: GatewayDeps): Promise<ToolTarget> {
  const mcp = config.targetConfiguration.mcp;
  const baseDir = deps.configDir ?? process.cwd();
  if ('mcpServer' in mcp) return McpTarget.http(config.name, mcp.mcpServer.endpoint);
  if ('stdioServer' in mcp) return McpTarget.stdio(config.name, mcp.stdioServer.command, mcp.stdioServer.env, mcp.stdioServer.cwd ? path.resolve(baseDir, mcp.stdioServer.cwd) : baseDir);
  if ('openApiSchema' in mcp) {
    const text = 'inlinePayload' in mcp.openApiSchema ? mcp.openApiSchema.inlinePayload : readFileSync(path.resolve(baseDir, mcp.openApiSchema.path), 'utf8');
    return new OpenApiTarget(config.name, text, mcp.baseUrl);
  }
  const lambda = mcp.lambda;
  const named = deps.functions?.[lambda.module];
  if (named) {
    const tools = lambda.toolSchema ? parseToolSchema(lambda.toolSchema.inlinePayload, config.name) : [...named.toolSchema];
    return new FunctionTarget(config.name, lambda.module, named.handler, tools);
  }
  const moduleUrl = pathToFileURL(path.resolve(baseDir, lambda.module)).href;
  const loaded = (await import(moduleUrl)) as Record<string, unknown>;
  const handler = loaded[lambda.handler];
  if (typeof handler !== 'function') throw new Error(`Target ${config.name}: module ${lambda.module} exports no function "${lambda.handler}"`);
  const schema = lambda.toolSchema?.inlinePayload ?? (loaded.toolSchema as string | unknown[] | undefined);
  if (!schema) throw new Error(`Target ${config.name}: give lambda.toolSchema.inlinePayload or export toolSchema from ${lambda.module}`);
  return new FunctionTarget(config.name, lambda.module, handler as LambdaHandler, parseToolSchema(schema, config.name));
}

interface ServedGateway {
  readonly endpoint: GatewayEndpoint;
  readonly paths: readonly string[];
  readonly url: string;
  close(): Promise<void>;
}

/** What every gateway of the service shares: the platform, the deps, one audit log, one sealed box, the sessions per gateway name. */
interface GatewayContext {
  readonly platform: Platform;
  readonly deps: GatewayDeps;
  readonly logger: Platform['logger'];
  readonly audit: AuditLog;
  readonly box: SealedBox;
  /** Per gateway name: the sessions opened on this instance, kept across rebuilds of that gateway. */
  readonly openSessions: Map<string, Set<string>>;
}

/** Closers run in reverse order of registration, each failure ignored (a half-built gateway is torn down whole). */
class Closers {
  readonly #closers: (() => Promise<void> | void)[] = [];

  add(closer: () => Promise<void> | void): void {
    this.#closers.push(closer);
  }

  async close(): Promise<void> {
    for (const closer of this.#closers.reverse()) await Promise.resolve(closer()).catch(() => undefined);
  }
}

function buildAuthorizer(context: GatewayContext, config: GatewayConfig, live: ReturnType<NonNullable<GatewayDeps['perimeter']>>): InboundAuthorizer {
  const jwt = config.authorizerConfiguration?.customJWTAuthorizer;
  if (!jwt) throw new Error(`Gateway ${config.name}: authorizerConfiguration.customJWTAuthorizer is required (Gatehouse gateways never run without inbound auth)`);
  const { deps } = context;
  return createInboundAuthorizer(jwt, {
    clock: context.platform.clock,
    logger: context.logger,
    isRevoked: deps.isRevoked ? deps.isRevoked.bind(deps) : undefined,
    fetch: deps.fetch,
    allowedClients: live?.clients,
    workloadDiscoveryUrl: deps.workloadDiscoveryUrl,
  });
}

async function buildTargets(context: GatewayContext, config: GatewayConfig, closers: Closers): Promise<CatalogTarget[]> {
  const targets: CatalogTarget[] = [];
  for (const targetConfig of config.targets) {
    const provider = targetConfig.credentialProviderConfigurations[0]!;
    if (provider.credentialProviderType === 'JWT_PASSTHROUGH') {
      context.logger.warn({ gateway: config.name, target: targetConfig.name }, 'JWT_PASSTHROUGH: this target receives the caller\'s own token (no audience binding); prefer OAUTH TOKEN_EXCHANGE');
    }
    const target = await buildTarget(targetConfig, context.deps);
    closers.add(() => target.close());
    targets.push({ target, config: targetConfig, limiter: new ConcurrencyLimiter(targetConfig.maxConcurrency) });
  }
  return targets;
}

function openPolicy(context: GatewayContext, config: GatewayConfig): PolicyEngine {
  const { platform, deps, logger } = context;
  const policyFile = config.policy.file ? path.resolve(deps.configDir ?? process.cwd(), config.policy.file) : path.join(platform.dataDir, 'policies', `${config.name}.cedar`);
  const policy = PolicyEngine.open(policyFile, config.policy.mode, undefined, (message) => logger.warn({ gateway: config.name }, message));
  if (config.policy.mode === 'LOG_ONLY') logger.warn({ gateway: config.name }, 'policy mode LOG_ONLY: denials are logged, not enforced');
  return policy;
}

function buildCredentials(context: GatewayContext, config: GatewayConfig): CredentialResolver {
  const { platform, deps } = context;
  return new CredentialResolver({
    dataDir: platform.dataDir,
    store: platform.store,
    box: context.box,
    gatewayName: config.name,
    now: () => platform.clock(),
    ...(deps.serviceClient ? { serviceClient: deps.serviceClient } : {}),
    ...(deps.sts ? { sts: deps.sts } : {}),
    ...(deps.vault ? { vault: { vault: deps.vault, returnUrl: deps.vaultReturnUrl ?? `${platform.baseUrl}/` } } : {}),
  });
}

/** One gateway: inbound authorizer, targets, Cedar policy (default file written on first start), outbound credentials, endpoint. */
async function buildGateway(context: GatewayContext, config: GatewayConfig): Promise<ServedGateway> {
  const closers = new Closers();
  try {
    const { platform, logger } = context;
    const live = context.deps.perimeter?.(config);
    const authorizer = buildAuthorizer(context, config, live);
    closers.add(() => authorizer.close());
    const targets = await buildTargets(context, config, closers);
    const paths = gatewayPaths(config.name);
    const resourceUrl = `${platform.baseUrl}${paths[0]}`;
    const policy = openPolicy(context, config);
    const credentials = buildCredentials(context, config);
    closers.add(() => credentials.close());
    const catalog = new ToolCatalog(targets, config.exposeUnprefixed, logger);
    const dispatcher = new ToolDispatcher({ gatewayName: config.name, resourceUrl, catalog, policy, credentials, audit: context.audit, logger, now: () => platform.clock() });
    const openSessions = context.openSessions.get(config.name) ?? context.openSessions.set(config.name, new Set()).get(config.name);
    const endpoint = new GatewayEndpoint({
      config, resourceUrl, baseUrl: platform.baseUrl, authorizer, dispatcher, store: platform.store, logger, audit: context.audit, now: () => platform.clock(),
      liveClients: live?.clients, liveOrigins: live?.origins, openSessions,
    });
    return { endpoint, paths, url: resourceUrl, close: () => closers.close() };
  } catch (error) {
    await closers.close();
    throw error;
  }
}

const metadataPath = (routePath: string): string => `/.well-known/oauth-protected-resource${routePath}`;

/** The gateways served now, by name, and their endpoints by path (MCP and protected-resource metadata). */
class GatewayRoutes {
  readonly served = new Map<string, ServedGateway>();
  readonly #mcp = new Map<string, GatewayEndpoint>();
  readonly #metadata = new Map<string, GatewayEndpoint>();

  /** Serves `gateway` at its paths, in place of what served them before (returned, for the caller to close). */
  mount(gateway: ServedGateway): ServedGateway | undefined {
    const previous = this.served.get(gateway.endpoint.name);
    this.served.set(gateway.endpoint.name, gateway);
    for (const routePath of gateway.paths) {
      this.#mcp.set(routePath, gateway.endpoint);
      this.#metadata.set(metadataPath(routePath), gateway.endpoint);
    }
    return previous;
  }

  unmount(name: string): ServedGateway | undefined {
    const gateway = this.served.get(name);
    if (!gateway) return undefined;
    this.served.delete(name);
    for (const routePath of gateway.paths) {
      this.#mcp.delete(routePath);
      this.#metadata.delete(metadataPath(routePath));
    }
    return gateway;
  }

  async handle(request: IncomingMessage, response: ServerResponse, url: URL): Promise<boolean> {
    const pathname = url.pathname.length > 1 ? url.pathname.replace(/\/$/, '') : url.pathname;
    const endpoint = this.#mcp.get(pathname);
    if (endpoint) {
      await endpoint.handle(request, response, url);
      return true;
    }
    const described = this.#metadata.get(pathname);
    if (!described) return false;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      sendWire(response, new GatewayError('MethodNotAllowed', 'Use GET for protected resource metadata', { headers: { allow: 'GET' } }).toResponse());
      return true;
    }
    await described.serveMetadata(response);
    return true;
  }
}

async function openContext(platform: Platform, deps: GatewayDeps): Promise<GatewayContext> {
  const logger = platform.logger.child({ component: 'gateway' });
  const audit = await AuditLog.open({ dataDir: platform.dataDir, database: platform.config.database, onFlushError: (error) => logger.error({ err: error instanceof Error ? redactText(error.message) : 'non-error thrown' }, 'audit write failed; rows kept queued') });
  return { platform, deps, logger, audit, box: SealedBox.fromDataDir(platform.dataDir), openSessions: new Map() };
}

/**
 * Builds every configured gateway: inbound authorizer, targets, Cedar policy (default file written
 * on first start), outbound credentials, audit log. Fails at start on any bad setting, never per request.
 * Gateways created later (the control plane's) are added, replaced and removed while serving.
 */
export async function createGateway(platform: Platform, deps: GatewayDeps): Promise<GatewayService> {
  const context = await openContext(platform, deps);
  const routes = new GatewayRoutes();
  try {
    for (const config of deps.gateways ?? platform.config.gateways ?? []) routes.mount(await buildGateway(context, config));
  } catch (error) {
    for (const gateway of routes.served.values()) await gateway.close();
    await context.audit.close();
    throw error;
  }
  return {
    name: 'gateway',
    get gateways() {
      return [...routes.served.values()].map((gateway) => ({ name: gateway.endpoint.name, url: gateway.url }));
    },
    async addGateway(config: GatewayConfig): Promise<{ url: string }> {
      // Built completely before it replaces anything: a bad setting leaves the gateway served as before.
      const gateway = await buildGateway(context, config);
      // The same name keeps its MCP sessions (bound in the shared store): clients see the new tool list on their next tools/list.
      await routes.mount(gateway)?.close();
      return { url: gateway.url };
    },
    async removeGateway(name: string): Promise<void> {
      const gateway = routes.unmount(name);
      if (!gateway) return;
      await gateway.endpoint.endSessions();
      context.openSessions.delete(name);
      await gateway.close();
    },
    handle: (request, response, url) => routes.handle(request, response, url),
    async close(): Promise<void> {
      for (const gateway of [...routes.served.values()].reverse()) await gateway.close();
      routes.served.clear();
      await context.audit.close().catch(() => undefined);
    },
  };
}
