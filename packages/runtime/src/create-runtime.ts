import { randomUUID } from 'node:crypto';
import type { HttpComponent, Platform, RuntimeConfig } from '@gatehouse/core';
import { checkHeaderAllowlists } from './check-header-allowlist.ts';
import { CorsPolicy } from './cors-policy.ts';
import { ForwardingSeal } from './forwarding-seal.ts';
import { InboundAuth } from './inbound-auth.ts';
import { RateLimiter } from './rate-limiter.ts';
import { RuntimeHttp } from './runtime-http.ts';
import { RuntimeRegistry, configuredOrigins, createEntry, type PerimeterSource } from './runtime-registry.ts';
import { RuntimeSteps } from './runtime-steps.ts';
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

/**
 * The AgentCore Runtime data plane as one HttpComponent. The request path is a list of named steps
 * (runtime-steps.ts): route → origin → authenticate → admit → place the session → workload token →
 * forward → record; HTTP requests enter through runtime-http.ts, WebSocket upgrades take the same
 * steps (runtime-upgrades.ts). This function wires the parts and the service's lifecycle.
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
  const http = new RuntimeHttp({ steps, registry, cors, logger, baseUrl: platform.baseUrl });
  const upgrades = new RuntimeUpgrades({ steps, sessions, registry, sockets, logger, clock: platform.clock, closing: () => http.closing });

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
      const main = createEntry({ name: runtime.id, arn: runtime.arn }, runtime.config, { origins: originsOf(runtime.config) });
      const endpoints = new Map([...runtime.endpoints].map(([qualifier, config]) => [qualifier, createEntry({ name: `${runtime.id}.${qualifier}`, arn: runtime.arn }, config, { origins: originsOf(config) })] as const));
      registry.add(main, [runtime.id], endpoints);
      for (const entry of [main, ...endpoints.values()]) {
        auth.add(entry);
        sessions.add(entry);
      }
      logger.info({ runtime: runtime.id, endpoints: [...endpoints.keys()] }, 'runtime added');
    },
    removeRuntime,
    handle: (request, response, url) => http.handle(request, response, url),
    upgrade: (request, socket, head, url) => upgrades.upgrade(request, socket, head, url),
    sweep: () => sessions.sweep(),
    get sessionCount() {
      return sessions.size;
    },
    stats: () => sessions.stats(),
    async close() {
      await http.drain(options.drainTimeoutMs ?? 10_000);
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
