import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RuntimeEntry } from './runtime-registry.ts';
import { SESSION_HEADER } from './session-id.ts';

const BASE_REQUEST_HEADERS = [
  'authorization', 'content-type', 'accept', SESSION_HEADER, 'traceparent', 'tracestate', 'baggage', 'x-amzn-trace-id',
  'mcp-session-id', 'mcp-protocol-version', 'a2a-version', 'a2a-extensions',
];
// www-authenticate and retry-after let a browser app on another allowed origin tell "sign in again" from "slow down".
const EXPOSED = [SESSION_HEADER, 'x-amzn-errortype', 'x-amzn-requestid', 'mcp-session-id', 'mcp-protocol-version', 'traceparent', 'www-authenticate', 'retry-after'].join(', ');

/**
 * CORS per runtime: only configured origins (plus Gatehouse's own), never `*`. A disallowed origin
 * gets no CORS headers at all, so the browser cannot read anything.
 */
export class CorsPolicy {
  readonly #allowedHeaders = new Map<string, Set<string>>();

  originAllowed(runtime: RuntimeEntry, origin: string | undefined): boolean {
    return origin === undefined || runtime.allowedOrigins.has(origin);
  }

  /** Headers for an actual (non-preflight) response to an allowed origin. */
  responseHeaders(runtime: RuntimeEntry, origin: string | undefined): Record<string, string> {
    if (origin === undefined || !runtime.allowedOrigins.has(origin)) return {};
    return { 'access-control-allow-origin': origin, 'access-control-expose-headers': EXPOSED, vary: 'Origin' };
  }

  /** Answers an OPTIONS preflight: 204 with the grant, or 403 with no CORS headers. */
  preflight(runtime: RuntimeEntry, request: IncomingMessage, response: ServerResponse): void {
    const origin = request.headers.origin;
    const method = request.headers['access-control-request-method'];
    const requested = (request.headers['access-control-request-headers'] ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter((name) => name.length > 0);
    const allowed = this.#headersFor(runtime);
    const ok = origin !== undefined && runtime.allowedOrigins.has(origin) && (method === 'POST' || method === 'GET') && requested.every((name) => allowed.has(name));
    if (!ok) {
      const body = JSON.stringify({ message: 'CORS preflight refused: the origin, method or a requested header is not allowed for this runtime (see allowedOrigins and requestHeaderAllowlist).' });
      response.writeHead(403, { 'content-type': 'application/json', 'x-amzn-errortype': 'AccessDeniedException', 'content-length': Buffer.byteLength(body), vary: 'Origin' });
      response.end(body);
      return;
    }
    response.writeHead(204, {
      'access-control-allow-origin': origin,
      'access-control-allow-methods': 'POST, GET, OPTIONS',
      'access-control-allow-headers': [...allowed].join(', '),
      'access-control-max-age': '600',
      vary: 'Origin',
    });
    response.end();
  }

  #headersFor(runtime: RuntimeEntry): Set<string> {
    let set = this.#allowedHeaders.get(runtime.name);
    if (!set) {
      set = new Set(BASE_REQUEST_HEADERS);
      for (const name of runtime.allowedHeaders) set.add(name);
      this.#allowedHeaders.set(runtime.name, set);
    }
    return set;
  }
}
