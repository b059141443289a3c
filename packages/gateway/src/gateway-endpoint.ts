import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import {
  SpanKind,
  endSpanWithStatus,
  extractTraceContext,
  failSpan,
  failureFor,
  publishAuthFailure,
  readBody,
  redactText,
  sendJson,
  sendWire,
  startSpan,
  tracingEnabled,
  withTraceContext,
  type FailureTable,
  type GatewayConfig,
  type Logger,
  type SharedStore,
  type TraceSpan,
} from '@gatehouse/core';
import { AuthError, readCredential, type AuthFailureReason } from '@gatehouse/auth';
import { callerKey, type Caller } from './caller.ts';
import { GatewayError } from './gateway-error.ts';
import type { AuditLog } from './audit-log.ts';
import { inspectMessage, requestIdOf, toolCallOf, type MessageInspection, type MessageRefusal } from './inspect-message.ts';
import type { McpExchange } from './mcp-exchange.ts';
import { JsonRpcFailure, toJsonRpcError } from './json-rpc-error.ts';
import { MAX_JSON_DEPTH, limitJsonDepth } from './limit-json-depth.ts';
import type { InboundAuthorizer } from './inbound-authorizer.ts';
import { protectedResourceMetadata, protectedResourceMetadataUrl } from './protected-resource-metadata.ts';
import { SessionBindings, type SessionTraits } from './session-binding.ts';
import { declaresUrlElicitation } from './consent-elicitation.ts';
import { answerToolCall } from './answer-tool-call.ts';
import { serveToolRequest } from './serve-tool-request.ts';
import { STATELESS_VERSION, serveStatelessRequest, type ServerInfo } from './stateless-revision.ts';
import type { ToolDispatcher } from './tool-dispatcher.ts';

export interface EndpointDeps {
  readonly config: GatewayConfig;
  /** Absolute URL of this gateway's MCP endpoint, e.g. `http://localhost:8080/mcp`. */
  readonly resourceUrl: string;
  readonly baseUrl: string;
  readonly authorizer: InboundAuthorizer;
  readonly dispatcher: ToolDispatcher;
  readonly store: SharedStore;
  readonly logger: Logger;
  /** Refused tokens are audited too (who, when possible, and the reason code). */
  readonly audit?: AuditLog | undefined;
  readonly now?: (() => number) | undefined;
  /** Live `allowedClients` (perimeter settings); a token without `aud` from one of these clients is meant for this gateway. */
  readonly liveClients?: { has(clientId: string): boolean } | undefined;
  /** Live `allowedOrigins` (perimeter settings), consulted besides Gatehouse's own origin. */
  readonly liveOrigins?: { has(origin: string): boolean } | undefined;
  /** Ids of the sessions opened here, shared by the endpoints that serve one gateway in turn (ended with it). */
  readonly openSessions?: Set<string> | undefined;
}

const SDK_VERSION = '0.1.0';

/**
 * The gateway's one table of internal failures (core's failureFor) for the HTTP level; a tool call's own failures
 * (its target's timeout included) are tool results, see tool-dispatcher.ts.
 */
const GATEWAY_FAILURES: FailureTable<GatewayError> = {
  bodyTooLarge: (error) => new GatewayError('RequestTooLarge', `Request body exceeds ${error.limit} bytes`),
  storeUnavailable: () => new GatewayError('StoreUnavailable', 'Session state is unavailable; retry shortly'),
};

/**
 * One schema validator for every per-request server: the SDK would otherwise build a new Ajv
 * (milliseconds of CPU) per request. It holds compiled schemas only, nothing of any caller.
 */
const sharedValidator = new AjvJsonSchemaValidator();

/**
 * One gateway's MCP Streamable HTTP endpoint. Each request, in order: Origin → bearer token →
 * audience → rate → body (size, nesting, prototype keys, tools/call params: refused alike on every
 * path) → session binding → tools/call and tools/list answered directly
 * (`serve-tool-request.ts`); anything else by a fresh SDK server + stateless transport for this
 * request only (never shared across callers: CVE-2026-25536).
 */
export class GatewayEndpoint {
  readonly name: string;
  readonly path: string;
  readonly resourceUrl: string;
  readonly metadataUrl: string;
  readonly metadataPath: string;
  readonly #deps: EndpointDeps;
  readonly #sessions: SessionBindings;
  readonly #allowedOrigins: { has(origin: string): boolean };
  readonly #openSessions: Set<string>;
  #issuer: Promise<string> | undefined;

  constructor(deps: EndpointDeps) {
    this.#deps = deps;
    this.name = deps.config.name;
    this.resourceUrl = deps.resourceUrl;
    this.path = new URL(deps.resourceUrl).pathname;
    this.metadataUrl = protectedResourceMetadataUrl(deps.resourceUrl);
    this.metadataPath = new URL(this.metadataUrl).pathname;
    this.#sessions = new SessionBindings(deps.store, deps.config.name, deps.now);
    this.#openSessions = deps.openSessions ?? new Set();
    const configured = new Set([new URL(deps.baseUrl).origin, ...deps.config.allowedOrigins.map((origin) => new URL(origin).origin)]);
    const live = deps.liveOrigins;
    this.#allowedOrigins = live ? { has: (origin) => configured.has(origin) || live.has(origin) } : configured;
  }

  /** Ends every session opened through this gateway on this instance (the gateway is going away). */
  async endSessions(): Promise<void> {
    for (const id of this.#openSessions) await this.#sessions.close(id).catch(() => undefined);
    this.#openSessions.clear();
  }

  #scopes(): readonly string[] {
    return this.#deps.config.authorizerConfiguration?.customJWTAuthorizer.allowedScopes ?? [];
  }

  #challenge(error?: 'invalid_token' | 'insufficient_scope' | 'invalid_request', description?: string): string {
    const parts: string[] = [];
    if (error) parts.push(`error="${error}"`);
    if (description) parts.push(`error_description="${description.replace(/["\\\r\n]/g, ' ')}"`);
    const scopes = this.#scopes();
    if (scopes.length > 0) parts.push(`scope="${scopes.join(' ')}"`);
    parts.push(`resource_metadata="${this.metadataUrl}"`);
    return `Bearer ${parts.join(', ')}`;
  }

  /** The issuer named in the PRM document: read from discovery once (so it is the issuer's own spelling). */
  issuer(): Promise<string> {
    const discoveryUrl = this.#deps.config.authorizerConfiguration?.customJWTAuthorizer.discoveryUrl;
    if (!discoveryUrl) return Promise.resolve(this.#deps.baseUrl);
    const fallback = discoveryUrl.replace(/\/\.well-known\/openid-configuration$/, '');
    if (!this.#issuer) {
      const loading = fetch(discoveryUrl, { signal: AbortSignal.timeout(5000) })
        .then(async (response) => {
          const document = (await response.json()) as { issuer?: unknown };
          if (!response.ok || typeof document.issuer !== 'string') throw new Error('discovery document without issuer');
          return document.issuer;
        });
      this.#issuer = loading;
      loading.catch(() => {
        if (this.#issuer === loading) this.#issuer = undefined;
      });
      return loading.catch(() => fallback);
    }
    return this.#issuer.catch(() => fallback);
  }

  async serveMetadata(response: ServerResponse): Promise<void> {
    const document = protectedResourceMetadata(this.resourceUrl, await this.issuer(), this.#scopes(), `Gatehouse MCP gateway ${this.name}`);
    sendJson(response, 200, document, { 'cache-control': 'max-age=300', 'access-control-allow-origin': '*' });
  }

  async handle(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    if (!tracingEnabled() && request.headers.traceparent === undefined) return this.#answer(request, response, url, undefined);
    // One SERVER span per MCP request, continuing the agent's tool-call span; the dispatcher's spans
    // and the outbound `traceparent` to targets read it as the active context.
    const server = startSpan(`MCP ${request.method ?? ''}`, SpanKind.SERVER, extractTraceContext(request.headers), {
      'http.request.method': request.method ?? '',
      'url.path': url.pathname,
      'gatehouse.gateway.name': this.name,
    });
    try {
      await withTraceContext(server.context, () => this.#answer(request, response, url, server.span));
    } finally {
      endSpanWithStatus(server.span, response.statusCode);
    }
  }

  async #answer(request: IncomingMessage, response: ServerResponse, url: URL, span: TraceSpan | undefined): Promise<void> {
    try {
      await this.#handle(request, response, url);
    } catch (error) {
      if (error instanceof GatewayError) {
        if (span) failSpan(span, error.code);
        sendWire(response, error.toResponse());
        return;
      }
      const failure = failureFor(GATEWAY_FAILURES, error);
      if (failure) {
        sendWire(response, failure.toResponse());
        return;
      }
      this.#deps.logger.error({ err: error instanceof Error ? { name: error.name, message: redactText(error.message) } : 'non-error thrown', gateway: this.name }, 'gateway request failed');
      sendWire(response, new GatewayError('InternalError', 'Internal error').toResponse());
    }
  }

  #checkOrigin(request: IncomingMessage): void {
    const origin = request.headers.origin;
    if (origin === undefined) return; // non-browser clients (agents, SDKs) send none
    if (!this.#allowedOrigins.has(origin)) throw new GatewayError('OriginNotAllowed', `Origin ${origin} may not call this gateway; add it to the gateway's allowedOrigins`);
  }

  /** A refused token: an info log line with the reason code and an audit row (the user only when the token itself was verified). */
  #recordRefusal(reason: AuthFailureReason | 'error', message: string, verified: { subject: string; issuer: string; clientId?: string | undefined } | undefined): void {
    this.#deps.logger.info({ gateway: this.name, reason, user: verified?.subject, clientId: verified?.clientId }, 'caller refused');
    this.#deps.audit?.record({
      time: new Date(this.#deps.now?.() ?? Date.now()).toISOString(),
      gateway: this.name,
      user: verified?.subject ?? '',
      issuer: verified?.issuer ?? '',
      clientId: verified?.clientId ?? '',
      session: '',
      tool: '',
      target: '',
      decision: 'refused',
      outcome: reason,
      durationMs: 0,
      detail: redactText(message).slice(0, 500),
    })
      // queued and retried; AuditLog's onFlushError logs the failure
      ?.catch(() => undefined);
  }

  /** The bearer token, read by `@gatehouse/auth`'s one bearer reader (one header, `Bearer` + one space + token). */
  #readToken(request: IncomingMessage, url: URL): string | undefined {
    if (url.searchParams.has('access_token')) throw new GatewayError('MalformedRequest', 'Send the token in the Authorization header, never in the query string', { challenge: this.#challenge('invalid_request') });
    let token: string | undefined;
    try {
      const credential = readCredential(request.headers, undefined, request.rawHeaders);
      if (credential.kind === 'none') return undefined;
      if (credential.kind === 'bearer') token = credential.token;
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
    }
    // A refused header (repeated, odd spacing, Basic) and a SigV4 signature get the same answer: the gateway takes bearer tokens.
    if (token === undefined) throw new GatewayError('Unauthorized', 'Send exactly one "Authorization: Bearer <access token>" header', { challenge: this.#challenge('invalid_request') });
    return token;
  }

  async #authenticate(request: IncomingMessage, url: URL): Promise<Caller> {
    const token = this.#readToken(request, url);
    if (!token) {
      publishAuthFailure({ component: 'gateway', reason: 'missing' });
      throw new GatewayError('Unauthorized', 'This MCP gateway needs an access token: sign in with the authorization server named in the resource metadata', { challenge: this.#challenge() });
    }
    let caller: Caller;
    try {
      caller = await this.#deps.authorizer.verify(token);
    } catch (error) {
      const failure = error as { code?: unknown; status?: unknown; message?: unknown; verified?: { subject: string; issuer: string; clientId?: string | undefined } };
      const reason: AuthFailureReason | 'error' = error instanceof AuthError ? error.code : 'error';
      publishAuthFailure({ component: 'gateway', reason });
      let message = typeof failure.message === 'string' ? failure.message : 'The access token was refused';
      // The fix for a client that is not allowed is the gateway's client list, not a scope or a group.
      if (reason === 'wrong_client') message += ` Gateway ${this.name} does not accept this app client: add it with \`gatehouse perimeter allow-client gateway:${this.name} <clientId>\` or to allowedClients.`;
      this.#recordRefusal(reason, message, failure.verified);
      if (failure.status === 503) throw new GatewayError('IssuerUnavailable', 'The token issuer cannot be reached to verify the token; retry shortly', { headers: { 'retry-after': '5' } });
      if (failure.code === 'insufficient_scope') throw new GatewayError('InsufficientScope', message, { challenge: this.#challenge('insufficient_scope', message) });
      if (failure.status === 403) throw new GatewayError('Forbidden', message, { challenge: this.#challenge('invalid_token', message) });
      if (typeof failure.status !== 'number') this.#deps.logger.warn({ gateway: this.name, err: redactText(String(message)) }, 'authorizer failed unexpectedly');
      throw new GatewayError('Unauthorized', message, { challenge: this.#challenge('invalid_token', message) });
    }
    try {
      this.#checkAudience(caller);
    } catch (error) {
      this.#recordRefusal('wrong_audience', error instanceof Error ? error.message : 'wrong audience', { subject: caller.subject, issuer: caller.issuer, clientId: caller.clientId });
      throw error;
    }
    return caller;
  }

  /**
   * RFC 8707: a token must be meant for this gateway. A token that carries `aud` must name this
   * endpoint's URL or one of allowedAudience (another resource's token is refused even when its
   * client is allowed). A token without `aud` (Cognito access tokens, straight from a browser app)
   * is accepted only when allowedClients is configured, which the shared authorizer has checked.
   */
  #checkAudience(caller: Caller): void {
    const jwt = this.#deps.config.authorizerConfiguration?.customJWTAuthorizer;
    const audClaim = caller.claims.aud;
    const audiences = typeof audClaim === 'string' ? [audClaim] : Array.isArray(audClaim) ? audClaim.filter((value): value is string => typeof value === 'string') : [];
    if (audiences.length > 0) {
      if (audiences.includes(this.resourceUrl) || audiences.some((audience) => jwt?.allowedAudience?.includes(audience))) return;
    } else if (caller.clientId !== undefined && (this.#deps.liveClients ? this.#deps.liveClients.has(caller.clientId) : jwt?.allowedClients?.includes(caller.clientId))) return;
    const message = `The token's audience is not this gateway: request a token with resource/audience ${this.resourceUrl}`;
    throw new GatewayError('Unauthorized', message, { challenge: this.#challenge('invalid_token', message) });
  }

  async #rateLimit(caller: Caller): Promise<void> {
    const limit = this.#deps.config.limits.requestsPerMinutePerPrincipal;
    const key = `gateway:${this.name}:rate:${createHash('sha256').update(callerKey(caller)).digest('base64url')}`;
    const count = await this.#deps.store.increment(key, 60);
    if (count > limit) throw new GatewayError('RateLimited', `More than ${limit} requests per minute from this user (limits.requestsPerMinutePerPrincipal of gateway ${this.name}); slow down and retry in a minute, or have an operator raise gateways[].limits.requestsPerMinutePerPrincipal in gatehouse.yaml`, { headers: { 'retry-after': '60' } });
  }

  async #handle(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    this.#checkOrigin(request);
    const origin = request.headers.origin;
    if (origin !== undefined) {
      // an allowed browser origin may read the answers, including the auth challenge and session id
      response.setHeader('access-control-allow-origin', origin);
      response.setHeader('vary', 'Origin');
      response.setHeader('access-control-expose-headers', 'mcp-session-id, mcp-protocol-version, www-authenticate');
      if (request.method === 'OPTIONS') {
        response.writeHead(204, {
          'access-control-allow-methods': 'POST, DELETE',
          'access-control-allow-headers': 'authorization, content-type, accept, mcp-session-id, mcp-protocol-version, mcp-method, mcp-name, last-event-id',
          'access-control-max-age': '600',
        });
        response.end();
        return;
      }
    }
    const caller = await this.#authenticate(request, url);
    await this.#rateLimit(caller);
    const sessionHeader = request.headers['mcp-session-id'];
    const sessionId = typeof sessionHeader === 'string' ? sessionHeader : undefined;

    if (request.method === 'DELETE') {
      if (!sessionId) throw new GatewayError('SessionRequired', 'DELETE needs the Mcp-Session-Id header of the session to end');
      await this.#requireSession(sessionId, caller);
      await this.#sessions.close(sessionId);
      this.#openSessions.delete(sessionId);
      response.writeHead(200).end();
      return;
    }
    if (request.method === 'GET') {
      // no server-initiated messages: the spec allows 405 for the optional GET stream
      throw new GatewayError('MethodNotAllowed', 'This gateway sends no server-initiated stream; use POST', { headers: { allow: 'POST, DELETE' } });
    }
    if (request.method !== 'POST') throw new GatewayError('MethodNotAllowed', `${request.method ?? 'This method'} is not supported; use POST`, { headers: { allow: 'POST, DELETE' } });

    await this.#post(request, response, caller, sessionId);
  }

  /** A POST: the message read and inspected, the session bound (or opened by initialize), then answered on one of the paths. */
  async #post(request: IncomingMessage, response: ServerResponse, caller: Caller, sessionId: string | undefined): Promise<void> {
    const { body, inspection } = await this.#readMessage(request);
    const stateless = request.headers['mcp-protocol-version'] === STATELESS_VERSION;
    const isInitialize = !Array.isArray(body) && typeof body === 'object' && body !== null && (body as { method?: unknown }).method === 'initialize';
    let session = { id: '', urlElicitation: false };
    if (!stateless && !isInitialize) {
      if (!sessionId) throw new GatewayError('SessionRequired', 'Send the Mcp-Session-Id header from the initialize response (or initialize first)');
      session = { id: sessionId, urlElicitation: (await this.#requireSession(sessionId, caller)).urlElicitation };
    }
    const toolCall = inspection.refusal ? undefined : inspection.toolCall;
    const exchange: McpExchange = { request, response, body, caller, session, toolCall, dispatcher: this.#deps.dispatcher, onUnexpected: this.#onUnexpected };
    if (inspection.refusal) return this.#refuse(exchange, inspection.refusal, stateless);
    if (stateless) return serveStatelessRequest(exchange, this.#serverInfo());
    if (isInitialize) {
      const opened = await this.#openSession(caller, body);
      response.setHeader('mcp-session-id', opened.id);
      return this.#answerMessage({ ...exchange, session: opened });
    }
    return this.#answerMessage(exchange);
  }

  /** initialize: a new session bound to the caller, remembering whether the client declared URL elicitation. */
  async #openSession(caller: Caller, body: unknown): Promise<{ id: string; urlElicitation: boolean }> {
    const id = SessionBindings.newId();
    const urlElicitation = declaresUrlElicitation((body as { params?: unknown }).params);
    await this.#sessions.open(id, caller, { urlElicitation });
    this.#openSessions.add(id);
    return { id, urlElicitation };
  }

  /** tools/call and tools/list on the direct path; anything else through the SDK server. */
  async #answerMessage(exchange: McpExchange): Promise<void> {
    if (await serveToolRequest(exchange)) return;
    await this.#serve(exchange);
  }

  #serverInfo(): ServerInfo {
    return { name: `gatehouse-gateway-${this.name}`, version: SDK_VERSION, instructions: this.#deps.config.description };
  }

  /**
   * The POST body as one JSON message: at most maxRequestBytes (413), nesting measured on the text
   * before parsing (deeper containers are cut before JSON.parse, see limit-json-depth.ts), then the
   * message checks of inspect-message.ts. A refusal is returned, not thrown, so that it can be
   * answered with the request's id and audited with its tool.
   */
  async #readMessage(request: IncomingMessage): Promise<{ body: unknown; inspection: MessageInspection }> {
    let text: string;
    try {
      text = (await readBody(request, this.#deps.config.limits.maxRequestBytes)).toString('utf8');
    } catch (error) {
      throw failureFor(GATEWAY_FAILURES, error) ?? new GatewayError('MalformedRequest', 'The body must be one JSON-RPC message in JSON');
    }
    const limited = limitJsonDepth(text, MAX_JSON_DEPTH);
    let body: unknown;
    try {
      body = JSON.parse(limited.text);
    } catch {
      throw new GatewayError('MalformedRequest', 'The body must be one JSON-RPC message in JSON');
    }
    return { body, inspection: inspectMessage(body, limited.exceeded) };
  }

  /** Answers a refused message with its JSON-RPC error (200 with the request's id; 400 without one), logged and, for tools/call, audited. */
  #refuse(exchange: McpExchange, refusal: MessageRefusal, stateless: boolean): void {
    const { response, body, caller } = exchange;
    const tool = toolCallOf(body);
    if (tool !== undefined) this.#deps.dispatcher.recordRefusal({ caller, sessionId: exchange.session.id, tool, reason: refusal.message });
    this.#deps.logger.warn({ gateway: this.name, user: caller.username || caller.subject, ...(tool !== undefined ? { tool } : {}), reason: refusal.code }, 'MCP message refused');
    const id = requestIdOf(body);
    const text = JSON.stringify({ jsonrpc: '2.0', id, error: toJsonRpcError(refusal, this.#onUnexpected) });
    const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) };
    if (stateless) headers['mcp-protocol-version'] = STATELESS_VERSION;
    response.writeHead(id === null ? 400 : 200, headers);
    response.end(text);
  }

  /** Logs a failure no JSON-RPC error was made for: its name and redacted message, never its stack. */
  readonly #onUnexpected = (error: unknown): void => {
    this.#deps.logger.error({ err: error instanceof Error ? { name: error.name, message: redactText(error.message) } : 'non-error thrown', gateway: this.name }, 'MCP request failed unexpectedly');
  };

  async #requireSession(sessionId: string, caller: Caller): Promise<SessionTraits> {
    const { check, traits } = await this.#sessions.inspect(sessionId, caller);
    if (check === 'ok') return traits;
    if (check === 'other-principal') this.#deps.logger.warn({ gateway: this.name, user: caller.subject }, 'session used with another user\'s token; refused');
    // the same answer for "unknown" and "someone else's", so ids of other users' sessions cannot be probed
    throw new GatewayError('SessionNotFound', 'Session not found for this user; initialize a new session');
  }

  async #serve(exchange: McpExchange): Promise<void> {
    const { request, response, body, caller, session, dispatcher } = exchange;
    const server = new Server(
      { name: `gatehouse-gateway-${this.name}`, version: SDK_VERSION },
      { capabilities: { tools: { listChanged: false } }, jsonSchemaValidator: sharedValidator, ...(this.#deps.config.description ? { instructions: this.#deps.config.description } : {}) },
    );
    const abort = new AbortController();
    server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: (await dispatcher.listTools(caller, abort.signal)) as never }));
    server.setRequestHandler(CallToolRequestSchema, async (call, extra) => {
      const signal = AbortSignal.any([abort.signal, extra.signal]);
      const answer = await answerToolCall(dispatcher, { caller, sessionId: session.id, name: call.params.name, args: (call.params.arguments ?? {}) as Record<string, unknown>, signal, onUnexpected: this.#onUnexpected, protocolVersion: request.headers['mcp-protocol-version'], urlElicitation: session.urlElicitation });
      // the SDK would send any thrown message as is: it gets the one mapper's error to copy
      if (answer.kind === 'error') throw new JsonRpcFailure(answer.error);
      return answer.result;
    });
    // no sessionIdGenerator = stateless: the gateway binds sessions itself. The web-standard transport
    // is fed the already-parsed body directly, skipping a Node→Fetch request conversion per call.
    const transport = new WebStandardStreamableHTTPServerTransport({ enableJsonResponse: true });
    response.on('close', () => {
      // abort only calls still running (client went away): aborting a finished request costs a DOMException and its listeners for nothing
      if (!response.writableFinished) abort.abort();
      void transport.close().catch(() => undefined);
      void server.close().catch(() => undefined);
    });
    await server.connect(transport);
    const headers = new Headers();
    for (const name of ['accept', 'content-type', 'mcp-protocol-version', 'mcp-session-id', 'last-event-id']) {
      const value = request.headers[name];
      if (typeof value === 'string') headers.set(name, value);
    }
    const answer = await transport.handleRequest(new Request(this.resourceUrl, { method: 'POST', headers }), { parsedBody: body });
    const text = await answer.text();
    const out: Record<string, string> = {};
    answer.headers.forEach((value, name) => {
      out[name] = value;
    });
    if (response.destroyed) return;
    if (answer.status !== 202 && answer.status !== 204) out['content-length'] = String(Buffer.byteLength(text));
    response.writeHead(answer.status, out);
    response.end(text);
  }
}
