import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { MAX_JSON_DEPTH, parseJson } from './json-depth.ts';
import type { WireResponse } from './wire-error.ts';

/**
 * What every component mounts on the one-port server. `handle` returns false when the request is
 * not its own, so the app can try the next component; the app owns the server, never a component.
 */
export interface HttpComponent {
  readonly name: string;
  handle(request: IncomingMessage, response: ServerResponse, url: URL): boolean | Promise<boolean>;
  upgrade?(request: IncomingMessage, socket: Duplex, head: Buffer, url: URL): boolean;
  close(): Promise<void>;
}

export class BodyTooLargeError extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`Request body exceeds ${limit} bytes`);
    this.limit = limit;
  }
}

/** Reads the whole body, refusing (without buffering the rest) once it passes `limit` bytes. */
export async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new BodyTooLargeError(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) throw new BodyTooLargeError(limit);
    chunks.push(buffer);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}

export interface ReadJsonLimits {
  /** Bytes; past it `BodyTooLargeError`. */
  readonly maxBytes: number;
  /** Nesting levels; past it `JsonTooDeepError` (default `MAX_JSON_DEPTH`, 64). */
  readonly maxDepth?: number;
}

/**
 * The body as JSON, with both limits checked before anything walks it. Errors for the surface to map:
 * `BodyTooLargeError`, `JsonTooDeepError`, `SyntaxError` (malformed JSON); an empty body is `undefined`.
 */
export async function readJson(request: IncomingMessage, limits: ReadJsonLimits): Promise<unknown> {
  const body = await readBody(request, limits.maxBytes);
  return body.length === 0 ? undefined : parseJson(body, limits.maxDepth ?? MAX_JSON_DEPTH);
}

export function sendWire(response: ServerResponse, wire: WireResponse): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  response.writeHead(wire.status, { 'content-length': Buffer.byteLength(wire.body), ...wire.headers });
  response.end(wire.body);
}

export function sendJson(response: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  response.end(body);
}

/** Parses `application/x-www-form-urlencoded`, keeping only the first value of each name. */
export function parseForm(body: Buffer): Record<string, string> {
  const result: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [key, value] of new URLSearchParams(body.toString('utf8'))) {
    if (!(key in result)) result[key] = value;
  }
  return result;
}

/** Single value of a header; undefined when absent; throws on duplicates only where the caller asks. */
export function headerValue(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

export function listen(server: Server, port: number, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}
