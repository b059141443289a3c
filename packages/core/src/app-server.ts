import { createServer, type Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { isClientClosed, type HttpComponent } from './http.ts';
import { isWireError } from './wire-error.ts';
import { redactText, type Logger } from './logger.ts';
import { DEFAULT_SERVER_CONFIG, type ServerConfig } from './config/server-config.ts';

/**
 * The one-port server: asks each component in order whether a request is its own.
 * Unclaimed requests get 404; a component that throws gets its wire error or a bare 500
 * (the stack goes to the log, never to the client); a request whose client has gone is logged at debug.
 *
 * Timeouts (`server` in the config): headers and the whole request (headers + body) must arrive within
 * theirs, else 408 and the connection is closed; idle keep-alive connections close after theirs. Node
 * applies the request timeout only until the request is fully received, so a response may stream for
 * as long as it likes (SSE) and an upgraded WebSocket is no longer an HTTP request at all.
 *
 * With `tls` (PEM key and certificate chain) the same server speaks HTTPS, and WebSockets are `wss://`;
 * the TLS handshake is held to the header timeout as well.
 */
export function createAppServer(components: readonly HttpComponent[], logger?: Logger, settings: ServerConfig = DEFAULT_SERVER_CONFIG, tls?: ServerTls): Server {
  const work = { running: 0 };
  const headersTimeout = Math.round(settings.headersTimeoutSeconds * 1000);
  const requestTimeout = Math.round(settings.requestTimeoutSeconds * 1000);
  const options = {
    headersTimeout,
    requestTimeout,
    keepAliveTimeout: Math.round(settings.keepAliveTimeoutSeconds * 1000),
    // Node checks the two timeouts on this interval (default 30 s, which would let a 20 s limit run to 50 s).
    connectionsCheckingInterval: Math.min(1000, Math.max(25, Math.floor(Math.min(headersTimeout, requestTimeout) / 4))),
  };
  const onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    // Requests that do work (not GET/HEAD/OPTIONS: those may be long-lived streams) are what a drain waits for.
    if (request.method !== 'GET' && request.method !== 'HEAD' && request.method !== 'OPTIONS') {
      work.running++;
      response.once('close', () => work.running--);
    }
    void dispatch(components, request, response, logger);
  };
  const server: Server = tls
    ? createTlsServer({ ...options, key: tls.key, cert: tls.cert, handshakeTimeout: headersTimeout, minVersion: 'TLSv1.2' }, onRequest)
    : createServer(options, onRequest);
  runningWork.set(server, work);
  server.on('upgrade', (request: IncomingMessage, socket, head: Buffer) => {
    const url = requestUrl(request);
    for (const component of components) {
      if (component.upgrade?.(request, socket, head, url)) return;
    }
    socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  return server;
}

/** PEM private key and certificate chain (server first) for an HTTPS app server. */
export interface ServerTls {
  readonly key: string;
  readonly cert: string;
}

const runningWork = new WeakMap<Server, { running: number }>();

/**
 * Graceful `closeServer` for an app server: stops accepting connections, closes idle keep-alive ones,
 * lets requests that do work finish for up to `timeoutMs`, then cuts what remains (idle streams).
 */
export async function drainServer(server: Server, timeoutMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const work = runningWork.get(server);
  const deadline = Date.now() + timeoutMs;
  while (work && work.running > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  server.closeAllConnections();
  await closed;
}

function requestUrl(request: IncomingMessage): URL {
  return new URL(request.url ?? '/', 'http://gatehouse.invalid');
}

async function dispatch(components: readonly HttpComponent[], request: IncomingMessage, response: ServerResponse, logger?: Logger): Promise<void> {
  let url: URL;
  try {
    url = requestUrl(request);
  } catch {
    response.writeHead(400, { 'content-type': 'application/json' }).end('{"message":"Malformed request URL"}');
    return;
  }
  try {
    for (const component of components) {
      if (await component.handle(request, response, url)) return;
    }
    const body = JSON.stringify({ message: `No route for ${request.method ?? 'GET'} ${url.pathname}` });
    response.writeHead(404, { 'content-type': 'application/json', 'x-amzn-errortype': 'ResourceNotFoundException', 'content-length': Buffer.byteLength(body) });
    response.end(body);
  } catch (error) {
    if (isClientClosed(error, request)) {
      logger?.debug({ method: request.method, path: url.pathname, reason: redactText(error instanceof Error ? error.message : String(error)) }, 'client closed the connection before the request was answered');
      response.destroy();
      return;
    }
    if (isWireError(error)) {
      const wire = error.toResponse();
      if (!response.headersSent) response.writeHead(wire.status, wire.headers).end(wire.body);
      else response.destroy();
      return;
    }
    logger?.error({ err: error, path: url.pathname }, 'unhandled error');
    if (!response.headersSent) {
      response.writeHead(500, { 'content-type': 'application/json', 'x-amzn-errortype': 'InternalServerException' }).end('{"message":"Internal error"}');
    } else response.destroy();
  }
}
