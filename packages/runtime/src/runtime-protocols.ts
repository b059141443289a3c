import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { ServerProtocol, TraceSpan } from '@gatehouse/core';
import { clientResponseHeaders } from './agent-headers.ts';
import { endHop } from './invocation-trace.ts';
import { RuntimeError, validationError } from './runtime-error.ts';
import type { RuntimeEntry } from './runtime-registry.ts';
import { SESSION_HEADER } from './session-id.ts';
import type { Session } from './session-manager.ts';

/** What an agent of each `protocolConfiguration.serverProtocol` serves (REFERENCE §1.6, AgentCore's protocol contracts). */
export interface ProtocolContract {
  /** The port AgentCore's container contract names; per-session isolation binds the agent there. */
  readonly port: number;
  /** Where `POST /runtimes/{arn}/invocations` lands on the agent. */
  readonly path: string;
  /** Whether `/runtimes/{arn}/ws` reaches the agent's `/ws`. */
  readonly websocket: boolean;
  /** Whether `GET /runtimes/{arn}/invocations/.well-known/agent-card.json` (GetAgentCard) is served. */
  readonly agentCard: boolean;
}

export const PROTOCOL_CONTRACTS: Readonly<Record<ServerProtocol, ProtocolContract>> = {
  HTTP: { port: 8080, path: '/invocations', websocket: true, agentCard: false },
  MCP: { port: 8000, path: '/mcp', websocket: false, agentCard: false },
  A2A: { port: 9000, path: '/', websocket: false, agentCard: true },
  AGUI: { port: 8080, path: '/invocations', websocket: true, agentCard: false },
};

export const AGENT_CARD_PATH = '/.well-known/agent-card.json';
export const PROTECTED_RESOURCE_PATH = '/.well-known/oauth-protected-resource';
const MCP_SESSION_HEADER = 'mcp-session-id';
const A2A_HEADERS = ['a2a-version', 'a2a-extensions'] as const;
/** JSON-RPC bodies are inspected only up to this size; larger ones pass to the agent as they are. */
const INSPECT_LIMIT = 1_000_000;

export function protocolOf(runtime: RuntimeEntry): ServerProtocol {
  return runtime.config.protocolConfiguration.serverProtocol;
}

/** GetAgentCard (A2A runtimes) or the RFC 9728 metadata of an OAuth runtime. */
export type WellKnownDocument = 'agent-card' | 'protected-resource';

export interface WellKnownRoute {
  readonly document: WellKnownDocument;
  /** The `/runtimes/{arn}/invocations` URL (same query) that names the runtime. */
  readonly routed: URL;
}

/** `/runtimes/{arn}/invocations/.well-known/{agent-card.json | oauth-protected-resource}`, else undefined. */
export function wellKnownRoute(url: URL): WellKnownRoute | undefined {
  if (!url.pathname.startsWith('/runtimes/')) return undefined;
  for (const [document, suffix] of [['agent-card', AGENT_CARD_PATH], ['protected-resource', PROTECTED_RESOURCE_PATH]] as const) {
    if (!url.pathname.endsWith(`/invocations${suffix}`)) continue;
    const routed = new URL(url.href);
    routed.pathname = url.pathname.slice(0, -suffix.length);
    return { document, routed };
  }
  return undefined;
}

/** Where clients reach this runtime through Gatehouse: `{base}/runtimes/{encoded ARN}/invocations[{suffix}][?qualifier=…]`. */
export function publicInvocationsUrl(baseUrl: string, runtime: RuntimeEntry, url: URL, suffix = ''): string {
  return `${baseUrl}/runtimes/${encodeURIComponent(runtime.arn)}/invocations${suffix}${url.search}`;
}

/**
 * RFC 9728 metadata for an OAuth runtime, as AgentCore serves it for MCP clients: the resource is the invocations URL,
 * the authorization server the issuer of the authorizer's discovery URL. SigV4 runtimes have none (404).
 */
export function serveProtectedResource(runtime: RuntimeEntry, response: ServerResponse, options: { readonly publicUrl: string; readonly responseHeaders: Readonly<Record<string, string>> }): number {
  const authorizer = runtime.config.authorizerConfiguration?.customJWTAuthorizer;
  if (!authorizer) throw new RuntimeError('ResourceNotFoundException', `Runtime ${runtime.name} takes SigV4, not OAuth tokens: it has no protected-resource metadata.`);
  const issuer = authorizer.discoveryUrl.replace(/\/\.well-known\/openid-configuration$/, '');
  const body = JSON.stringify({
    resource: options.publicUrl,
    authorization_servers: [issuer],
    bearer_methods_supported: ['header'],
    ...(authorizer.allowedScopes?.length ? { scopes_supported: authorizer.allowedScopes } : {}),
  });
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'max-age=300', ...options.responseHeaders });
  response.end(body);
  return 200;
}

/** A bearer challenge of an OAuth runtime names its metadata (`resource_metadata`, RFC 9728 §5.1), so MCP clients find the issuer. */
export function withResourceMetadata(error: unknown, metadataUrl: string): unknown {
  if (!(error instanceof RuntimeError)) return error;
  const challenge = error.details.headers?.['www-authenticate'];
  if (challenge === undefined || !challenge.startsWith('Bearer')) return error;
  const parameter = `resource_metadata="${metadataUrl}"`;
  const extended = challenge === 'Bearer' ? `Bearer ${parameter}` : `${challenge}, ${parameter}`;
  return new RuntimeError(error.code, error.message, { ...error.details, headers: { ...error.details.headers, 'www-authenticate': extended } });
}

/**
 * The runtime session id an MCP client names without knowing AgentCore: its `Mcp-Session-Id` (which the runtime
 * handed it on initialize). AgentCore routes MCP requests to the same microVM by that header.
 */
export function protocolSessionId(runtime: RuntimeEntry, headers: IncomingHttpHeaders): { value: string; field: string } | undefined {
  if (protocolOf(runtime) !== 'MCP') return undefined;
  const value = headers[MCP_SESSION_HEADER];
  if (Array.isArray(value)) throw validationError('Mcp-Session-Id', 'Send Mcp-Session-Id once');
  return value === undefined ? undefined : { value, field: 'Mcp-Session-Id' };
}

function isJsonRpcMessage(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && (value as Record<string, unknown>).jsonrpc === '2.0';
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0 || body.length > INSPECT_LIMIT) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** An MCP client's first request: `initialize` with the MCP `protocolVersion` it wants. */
function isMcpRequest(headers: IncomingHttpHeaders, body: Buffer): boolean {
  if (headers['mcp-protocol-version'] !== undefined) return true;
  // Parsed only when it can be one (a JSON object naming `initialize`): HTTP payloads otherwise pass untouched and unparsed.
  if (body.length === 0 || body[0] !== 0x7b || !body.includes('"initialize"')) return false;
  const message = parseJson(body);
  return isJsonRpcMessage(message) && message.method === 'initialize' && typeof (message.params as Record<string, unknown> | undefined)?.protocolVersion === 'string';
}

/**
 * A request that cannot be meant for this runtime's protocol is refused before an agent starts: MCP and A2A take
 * JSON-RPC 2.0 messages only, and an HTTP or AGUI runtime refuses an MCP client (its `initialize`, its headers).
 */
export function checkProtocolRequest(runtime: RuntimeEntry, headers: IncomingHttpHeaders, body: Buffer): void {
  const protocol = protocolOf(runtime);
  if (protocol === 'MCP' || protocol === 'A2A') {
    if (body.length > INSPECT_LIMIT) return;
    const message = parseJson(body);
    const batch = Array.isArray(message) && message.length > 0 && message.every(isJsonRpcMessage);
    if (batch || isJsonRpcMessage(message)) return;
    const what = protocol === 'MCP' ? 'an MCP JSON-RPC 2.0 message (initialize, tools/list, tools/call, …), e.g. from an MCP client pointed at this URL' : 'an A2A JSON-RPC 2.0 request (message/send, message/stream, tasks/get, …), e.g. from an A2A client given the agent card';
    throw wrongProtocol(runtime, `Runtime ${runtime.name} speaks ${protocol} (protocolConfiguration.serverProtocol); the payload is not JSON-RPC 2.0. Send ${what}.`);
  }
  if (isMcpRequest(headers, body)) {
    throw wrongProtocol(
      runtime,
      `Runtime ${runtime.name} speaks ${protocol} (protocolConfiguration.serverProtocol), but this is an MCP request. Call an MCP runtime (serverProtocol MCP), or send this runtime its own payload (e.g. {"prompt": …}).`,
    );
  }
}

function wrongProtocol(runtime: RuntimeEntry, message: string): RuntimeError {
  return new RuntimeError('ValidationException', message, { reason: 'FieldValidationFailed', fieldList: [{ name: 'payload', message: `does not match serverProtocol ${protocolOf(runtime)}` }] });
}

/** `/ws` exists for HTTP and AGUI runtimes only, as in AgentCore's contracts. */
export function checkWebSocketProtocol(runtime: RuntimeEntry): void {
  const protocol = protocolOf(runtime);
  if (PROTOCOL_CONTRACTS[protocol].websocket) return;
  throw new RuntimeError('ValidationException', `Runtime ${runtime.name} speaks ${protocol} (protocolConfiguration.serverProtocol), which has no WebSocket; POST to /runtimes/{ARN}/invocations instead.`, {
    reason: 'FieldValidationFailed',
    fieldList: [{ name: 'serverProtocol', message: `${protocol} runtimes do not serve /ws` }],
  });
}

export function checkAgentCardProtocol(runtime: RuntimeEntry): void {
  const protocol = protocolOf(runtime);
  if (PROTOCOL_CONTRACTS[protocol].agentCard) return;
  throw new RuntimeError('ResourceNotFoundException', `Runtime ${runtime.name} speaks ${protocol} (protocolConfiguration.serverProtocol); only A2A runtimes have an agent card.`);
}

/** MCP's streamable HTTP GET (standalone SSE stream) and DELETE (end a session) on an MCP runtime's invocations URL. */
export function isMcpSessionMethod(runtime: RuntimeEntry, action: string, method: string | undefined): boolean {
  return protocolOf(runtime) === 'MCP' && action === 'invocations' && (method === 'GET' || method === 'DELETE');
}

/**
 * 405 with `Allow: POST`, which the MCP transport spec gives for a server without a standalone stream: agents behind
 * an MCP runtime are stateless, and MCP clients take this answer as "no stream" instead of reporting an error.
 */
export function refuseMcpSessionMethod(runtime: RuntimeEntry, response: ServerResponse, responseHeaders: Readonly<Record<string, string>>): number {
  const body = JSON.stringify({ message: `Runtime ${runtime.name} serves stateless MCP: only POST reaches its agent (no standalone SSE stream, no session to delete).` });
  response.writeHead(405, { allow: 'POST', 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...responseHeaders });
  response.end(body);
  return 405;
}

export interface ProtocolHop {
  readonly path: string;
  /** Headers the client gets on top of the agent's (MCP: the `Mcp-Session-Id` that keeps it on this session). */
  readonly responseHeaders: Readonly<Record<string, string>>;
  readonly checkAnswer: (status: number, contentType: string | undefined) => RuntimeError | undefined;
}

/**
 * Where and how this runtime's invocation reaches the agent. MCP: like AgentCore, the platform's `Mcp-Session-Id`
 * (the runtime session id unless the client sent one) goes to the stateless server and back to the client.
 */
export function protocolHop(runtime: RuntimeEntry, sessionId: string, incoming: IncomingHttpHeaders, headers: OutgoingHttpHeaders): ProtocolHop {
  const protocol = protocolOf(runtime);
  const { path } = PROTOCOL_CONTRACTS[protocol];
  let responseHeaders: Record<string, string> = {};
  if (protocol === 'A2A') {
    // The A2A version and extensions the client asked for decide how the agent parses the request.
    for (const name of A2A_HEADERS) if (typeof incoming[name] === 'string') headers[name] = incoming[name];
  }
  if (protocol === 'MCP') {
    const mcpSession = typeof headers[MCP_SESSION_HEADER] === 'string' ? headers[MCP_SESSION_HEADER] : sessionId;
    headers[MCP_SESSION_HEADER] = mcpSession;
    responseHeaders = { [MCP_SESSION_HEADER]: mcpSession };
  }
  return { path, responseHeaders, checkAnswer: (status, contentType) => checkAnswer(runtime, protocol, status, contentType) };
}

function checkAnswer(runtime: RuntimeEntry, protocol: ServerProtocol, status: number, contentType: string | undefined): RuntimeError | undefined {
  const { path } = PROTOCOL_CONTRACTS[protocol];
  const fix = `Serve ${protocol} at ${path}, or set protocolConfiguration.serverProtocol of ${runtime.name} to the protocol the agent speaks.`;
  if (status === 404 || status === 405) {
    return new RuntimeError('RuntimeClientError', `Runtime ${runtime.name} speaks ${protocol}, but its agent answered ${status} to POST ${path}. ${fix}`);
  }
  if ((protocol === 'MCP' || protocol === 'A2A') && status >= 200 && status < 300 && status !== 202) {
    const type = (contentType ?? '').toLowerCase();
    if (!type.startsWith('application/json') && !type.startsWith('text/event-stream')) {
      return new RuntimeError('RuntimeClientError', `Runtime ${runtime.name} speaks ${protocol}, but its agent answered ${JSON.stringify(type.slice(0, 100) || 'no content type')} instead of JSON-RPC (application/json or text/event-stream). ${fix}`);
    }
  }
  return undefined;
}

export interface AgentCardRequest {
  readonly runtime: RuntimeEntry;
  readonly session: Session;
  readonly headers: OutgoingHttpHeaders;
  readonly response: ServerResponse;
  readonly responseHeaders: Readonly<Record<string, string>>;
  /** Where A2A clients reach this runtime through Gatehouse (publicInvocationsUrl). */
  readonly publicUrl: string;
  /** The CLIENT span of this hop, ended here with its status. */
  readonly trace?: TraceSpan | undefined;
}

/**
 * GetAgentCard: the agent's own card, with its endpoint URLs pointed back through Gatehouse's perimeter (the agent
 * only knows its loopback address). Resolves with the status sent.
 */
export function serveAgentCard(call: AgentCardRequest): Promise<number> {
  const { session, runtime } = call;
  delete call.headers['content-length'];
  delete call.headers['content-type'];
  const answered = new Promise<number>((resolve, reject) => {
    const upstream = httpRequest({ host: session.endpoint.host, port: session.endpoint.port, socketPath: session.endpoint.socketPath, method: 'GET', path: AGENT_CARD_PATH, headers: call.headers, agent: session.endpoint.agent }, (agentResponse) => {
      const chunks: Buffer[] = [];
      let size = 0;
      agentResponse.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > INSPECT_LIMIT) agentResponse.destroy(new Error('agent card larger than 1 MB'));
        else chunks.push(chunk);
      });
      agentResponse.on('error', reject);
      agentResponse.on('end', () => {
        const card = agentResponse.statusCode === 200 ? parseJson(Buffer.concat(chunks)) : undefined;
        if (typeof card !== 'object' || card === null || Array.isArray(card)) {
          reject(new RuntimeError('RuntimeClientError', `Runtime ${runtime.name} speaks A2A, but its agent answered ${agentResponse.statusCode ?? '?'} without a JSON agent card at GET ${AGENT_CARD_PATH}. Serve the card there.`));
          return;
        }
        const body = JSON.stringify(throughPerimeter(card as Record<string, unknown>, call.publicUrl));
        const headers = { ...clientResponseHeaders(agentResponse.headers), 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), [SESSION_HEADER]: session.id, ...call.responseHeaders };
        call.response.writeHead(200, headers);
        call.response.end(body);
        resolve(200);
      });
    });
    upstream.on('error', (error: NodeJS.ErrnoException) => reject(new RuntimeError('RuntimeClientError', `The agent did not answer GET ${AGENT_CARD_PATH} (${error.code ?? error.message}).`)));
    upstream.end();
  });
  return answered.then(
    (status) => {
      endHop(call.trace, status);
      return status;
    },
    (error: unknown) => {
      endHop(call.trace, 424, 'AgentCardUnavailable');
      throw error;
    },
  );
}

/** The card's JSON-RPC endpoints (A2A 0.3 `url`/`additionalInterfaces`, 1.0 `supportedInterfaces`) → Gatehouse's URL; other transports dropped. */
function throughPerimeter(card: Record<string, unknown>, publicUrl: string): Record<string, unknown> {
  const interfaces = (value: unknown): unknown[] | undefined =>
    Array.isArray(value)
      ? value
          .filter((entry): entry is Record<string, unknown> => typeof entry === 'object' && entry !== null && /^JSONRPC$/i.test(String(entry.transport ?? entry.protocolBinding ?? '')))
          .map((entry) => ({ ...entry, url: publicUrl }))
      : undefined;
  const rewritten: Record<string, unknown> = { ...card };
  if (card.url !== undefined || card.supportedInterfaces === undefined) Object.assign(rewritten, { url: publicUrl, preferredTransport: 'JSONRPC' });
  const additional = interfaces(card.additionalInterfaces);
  if (additional) rewritten.additionalInterfaces = additional;
  const supported = interfaces(card.supportedInterfaces);
  if (supported) rewritten.supportedInterfaces = supported;
  return rewritten;
}
