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

/**
 * The client went away (closed the connection, or the server's request timeout cut it) before the
 * request was read. Nobody is left to answer: surfaces log it at debug, never as an error with a stack
 * (the logger demotes it by its `code` if a surface does not).
 */
export class ClientClosedError extends Error {
  readonly code = 'ClientClosed';
  constructor(cause?: unknown) {
    super('The client closed the connection before the request was complete', { cause });
    this.name = 'ClientClosedError';
  }
}

/** True for an error that only says the client has gone: `ClientClosedError`, or any error once the request is destroyed. */
export function isClientClosed(error: unknown, request?: IncomingMessage): boolean {
  if (error instanceof ClientClosedError) return true;
  return request !== undefined && request.destroyed && !request.complete;
}

/** Reads the whole body, refusing (without buffering the rest) once it passes `limit` bytes. */
export async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new BodyTooLargeError(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of request) {
      const buffer = chunk as Buffer;
      size += buffer.length;
      if (size > limit) throw new BodyTooLargeError(limit);
      chunks.push(buffer);
    }
  } catch (error) {
    if (!(error instanceof BodyTooLargeError) && (request.destroyed || (error as NodeJS.ErrnoException).code === 'ECONNRESET')) throw new ClientClosedError(error);
    throw error;
  }
  // A stream destroyed without an error ends the loop quietly: a truncated body is not a body.
  if (!request.complete) throw new ClientClosedError();
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
