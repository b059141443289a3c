import type { IncomingMessage, ServerResponse } from 'node:http';
import { isClientClosed, type Logger } from '@gatehouse/core';
import type { CorsPolicy } from './cors-policy.ts';
import { endRequestTrace, startRequestTrace } from './invocation-trace.ts';
import { CLIENT_CLOSED } from './proxy-invocation.ts';
import { RuntimeError } from './runtime-error.ts';
import { isMcpSessionMethod, publicInvocationsUrl, refuseMcpSessionMethod, serveProtectedResource, wellKnownRoute, type WellKnownDocument } from './runtime-protocols.ts';
import type { RuntimeRegistry } from './runtime-registry.ts';
import type { RuntimeCall, RuntimeRequest, RuntimeSteps } from './runtime-steps.ts';

const ALLOWED_METHODS: Record<string, string> = { invocations: 'POST', ws: 'GET', stopruntimesession: 'POST' };

export interface RuntimeHttpParts {
  readonly steps: RuntimeSteps;
  readonly registry: RuntimeRegistry;
  readonly cors: CorsPolicy;
  readonly logger: Logger;
  /** Gatehouse's public base URL (protected-resource metadata points back through it). */
  readonly baseUrl: string;
}

/**
 * The runtime's HTTP entry: route → OPTIONS or the action's steps (runtime-steps.ts) → record (the
 * request's trace and one log line). Keeps the in-flight set that `drain` waits for on close.
 */
export class RuntimeHttp {
  readonly #parts: RuntimeHttpParts;
  readonly #inFlight = new Set<Promise<unknown>>();
  #closing = false;

  constructor(parts: RuntimeHttpParts) {
    this.#parts = parts;
  }

  get closing(): boolean {
    return this.#closing;
  }

  async handle(request: IncomingMessage, response: ServerResponse, url: URL): Promise<boolean> {
    if (!url.pathname.startsWith('/runtimes/')) return false;
    const { registry, cors, steps } = this.#parts;
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
      status = await this.#dispatch(call, route.action, wellKnown?.document);
    } catch (error) {
      if (isClientClosed(error, request)) {
        // Nobody is left to answer: one access line (below, "client closed"), no error and no stack.
        status = CLIENT_CLOSED;
        response.destroy();
      } else {
        status = steps.sendError(call ?? { response, log, corsHeaders: {} }, error);
      }
    }
    this.#record(call ?? { log, trace: undefined }, status, started);
    return true;
  }

  /** Stops accepting and waits for in-flight requests, at most `timeoutMs`. */
  async drain(timeoutMs: number): Promise<void> {
    this.#closing = true;
    const deadline = new Promise((resolve) => setTimeout(resolve, timeoutMs).unref());
    await Promise.race([Promise.allSettled([...this.#inFlight]), deadline]);
  }

  /** Route → method → the action's steps (or a well-known document of the runtime); resolves with the status sent. */
  async #dispatch(call: RuntimeCall, action: string, document: WellKnownDocument | undefined): Promise<number> {
    const { steps } = this.#parts;
    steps.origin(call);
    const { request, runtime } = call;
    // MCP clients send GET (listen) and DELETE (end session) to the endpoint: answered 405, not 404.
    if (document === undefined && isMcpSessionMethod(runtime, action, request.method)) return refuseMcpSessionMethod(runtime, call.response, call.corsHeaders);
    if (request.method !== (document ? 'GET' : ALLOWED_METHODS[action])) {
      throw new RuntimeError('ResourceNotFoundException', `${request.method ?? ''} is not supported on /${action}; use ${ALLOWED_METHODS[action]}${action === 'ws' ? ' with Upgrade: websocket' : ''}.`);
    }
    if (action === 'ws') throw new RuntimeError('ValidationException', 'The /ws endpoint needs a WebSocket upgrade (Connection: Upgrade, Upgrade: websocket).', { reason: 'CannotParse' });
    if (this.#closing) throw new RuntimeError('ServiceUnavailableException', 'The runtime is shutting down; retry on another instance.');
    if (document === 'protected-resource') {
      return serveProtectedResource(runtime, call.response, { publicUrl: publicInvocationsUrl(this.#parts.baseUrl, runtime, call.url), responseHeaders: call.corsHeaders });
    }
    call.agentCard = document === 'agent-card';
    const work = action === 'invocations' ? steps.invoke(call) : steps.stopSession(call);
    this.#inFlight.add(work);
    try {
      return await work;
    } finally {
      this.#inFlight.delete(work);
    }
  }

  /** The last step: the trace ends and, when its level is on, the request's one log line is written. */
  #record(call: Pick<RuntimeRequest, 'log' | 'trace'>, status: number, started: number): void {
    const { log } = call;
    const { logger } = this.#parts;
    endRequestTrace(call.trace, status, typeof log.errorType === 'string' ? log.errorType : undefined);
    // `log` is this request's own object: completed in place, and only when the line will be written.
    if (!(status >= 500 ? logger.isLevelEnabled('warn') : logger.isLevelEnabled('info'))) return;
    log.status = status;
    log.durationMs = Math.round((performance.now() - started) * 100) / 100;
    if (status >= 500) logger.warn(log, 'runtime request');
    else logger.info(log, status === CLIENT_CLOSED ? 'runtime request (client closed)' : 'runtime request');
  }
}
