import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLargeError, isClientClosed, type HttpComponent, type Platform, type RuntimeConfig } from '@gatehouse/core';
import { checkHeaderAllowlists } from './check-header-allowlist.ts';
import { CorsPolicy } from './cors-policy.ts';
import { ForwardingSeal } from './forwarding-seal.ts';
import { InboundAuth } from './inbound-auth.ts';
import { endRequestTrace, startRequestTrace } from './invocation-trace.ts';
import { CLIENT_CLOSED } from './proxy-invocation.ts';
import { RateLimiter } from './rate-limiter.ts';
import { RuntimeError } from './runtime-error.ts';
import { isMcpSessionMethod, publicInvocationsUrl, refuseMcpSessionMethod, serveProtectedResource, wellKnownRoute, type WellKnownDocument } from './runtime-protocols.ts';
import { RuntimeRegistry, configuredOrigins, createEntry, type PerimeterSource } from './runtime-registry.ts';
import { RuntimeSteps, type RuntimeCall, type RuntimeRequest } from './runtime-steps.ts';
import { RuntimeUpgrades } from './runtime-upgrades.ts';
import { SessionManager, type RuntimeStats } from './session-manager.ts';
import type { SigV4Check } from './sigv4-check.ts';
import { WebSocketProxy } from './websocket-proxy.ts';
import { WorkloadTokens, type TokenExchangeSettings, type WorkloadTokenIssuer } from './workload-tokens.ts';

/** A runtime added while running (the control plane's): its DEFAULT configuration and its named endpoints'. */
export interface AddedRuntime {
  /** Its id, e.g. `shop_agent-a1B2c3D4e5`: the name in logs and metrics, and a path segment that reaches it. */
  readonly id: string;
  readonly arn: string;
  readonly config: RuntimeConfig;
  /** `?qualifier=PROD` → the configuration of the version PROD pins. */
  readonly endpoints: ReadonlyMap<string, RuntimeConfig>;
}

export interface RuntimeService extends HttpComponent {
  readonly runtimes: readonly { readonly name: string; readonly arn: string }[];
  /** Serves a runtime from now on, replacing an earlier one of the same id (whose sessions end). */
  addRuntime(runtime: AddedRuntime): Promise<void>;
  /** Stops serving a runtime added with `addRuntime`: its sessions end, invocations answer 404. */
  removeRuntime(id: string): Promise<void>;
  /** Sessions with a live agent on this instance and agent processes running (sessions + warm pool), per runtime: the metrics gauges. */
  stats(): ReadonlyMap<string, RuntimeStats>;
  /** Stops accepting, drains streams up to a deadline, ends every session's process. */
  close(): Promise<void>;
}

export interface RuntimeInternals {
  /** Runs the idle/lifetime reaper now (tests drive it with a frozen clock). */
  sweep(): Promise<void>;
  readonly sessionCount: number;
}

export interface RuntimeFactoryOptions {
  readonly sigv4: SigV4Check;
  readonly isRevoked?: ((claims: Record<string, unknown>) => Promise<boolean>) | undefined;
  readonly tokenExchange?: TokenExchangeSettings | undefined;
  readonly workloadIdentity?: WorkloadTokenIssuer | undefined;
  /** Live client and origin lists per runtime (identity's perimeter settings). */
  readonly perimeter?: PerimeterSource | undefined;
  /** Fetch for the authorizers' discovery/JWKS (Gatehouse's own issuer answered in-process). */
  readonly fetch?: typeof fetch | undefined;
  readonly defaultWorkloadAudience: string;
  readonly instanceUrl?: string | undefined;
  /** How often the reaper runs; default 5 s. */
  readonly reapIntervalMs?: number;
  /** How long close() lets in-flight requests finish; default 10 s. */
  readonly drainTimeoutMs?: number;
}

const ALLOWED_METHODS: Record<string, string> = { invocations: 'POST', ws: 'GET', stopruntimesession: 'POST' };

/**
 * The AgentCore Runtime data plane as one HttpComponent. The request path is a list of named steps
 * (runtime-steps.ts): route → origin → authenticate → admit → place the session → workload token →
 * forward → record; WebSocket upgrades take the same steps (runtime-upgrades.ts). This function wires
 * the parts, answers OPTIONS and keeps the in-flight set that close() drains.
 */
export function buildRuntime(platform: Platform, options: RuntimeFactoryOptions): RuntimeService & RuntimeInternals {
  checkHeaderAllowlists(platform.config);
  const logger = platform.logger.child({ component: 'runtime' });
  const baseOrigin = safeOrigin(platform.baseUrl);
  const registry = new RuntimeRegistry(platform.config, baseOrigin, options.perimeter);
  const auth = new InboundAuth(platform, registry.entries, { sigv4: options.sigv4, isRevoked: options.isRevoked, fetch: options.fetch, logger });
  const cors = new CorsPolicy();
  const sessions = new SessionManager(platform, registry.entries, {
    instanceId: options.instanceUrl ?? `instance-${randomUUID()}`,
    instanceUrl: options.instanceUrl,
    reapIntervalMs: options.reapIntervalMs ?? 5000,
  });
  const steps = new RuntimeSteps({
    auth,
    cors,
    sessions,
    logger,
    limiter: new RateLimiter(platform.store),
    workloadTokens: new WorkloadTokens({
      sources: { issuer: options.workloadIdentity, exchange: options.tokenExchange },
      defaultAudience: options.defaultWorkloadAudience,
      clock: platform.clock,
      logger,
      runtimes: registry.entries,
    }),
    forwardingSeal: new ForwardingSeal(platform.store, platform.clock),
    baseUrl: platform.baseUrl,
  });
  const sockets = new WebSocketProxy();
  const inFlight = new Set<Promise<unknown>>();
  let closing = false;
  const upgrades = new RuntimeUpgrades({ steps, sessions, registry, sockets, logger, clock: platform.clock, closing: () => closing });

  /** Route → method → the action's steps (or a well-known document of the runtime); resolves with the status sent. */
  async function dispatch(call: RuntimeCall, action: string, document: WellKnownDocument | undefined): Promise<number> {
    steps.origin(call);
    const { request, runtime } = call;
    // MCP clients send GET (listen) and DELETE (end session) to the endpoint: answered 405, not 404.
    if (document === undefined && isMcpSessionMethod(runtime, action, request.method)) return refuseMcpSessionMethod(runtime, call.response, call.corsHeaders);
    if (request.method !== (document ? 'GET' : ALLOWED_METHODS[action])) {
      throw new RuntimeError('ResourceNotFoundException', `${request.method ?? ''} is not supported on /${action}; use ${ALLOWED_METHODS[action]}${action === 'ws' ? ' with Upgrade: websocket' : ''}.`);
    }
    if (action === 'ws') throw new RuntimeError('ValidationException', 'The /ws endpoint needs a WebSocket upgrade (Connection: Upgrade, Upgrade: websocket).', { reason: 'CannotParse' });
    if (closing) throw new RuntimeError('ServiceUnavailableException', 'The runtime is shutting down; retry on another instance.');
    if (document === 'protected-resource') {
      return serveProtectedResource(runtime, call.response, { publicUrl: publicInvocationsUrl(platform.baseUrl, runtime, call.url), responseHeaders: call.corsHeaders });
    }
    call.agentCard = document === 'agent-card';
    const work = action === 'invocations' ? steps.invoke(call) : steps.stopSession(call);
    inFlight.add(work);
    try {
      return await work;
    } finally {
      inFlight.delete(work);
    }
  }

  /** The last step: the trace ends and, when its level is on, the request's one log line is written. */
  function record(call: Pick<RuntimeRequest, 'log' | 'trace'>, status: number, started: number): void {
    const { log } = call;
    endRequestTrace(call.trace, status, typeof log.errorType === 'string' ? log.errorType : undefined);
    // `log` is this request's own object: completed in place, and only when the line will be written.
    if (!(status >= 500 ? logger.isLevelEnabled('warn') : logger.isLevelEnabled('info'))) return;
    log.status = status;
    log.durationMs = Math.round((performance.now() - started) * 100) / 100;
    if (status >= 500) logger.warn(log, 'runtime request');
    else logger.info(log, status === CLIENT_CLOSED ? 'runtime request (client closed)' : 'runtime request');
  }

  async function handle(request: IncomingMessage, response: ServerResponse, url: URL): Promise<boolean> {
    if (!url.pathname.startsWith('/runtimes/')) return false;
    const started = performance.now();
    const log: Record<string, unknown> = { method: request.method, path: url.pathname };
    let call: RuntimeCall | undefined;
    let status: number;
    try {
      const wellKnown = wellKnownRoute(url);
      const route = registry.route(wellKnown?.routed ?? url);
      if (!route) return false;
      log.runtime = route.runtime.name;
      if (request.method === 'OPTIONS') {
        cors.preflight(route.runtime, request, response);
        return true;
      }
      call = { runtime: route.runtime, request, response, url, log, trace: startRequestTrace(route.runtime, request.headers, route.action), corsHeaders: {} };
      status = await dispatch(call, route.action, wellKnown?.document);
    } catch (error) {
      if (isClientClosed(error, request)) {
        // Nobody is left to answer: one access line (below, "client closed"), no error and no stack.
        status = CLIENT_CLOSED;
        response.destroy();
      } else {
        status = steps.sendError(call ?? { response, log, corsHeaders: {} }, error);
        if (error instanceof BodyTooLargeError) request.resume();
      }
    }
    record(call ?? { log, trace: undefined }, status, started);
    return true;
  }

  const originsOf = (config: RuntimeConfig): Set<string> => configuredOrigins(config, baseOrigin);

  async function removeRuntime(id: string): Promise<void> {
    for (const entry of registry.remove(id)) {
      auth.remove(entry.name);
      await sessions.remove(entry.name);
    }
  }

  return {
    name: 'runtime',
    get runtimes() {
      return registry.entries.map(({ name, arn }) => ({ name, arn }));
    },
    async addRuntime(runtime) {
      await removeRuntime(runtime.id);
      const main = createEntry(runtime.id, runtime.arn, runtime.config, originsOf(runtime.config));
      const endpoints = new Map([...runtime.endpoints].map(([qualifier, config]) => [qualifier, createEntry(`${runtime.id}.${qualifier}`, runtime.arn, config, originsOf(config))] as const));
      registry.add(main, [runtime.id], endpoints);
      for (const entry of [main, ...endpoints.values()]) {
        auth.add(entry);
        sessions.add(entry);
      }
      logger.info({ runtime: runtime.id, endpoints: [...endpoints.keys()] }, 'runtime added');
    },
    removeRuntime,
    handle,
    upgrade: (request, socket, head, url) => upgrades.upgrade(request, socket, head, url),
    sweep: () => sessions.sweep(),
    get sessionCount() {
      return sessions.size;
    },
    stats: () => sessions.stats(),
    async close() {
      closing = true;
      const deadline = new Promise((resolve) => setTimeout(resolve, options.drainTimeoutMs ?? 10_000).unref());
      await Promise.race([Promise.allSettled([...inFlight]), deadline]);
      sockets.close();
      await sessions.close();
      auth.close();
    },
  };
}

function safeOrigin(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}
