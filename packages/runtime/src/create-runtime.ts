import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { BodyTooLargeError, StoreUnavailableError, isClientClosed, isWireError, type HttpComponent, type Platform, type RuntimeConfig } from '@gatehouse/core';
import { agentHeaders, customHeadersFromQuery } from './agent-headers.ts';
import { checkHeaderAllowlists } from './check-header-allowlist.ts';
import { checkPayloadDepth } from './check-payload-depth.ts';
import { CorsPolicy } from './cors-policy.ts';
import { FORWARDED_HEADER, forwardToInstance } from './forward-to-instance.ts';
import { ForwardingSeal } from './forwarding-seal.ts';
import { InboundAuth, type Caller } from './inbound-auth.ts';
import { annotateRequestTrace, endRequestTrace, startHop, startRequestTrace, type RequestTrace } from './invocation-trace.ts';
import { CLIENT_CLOSED, proxyInvocation } from './proxy-invocation.ts';
import { RateLimiter } from './rate-limiter.ts';
import { readPayload } from './read-payload.ts';
import { RuntimeError, validationError } from './runtime-error.ts';
import {
  PROTECTED_RESOURCE_PATH,
  checkAgentCardProtocol,
  checkProtocolRequest,
  checkWebSocketProtocol,
  isMcpSessionMethod,
  protocolHop,
  protocolSessionId,
  publicInvocationsUrl,
  refuseMcpSessionMethod,
  serveAgentCard,
  serveProtectedResource,
  wellKnownRoute,
  withResourceMetadata,
} from './runtime-protocols.ts';
import { RuntimeRegistry, configuredOrigins, createEntry, type PerimeterSource, type RuntimeEntry } from './runtime-registry.ts';
import { SESSION_HEADER, checkSessionId, resolveSessionId } from './session-id.ts';
import { SessionManager, type RuntimeStats, type Session } from './session-manager.ts';
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

/** One routed, CORS-checked request on its way to invoke or stopruntimesession. */
interface RuntimeRequest {
  readonly runtime: RuntimeEntry;
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly url: URL;
  readonly corsHeaders: Record<string, string>;
  /** This request's log line, completed in place. */
  readonly log: Record<string, unknown>;
  readonly trace: RequestTrace | undefined;
  /** GetAgentCard (`GET …/invocations/.well-known/agent-card.json`) rather than an invocation. */
  readonly agentCard?: boolean;
}

const ALLOWED_METHODS: Record<string, string> = { invocations: 'POST', ws: 'GET', stopruntimesession: 'POST' };

/**
 * The AgentCore Runtime data plane as one HttpComponent: route → CORS → authenticate → session
 * id → rate limit → payload → place the session → workload token → proxy. Each step is its own module.
 */
export function buildRuntime(platform: Platform, options: RuntimeFactoryOptions): RuntimeService & RuntimeInternals {
  checkHeaderAllowlists(platform.config);
  const logger = platform.logger.child({ component: 'runtime' });
  const baseOrigin = safeOrigin(platform.baseUrl);
  const registry = new RuntimeRegistry(platform.config, baseOrigin, options.perimeter);
  const auth = new InboundAuth(platform, registry.entries, { sigv4: options.sigv4, isRevoked: options.isRevoked, fetch: options.fetch, logger });
  const cors = new CorsPolicy();
  const limiter = new RateLimiter(platform.store);
  const workloadTokens = new WorkloadTokens({ issuer: options.workloadIdentity, exchange: options.tokenExchange }, options.defaultWorkloadAudience, platform.clock, logger, registry.entries);
  const forwardingSeal = new ForwardingSeal(platform.store, platform.clock);
  const sessions = new SessionManager(platform, registry.entries, {
    instanceId: options.instanceUrl ?? `instance-${randomUUID()}`,
    instanceUrl: options.instanceUrl,
    reapIntervalMs: options.reapIntervalMs ?? 5000,
  });
  const sockets = new WebSocketProxy();
  const inFlight = new Set<Promise<unknown>>();
  let closing = false;

  function sendError(response: ServerResponse, error: unknown, extraHeaders: Readonly<Record<string, string>>, context: Record<string, unknown>): number {
    const wire = toRuntimeError(error, context);
    // The request's log line (and its trace) name the wire error the caller got.
    context.errorType = wire.code;
    const { status, headers, body } = wire.toResponse();
    if (response.headersSent) {
      response.destroy();
      return status;
    }
    response.writeHead(status, { ...headers, ...extraHeaders, 'content-length': Buffer.byteLength(body) });
    response.end(body);
    return status;
  }

  function toRuntimeError(error: unknown, context: Record<string, unknown>): RuntimeError {
    if (error instanceof RuntimeError) return error;
    if (error instanceof BodyTooLargeError) {
      return new RuntimeError('ValidationException', `The payload exceeds ${error.limit} bytes (limits.maxPayloadBytes of this runtime).`, {
        reason: 'FieldValidationFailed',
        fieldList: [{ name: 'payload', message: `must be at most ${error.limit} bytes` }],
      });
    }
    if (error instanceof StoreUnavailableError) return new RuntimeError('ServiceUnavailableException', 'Session state is temporarily unavailable; retry shortly.');
    if (isWireError(error)) return new RuntimeError(error.status >= 500 ? 'InternalServerException' : 'AccessDeniedException', error.expose ? error.message : 'Internal error');
    logger.error({ err: error, ...context }, 'runtime request failed');
    return new RuntimeError('InternalServerException', 'Internal error; the request was not completed. Retry, and report it if it persists.');
  }

  async function payload(runtime: RuntimeEntry, request: IncomingMessage): Promise<Buffer> {
    return readPayload(request, runtime.config.limits.maxPayloadBytes);
  }

  async function invoke({ runtime, request, response, url, corsHeaders, log, trace, agentCard }: RuntimeRequest): Promise<number> {
    let body = runtime.method === 'SigV4' ? await payload(runtime, request) : undefined;
    const caller = await auth.authenticate(runtime, request, url, body, false).catch((error: unknown) => {
      throw withResourceMetadata(error, publicInvocationsUrl(platform.baseUrl, runtime, url, PROTECTED_RESOURCE_PATH));
    });
    log.principal = caller.label;
    const named = singleHeader(request, SESSION_HEADER);
    const fallback = named === undefined ? protocolSessionId(runtime, request.headers) : undefined;
    const { sessionId } = resolveSessionId(named ?? fallback?.value, fallback?.field);
    log.session = sessionId;
    annotateRequestTrace(trace, { 'gatehouse.session.id': sessionId });
    // A request another instance forwarded here was already counted there: count each invocation once.
    const forwarded = request.headers[FORWARDED_HEADER] !== undefined && (await forwardingSeal.verify(request.headers[FORWARDED_HEADER], sessionId));
    if (!forwarded) await limiter.check(runtime, caller.owner);
    body ??= await payload(runtime, request);
    checkPayloadDepth(runtime, request, body);
    if (agentCard) checkAgentCardProtocol(runtime);
    else checkProtocolRequest(runtime, request.headers, body);
    let placement = await sessions.acquire(runtime, sessionId, caller.owner, !forwarded);
    if (placement.kind === 'remote') {
      if (await forwardToInstance(placement.url, request, body, response, await forwardingSeal.sign(sessionId), trace)) return response.statusCode;
      placement = await sessions.acquire(runtime, sessionId, caller.owner, false);
      if (placement.kind === 'remote') throw new Error('unreachable: local placement was requested');
    }
    const session = placement.session;
    try {
      const workloadAccessToken = await workloadTokens.forCaller(runtime, caller);
      const headers = agentHeaders(runtime, request.headers, { sessionId, requestId: randomUUID(), userId: caller.userId, workloadAccessToken });
      const hop = startHop(trace, 'agent /invocations', { 'gatehouse.runtime.name': runtime.name, 'gatehouse.session.id': sessionId }, headers);
      if (agentCard) return await serveAgentCard({ runtime, session, headers, response, responseHeaders: corsHeaders, publicUrl: publicInvocationsUrl(platform.baseUrl, runtime, url), trace: hop });
      const protocol = protocolHop(runtime, sessionId, request.headers, headers);
      return await proxyInvocation({
        path: protocol.path,
        checkAnswer: protocol.checkAnswer,
        session,
        headers,
        trace: hop,
        body,
        response,
        responseHeaders: { ...protocol.responseHeaders, ...corsHeaders },
        onAgentFailure: () => void sessions.end(session, 'agent failure'),
        sendError: (error) => sendError(response, error, { [SESSION_HEADER]: sessionId, ...corsHeaders }, log),
      });
    } finally {
      sessions.release(session);
    }
  }

  async function stopSession({ runtime, request, response, url, corsHeaders, log, trace }: RuntimeRequest): Promise<number> {
    const body = await payload(runtime, request);
    const caller = await auth.authenticate(runtime, request, url, body, false);
    log.principal = caller.label;
    const sessionId = singleHeader(request, SESSION_HEADER);
    if (sessionId === undefined) throw validationError('runtimeSessionId', `${SESSION_HEADER} is required to stop a session`);
    checkSessionId(sessionId);
    log.session = sessionId;
    annotateRequestTrace(trace, { 'gatehouse.session.id': sessionId });
    const forwarded = request.headers[FORWARDED_HEADER] !== undefined && (await forwardingSeal.verify(request.headers[FORWARDED_HEADER], sessionId));
    if (!forwarded) await limiter.check(runtime, caller.owner);
    const placement = await sessions.locate(runtime, sessionId, caller.owner);
    if (placement.kind === 'remote' && !forwarded) {
      if (await forwardToInstance(placement.url, request, body, response, await forwardingSeal.sign(sessionId), trace)) return response.statusCode;
    }
    if (placement.kind !== 'local') throw new RuntimeError('ResourceNotFoundException', `Session ${sessionId} is not running on ${runtime.name}.`);
    await sessions.end(placement.session, 'stopruntimesession');
    const answer = '{}';
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': 2, [SESSION_HEADER]: sessionId, ...corsHeaders });
    response.end(answer);
    return 200;
  }

  /** The operation a routed request names: an invocation, stopruntimesession, or a well-known document of the runtime. */
  async function dispatch(call: RuntimeRequest, action: string, document: 'agent-card' | 'protected-resource' | undefined): Promise<number> {
    if (document === 'protected-resource') {
      return serveProtectedResource(call.runtime, call.response, { publicUrl: publicInvocationsUrl(platform.baseUrl, call.runtime, call.url), responseHeaders: call.corsHeaders });
    }
    return action === 'invocations' ? invoke(call) : stopSession(call);
  }

  async function handle(request: IncomingMessage, response: ServerResponse, url: URL): Promise<boolean> {
    if (!url.pathname.startsWith('/runtimes/')) return false;
    const started = performance.now();
    const log: Record<string, unknown> = { method: request.method, path: url.pathname };
    let corsHeaders: Record<string, string> = {};
    let status: number;
    let trace: RequestTrace | undefined;
    try {
      const wellKnown = wellKnownRoute(url);
      const route = registry.route(wellKnown?.routed ?? url);
      if (!route) return false;
      const { runtime, action } = route;
      log.runtime = runtime.name;
      const origin = request.headers.origin;
      if (request.method === 'OPTIONS') {
        cors.preflight(runtime, request, response);
        return true;
      }
      trace = startRequestTrace(runtime, request.headers, action);
      if (!cors.originAllowed(runtime, origin)) {
        throw new RuntimeError('AccessDeniedException', `Origin ${JSON.stringify(origin?.slice(0, 200))} is not in allowedOrigins of runtime ${runtime.name}.`);
      }
      corsHeaders = cors.responseHeaders(runtime, origin);
      const mcpSessionMethod = isMcpSessionMethod(runtime, action, request.method) && !wellKnown;
      if (!mcpSessionMethod && request.method !== (wellKnown ? 'GET' : ALLOWED_METHODS[action])) {
        throw new RuntimeError('ResourceNotFoundException', `${request.method ?? ''} is not supported on /${action}; use ${ALLOWED_METHODS[action]}${action === 'ws' ? ' with Upgrade: websocket' : ''}.`);
      }
      if (action === 'ws') throw new RuntimeError('ValidationException', 'The /ws endpoint needs a WebSocket upgrade (Connection: Upgrade, Upgrade: websocket).', { reason: 'CannotParse' });
      if (closing) throw new RuntimeError('ServiceUnavailableException', 'The runtime is shutting down; retry on another instance.');
      const call: RuntimeRequest = { runtime, request, response, url, corsHeaders, log, trace, agentCard: wellKnown?.document === 'agent-card' };
      const work = mcpSessionMethod ? Promise.resolve(refuseMcpSessionMethod(runtime, response, corsHeaders)) : dispatch(call, action, wellKnown?.document);
      inFlight.add(work);
      try {
        status = await work;
      } finally {
        inFlight.delete(work);
      }
    } catch (error) {
      if (isClientClosed(error, request)) {
        // Nobody is left to answer: one access line (below, "client closed"), no error and no stack.
        status = CLIENT_CLOSED;
        response.destroy();
      } else {
        status = sendError(response, error, corsHeaders, log);
        if (error instanceof BodyTooLargeError) request.resume();
      }
    }
    endRequestTrace(trace, status, typeof log.errorType === 'string' ? log.errorType : undefined);
    // `log` is this request's own object: completed in place, and only when the line will be written.
    if (status >= 500 ? logger.isLevelEnabled('warn') : logger.isLevelEnabled('info')) {
      log.status = status;
      log.durationMs = Math.round((performance.now() - started) * 100) / 100;
      if (status >= 500) logger.warn(log, 'runtime request');
      else logger.info(log, status === CLIENT_CLOSED ? 'runtime request (client closed)' : 'runtime request');
    }
    return true;
  }

  function rejectUpgrade(socket: Duplex, error: unknown, log: Record<string, unknown>, trace?: RequestTrace): void {
    const runtimeError = toRuntimeError(error, log);
    const wire = runtimeError.toResponse();
    endRequestTrace(trace, wire.status, runtimeError.code);
    logger.info({ ...log, status: wire.status }, 'runtime websocket refused');
    if (socket.destroyed) return;
    const headers = Object.entries({ ...wire.headers, 'content-length': String(Buffer.byteLength(wire.body)), connection: 'close' })
      .map(([name, value]) => `${name}: ${value}`)
      .join('\r\n');
    socket.end(`HTTP/1.1 ${wire.status} ${STATUS_CODES[wire.status] ?? 'Error'}\r\n${headers}\r\n\r\n${wire.body}`);
  }

  async function upgradeAsync(runtime: RuntimeEntry, request: IncomingMessage, socket: Duplex, head: Buffer, url: URL, log: Record<string, unknown>, trace: RequestTrace | undefined): Promise<void> {
    const origin = request.headers.origin;
    // Browsers do not apply CORS to WebSockets, so the Origin check here is the only guard.
    if (!cors.originAllowed(runtime, origin)) {
      throw new RuntimeError('AccessDeniedException', `Origin ${JSON.stringify(origin?.slice(0, 200))} is not in allowedOrigins of runtime ${runtime.name}.`);
    }
    if (closing) throw new RuntimeError('ServiceUnavailableException', 'The runtime is shutting down; retry on another instance.');
    checkWebSocketProtocol(runtime);
    const caller: Caller = await auth.authenticate(runtime, request, url, undefined, true);
    log.principal = caller.label;
    const { sessionId } = resolveSessionId(url.searchParams.get(SESSION_HEADER) ?? url.searchParams.get('X-Amzn-Bedrock-AgentCore-Runtime-Session-Id') ?? singleHeader(request, SESSION_HEADER));
    log.session = sessionId;
    annotateRequestTrace(trace, { 'gatehouse.session.id': sessionId });
    await limiter.check(runtime, caller.owner);
    const placement = await sessions.acquire(runtime, sessionId, caller.owner, false);
    if (placement.kind !== 'local') throw new Error('unreachable: local placement was requested');
    const session: Session = placement.session;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      sessions.release(session);
    };
    try {
      const workloadAccessToken = await workloadTokens.forCaller(runtime, caller);
      const headers = agentHeaders(
        runtime,
        request.headers,
        { sessionId, requestId: randomUUID(), userId: caller.userId, workloadAccessToken },
        customHeadersFromQuery(runtime, url.searchParams),
      );
      delete headers['content-type'];
      delete headers.accept;
      const hop = startHop(trace, 'agent /ws', { 'gatehouse.runtime.name': runtime.name, 'gatehouse.session.id': sessionId }, headers);
      sockets.link({
        runtime,
        session,
        request,
        socket,
        head,
        agentHeaders: headers,
        acceptedProtocol: caller.acceptedProtocol,
        responseHeaders: { [SESSION_HEADER]: sessionId, ...cors.responseHeaders(runtime, origin) },
        onAgentFailure: () => void sessions.end(session, 'agent failure'),
        now: platform.clock,
        reject: (error) => rejectUpgrade(socket, error, log, trace),
        trace: { request: trace, hop },
        onClosed: ({ opened, code }) => {
          release();
          if (opened) logger.info({ ...log, code }, 'runtime websocket closed');
        },
      });
    } catch (error) {
      release();
      throw error;
    }
  }

  function upgrade(request: IncomingMessage, socket: Duplex, head: Buffer, url: URL): boolean {
    if (!url.pathname.startsWith('/runtimes/')) return false;
    const log: Record<string, unknown> = { method: 'GET', path: url.pathname };
    let route;
    try {
      route = registry.route(url);
      if (!route) return false;
      if (route.action !== 'ws') throw new RuntimeError('ResourceNotFoundException', 'WebSocket connections go to /runtimes/{ARN or name}/ws.');
    } catch (error) {
      rejectUpgrade(socket, error, log);
      return true;
    }
    log.runtime = route.runtime.name;
    socket.on('error', () => socket.destroy());
    const trace = startRequestTrace(route.runtime, request.headers, 'ws');
    upgradeAsync(route.runtime, request, socket, head, url, log, trace).catch((error: unknown) => rejectUpgrade(socket, error, log, trace));
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
    upgrade,
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

function singleHeader(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  if (Array.isArray(value)) throw validationError(name, `Send ${name} once`);
  return value;
}

function safeOrigin(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}
