import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { SESSION_HEADER } from './session-id.ts';
import type { RuntimeEntry } from './runtime-registry.ts';

export const USER_ID_HEADER = 'x-amzn-bedrock-agentcore-runtime-user-id';
export const REQUEST_ID_HEADER = 'x-amzn-bedrock-agentcore-runtime-request-id';
export const CUSTOM_HEADER_PREFIX = 'x-amzn-bedrock-agentcore-runtime-custom-';
const TRACE_HEADERS = ['traceparent', 'tracestate', 'baggage', 'x-amzn-trace-id'] as const;
/** Passed as received; `traceparent`/`tracestate` are not: the agent gets the runtime's own span context (startHop). */
const OPAQUE_TRACE_HEADERS = ['baggage', 'x-amzn-trace-id'] as const;
const PROTOCOL_HEADERS = ['content-type', 'accept', 'mcp-session-id', 'mcp-protocol-version'] as const;
const MAX_ALLOWLISTED_VALUE = 4096;

export interface AgentIdentity {
  readonly sessionId: string;
  readonly requestId: string;
  readonly userId: string | undefined;
  readonly workloadAccessToken: string | undefined;
}

/**
 * The headers an agent receives, built from scratch rather than filtered: everything the client
 * sent that is not listed here (Authorization, Cookie, hop-by-hop, forged identity) never reaches it.
 */
export function agentHeaders(runtime: RuntimeEntry, incoming: IncomingHttpHeaders, identity: AgentIdentity, extra?: ReadonlyMap<string, string>): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const name of PROTOCOL_HEADERS) {
    const value = incoming[name];
    if (typeof value === 'string') headers[name] = value;
  }
  for (const name of OPAQUE_TRACE_HEADERS) {
    const value = incoming[name];
    if (typeof value === 'string') headers[name] = value;
  }
  for (const name of runtime.allowedHeaders) {
    // Authorization reaches an agent only on JWT runtimes and only when allow-listed (AgentCore's rule).
    if (name === 'authorization' && runtime.method !== 'OAuth') continue;
    const value = extra?.get(name) ?? incoming[name];
    if (typeof value === 'string' && value.length <= MAX_ALLOWLISTED_VALUE) headers[name] = value;
  }
  headers[SESSION_HEADER] = identity.sessionId;
  headers[REQUEST_ID_HEADER] = identity.requestId;
  if (identity.userId !== undefined) headers[USER_ID_HEADER] = identity.userId;
  if (identity.workloadAccessToken !== undefined) {
    headers.workloadaccesstoken = identity.workloadAccessToken;
    headers['x-amz-bedrock-agentcore-identity-wat'] = identity.workloadAccessToken;
  }
  return headers;
}

/** WebSocket clients cannot set headers: allow-listed custom headers come as query parameters of the same name. */
export function customHeadersFromQuery(runtime: RuntimeEntry, query: URLSearchParams): Map<string, string> {
  const result = new Map<string, string>();
  for (const [name, value] of query) {
    const lower = name.toLowerCase();
    if (lower.startsWith(CUSTOM_HEADER_PREFIX) && runtime.allowedHeaders.has(lower) && !/[\r\n]/.test(value)) result.set(lower, value);
  }
  return result;
}

/** Response headers passed back from the agent; everything else (Set-Cookie, hop-by-hop) stays behind. */
const RESPONSE_HEADERS = ['content-type', 'content-length', 'content-encoding', 'cache-control', 'mcp-session-id', 'mcp-protocol-version', ...TRACE_HEADERS];

export function clientResponseHeaders(agentHeaders: IncomingHttpHeaders): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const name of RESPONSE_HEADERS) {
    const value = agentHeaders[name];
    if (value !== undefined) headers[name] = value;
  }
  return headers;
}
