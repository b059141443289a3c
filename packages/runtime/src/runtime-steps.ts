import { randomUUID } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { failureFor, isWireError, type FailureTable, type Logger } from '@gatehouse/core';
import { agentHeaders } from './agent-headers.ts';
import { checkPayloadDepth } from './check-payload-depth.ts';
import type { CorsPolicy } from './cors-policy.ts';
import { FORWARDED_HEADER, forwardToInstance } from './forward-to-instance.ts';
import type { ForwardingSeal } from './forwarding-seal.ts';
import type { Caller, InboundAuth } from './inbound-auth.ts';
import { annotateRequestTrace, startHop, type RequestTrace } from './invocation-trace.ts';
import { proxyInvocation } from './proxy-invocation.ts';
import type { RateLimiter } from './rate-limiter.ts';
import { readPayload } from './read-payload.ts';
import { RuntimeError, validationError } from './runtime-error.ts';
import {
  PROTECTED_RESOURCE_PATH,
  checkAgentCardProtocol,
  checkProtocolRequest,
  protocolHop,
  protocolSessionId,
  publicInvocationsUrl,
  serveAgentCard,
  withResourceMetadata,
} from './runtime-protocols.ts';
import type { RuntimeEntry } from './runtime-registry.ts';
import { SESSION_HEADER, checkSessionId, resolveSessionId } from './session-id.ts';
import type { Session, SessionManager } from './session-manager.ts';
import type { WorkloadTokens } from './workload-tokens.ts';

/** The parts every step uses, built once per runtime service. */
export interface RuntimeParts {
  readonly auth: InboundAuth;
  readonly cors: CorsPolicy;
  readonly limiter: RateLimiter;
  readonly workloadTokens: WorkloadTokens;
  readonly forwardingSeal: ForwardingSeal;
  readonly sessions: SessionManager;
  readonly logger: Logger;
  /** Gatehouse's public base URL: protocol documents (agent card, protected-resource metadata) point back through it. */
  readonly baseUrl: string;
}

/**
 * One routed request on its way through the steps; each step reads what the earlier ones left here
 * (the caller, the session id, the body) instead of taking them as positional parameters.
 * A WebSocket upgrade is one too, without a `response` (its answer is the socket).
 */
export interface RuntimeRequest {
  readonly runtime: RuntimeEntry;
  readonly request: IncomingMessage;
  readonly url: URL;
  /** This request's log line, completed in place (and the request's outcome, `record`, at the end). */
  readonly log: Record<string, unknown>;
  readonly trace: RequestTrace | undefined;
  corsHeaders: Record<string, string>;
  body?: Buffer;
  caller?: Caller;
  sessionId?: string;
  /** Another instance forwarded it (sealed), so it was counted there. */
  forwarded?: boolean;
  /** GetAgentCard (`GET …/invocations/.well-known/agent-card.json`) rather than an invocation. */
  agentCard?: boolean;
}

/** An HTTP request (invoke, stopruntimesession) and its response. */
export interface RuntimeCall extends RuntimeRequest {
  readonly response: ServerResponse;
}

/**
 * The runtime's data plane as named steps: route (RuntimeRegistry) → origin → authenticate →
 * admit (forwarding seal, rate limit) → place the session → workload token → forward → record.
 * `invoke` and `stopSession` read as that list; the WebSocket path uses the same steps.
 */
export class RuntimeSteps {
  readonly #parts: RuntimeParts;

  constructor(parts: RuntimeParts) {
    this.#parts = parts;
  }

  /** POST /invocations. */
  async invoke(call: RuntimeCall): Promise<number> {
    if (call.runtime.method === 'SigV4') await this.readBody(call);
    await this.authenticate(call, false);
    this.sessionFromHeader(call, false);
    await this.admit(call);
    await this.readBody(call);
    checkPayloadDepth(call.runtime, call.request, call.body!);
    if (call.agentCard) checkAgentCardProtocol(call.runtime);
    else checkProtocolRequest(call.runtime, call.request.headers, call.body!);
    const session = await this.place(call);
    if (session === undefined) return call.response.statusCode;
    try {
      const headers = this.agentHeaders(call, await this.workloadToken(call));
      if (call.agentCard) return await this.agentCard(call, session, headers);
      return await this.forward(call, session, headers);
    } finally {
      this.#parts.sessions.release(session);
    }
  }

  /** POST /stopruntimesession. */
  async stopSession(call: RuntimeCall): Promise<number> {
    await this.readBody(call);
    await this.authenticate(call, false);
    this.sessionFromHeader(call, true);
    await this.admit(call);
    const { sessions } = this.#parts;
    const sessionId = call.sessionId!;
    const placement = await sessions.locate(call.runtime, sessionId, call.caller!.owner);
    if (placement.kind === 'remote' && !call.forwarded && (await this.#forwardToInstance(call, placement.url))) return call.response.statusCode;
    if (placement.kind !== 'local') throw new RuntimeError('ResourceNotFoundException', `Session ${sessionId} is not running on ${call.runtime.name}.`);
    await sessions.end(placement.session, 'stopruntimesession');
    call.response.writeHead(200, { 'content-type': 'application/json', 'content-length': 2, [SESSION_HEADER]: sessionId, ...call.corsHeaders });
    call.response.end('{}');
    return 200;
  }

  /** Origin: browsers send it; one not in allowedOrigins is refused (the only guard for WebSockets, which CORS does not cover). */
  origin(call: RuntimeRequest): void {
    const origin = call.request.headers.origin;
    if (!this.#parts.cors.originAllowed(call.runtime, origin)) {
      throw new RuntimeError('AccessDeniedException', `Origin ${JSON.stringify(origin?.slice(0, 200))} is not in allowedOrigins of runtime ${call.runtime.name}.`);
    }
    call.corsHeaders = this.#parts.cors.responseHeaders(call.runtime, origin);
  }

  async authenticate(call: RuntimeRequest, websocket: boolean): Promise<Caller> {
    const caller = await this.#parts.auth.authenticate(call.runtime, { request: call.request, url: call.url, body: call.body, websocket }).catch((error: unknown) => {
      // OAuth runtimes name their protected-resource metadata in WWW-Authenticate (MCP authorization).
      throw withResourceMetadata(error, publicInvocationsUrl(this.#parts.baseUrl, call.runtime, call.url, PROTECTED_RESOURCE_PATH));
    });
    call.caller = caller;
    call.log.principal = caller.label;
    return caller;
  }

  /**
   * The session id header: a new id when absent (invoke), required when stopping one. An invocation
   * without it may name its session the protocol's way (MCP's Mcp-Session-Id).
   */
  sessionFromHeader(call: RuntimeCall, required: boolean): void {
    const value = singleHeader(call.request, SESSION_HEADER);
    if (required && value === undefined) throw validationError('runtimeSessionId', `${SESSION_HEADER} is required to stop a session`);
    if (required) checkSessionId(value!);
    const fallback = required || value !== undefined ? undefined : protocolSessionId(call.runtime, call.request.headers);
    this.setSession(call, required ? value! : resolveSessionId(value ?? fallback?.value, fallback?.field).sessionId);
  }

  setSession(call: RuntimeRequest, sessionId: string): void {
    call.sessionId = sessionId;
    call.log.session = sessionId;
    if (call.trace) annotateRequestTrace(call.trace, { 'gatehouse.session.id': sessionId });
  }

  /** A request another instance forwarded here (sealed) was already counted there: each invocation counts once. */
  async admit(call: RuntimeCall): Promise<void> {
    const seal = call.request.headers[FORWARDED_HEADER];
    call.forwarded = seal !== undefined && (await this.#parts.forwardingSeal.verify(seal, call.sessionId!));
    if (!call.forwarded) await this.rateLimit(call);
  }

  /** The caller's requests-per-minute budget on this runtime (shared store: every instance counts). */
  rateLimit(call: RuntimeRequest): Promise<void> {
    return this.#parts.limiter.check(call.runtime, call.caller!.owner);
  }

  async readBody(call: RuntimeCall): Promise<Buffer> {
    call.body ??= await readPayload(call.request, call.runtime.config.limits.maxPayloadBytes);
    return call.body;
  }

  /**
   * The session's process here (started if it runs nowhere), or the request forwarded to the
   * instance that runs it (then undefined: the answer is already sent).
   */
  async place(call: RuntimeCall): Promise<Session | undefined> {
    const { sessions } = this.#parts;
    const owner = call.caller!.owner;
    let placement = await sessions.acquire(call.runtime, call.sessionId!, owner, !call.forwarded);
    if (placement.kind === 'remote') {
      if (await this.#forwardToInstance(call, placement.url)) return undefined;
      placement = await sessions.acquire(call.runtime, call.sessionId!, owner, false);
      if (placement.kind === 'remote') throw new Error('unreachable: local placement was requested');
    }
    return placement.session;
  }

  workloadToken(call: RuntimeRequest): Promise<string | undefined> {
    return this.#parts.workloadTokens.forCaller(call.runtime, call.caller!);
  }

  agentHeaders(call: RuntimeRequest, workloadAccessToken: string | undefined, extra?: ReadonlyMap<string, string>): OutgoingHttpHeaders {
    const identity = { sessionId: call.sessionId!, requestId: randomUUID(), userId: call.caller!.userId, workloadAccessToken };
    return agentHeaders(call.runtime, call.request.headers, identity, extra);
  }

  /** The agent hop: the protocol's path (POST /invocations, /mcp, /) on the agent's keep-alive pool, the answer streamed back. */
  forward(call: RuntimeCall, session: Session, headers: OutgoingHttpHeaders): Promise<number> {
    // Without a trace nothing is allocated for one (the attributes object included).
    const hop = call.trace && startHop(call.trace, 'agent /invocations', { 'gatehouse.runtime.name': call.runtime.name, 'gatehouse.session.id': session.id }, headers);
    const protocol = protocolHop(call.runtime, session.id, call.request.headers, headers);
    return proxyInvocation({
      path: protocol.path,
      checkAnswer: protocol.checkAnswer,
      session,
      headers,
      trace: hop,
      body: call.body!,
      response: call.response,
      responseHeaders: mergeHeaders(protocol.responseHeaders, call.corsHeaders),
      onAgentFailure: () => void this.#parts.sessions.end(session, 'agent failure'),
      sendError: (error) => this.sendError(call, error, { [SESSION_HEADER]: session.id }),
    });
  }

  /** GetAgentCard: the A2A agent's card, its URLs pointing back through Gatehouse. */
  agentCard(call: RuntimeCall, session: Session, headers: OutgoingHttpHeaders): Promise<number> {
    const hop = startHop(call.trace, 'agent /invocations', { 'gatehouse.runtime.name': call.runtime.name, 'gatehouse.session.id': session.id }, headers);
    const publicUrl = publicInvocationsUrl(this.#parts.baseUrl, call.runtime, call.url);
    return serveAgentCard({ runtime: call.runtime, session, headers, response: call.response, responseHeaders: call.corsHeaders, publicUrl, trace: hop });
  }

  async #forwardToInstance(call: RuntimeCall, instanceUrl: string): Promise<boolean> {
    const seal = await this.#parts.forwardingSeal.sign(call.sessionId!);
    return forwardToInstance({ instanceUrl, request: call.request, body: call.body ?? Buffer.alloc(0), response: call.response, seal, trace: call.trace });
  }

  /** The wire error for a failure (named in the request's log line); the status sent. */
  sendError(call: Pick<RuntimeCall, 'response' | 'corsHeaders' | 'log'>, error: unknown, extraHeaders?: Readonly<Record<string, string>>): number {
    const wire = this.toRuntimeError(error, call.log);
    call.log.errorType = wire.code;
    const { status, headers, body } = wire.toResponse();
    if (call.response.headersSent) {
      call.response.destroy();
      return status;
    }
    call.response.writeHead(status, { ...headers, ...extraHeaders, ...call.corsHeaders, 'content-length': Buffer.byteLength(body) });
    call.response.end(body);
    return status;
  }

  /** The one mapping from an internal failure to the runtime's wire error. */
  toRuntimeError(error: unknown, log: Record<string, unknown>): RuntimeError {
    if (error instanceof RuntimeError) return error;
    const failure = failureFor(RUNTIME_FAILURES, error);
    if (failure !== undefined) return failure;
    if (isWireError(error)) return new RuntimeError(error.status >= 500 ? 'InternalServerException' : 'AccessDeniedException', error.expose ? error.message : 'Internal error');
    this.#parts.logger.error({ err: error, ...log }, 'runtime request failed');
    return new RuntimeError('InternalServerException', 'Internal error; the request was not completed. Retry, and report it if it persists.');
  }
}

/** The runtime's one table of internal failures (core's failureFor); a new kind of failure is mapped here. */
const RUNTIME_FAILURES: FailureTable<RuntimeError> = {
  bodyTooLarge: (error) => new RuntimeError('ValidationException', `The payload exceeds ${error.limit} bytes (limits.maxPayloadBytes of this runtime).`, {
    reason: 'FieldValidationFailed',
    fieldList: [{ name: 'payload', message: `must be at most ${error.limit} bytes` }],
  }),
  storeUnavailable: () => new RuntimeError('ServiceUnavailableException', 'Session state is temporarily unavailable; retry shortly.'),
  timeout: () => new RuntimeError('ServiceUnavailableException', 'A service this runtime depends on did not answer in time; the request was not completed. Retry shortly.'),
};

export function singleHeader(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  if (Array.isArray(value)) throw validationError(name, `Send ${name} once`);
  return value;
}

/** Both header sets; no new object when one is empty (the common case: no protocol headers, or no CORS). */
function mergeHeaders(first: Readonly<Record<string, string>>, second: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  for (const _ in first) {
    for (const _other in second) return { ...first, ...second };
    return first;
  }
  return second;
}
