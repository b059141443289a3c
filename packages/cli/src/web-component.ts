import { createReadStream, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpComponent, ServerProtocol } from '@gatehouse/core';
import { sendJson } from '@gatehouse/core';

/** The web UI's public settings (DESIGN: `/config.json`). Nothing secret goes here. */
export interface WebSettings {
  readonly region: string;
  readonly userPoolId: string;
  readonly clientId: string;
  readonly issuer: string;
  readonly authority: string;
  readonly runtimeArn: string;
  readonly gatewayUrl: string;
  /** The runtime's `protocolConfiguration.serverProtocol`: how the chat talks to it (HTTP or AGUI). */
  readonly runtimeProtocol: ServerProtocol;
  /**
   * Which app clients the default runtime and gateway accept: `"pool"` = every app client of
   * `userPoolId` (a new client works at once), `"listed"` = only those the config or
   * `gatehouse perimeter` names.
   */
  readonly acceptedClients: 'pool' | 'listed';
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

const NOT_BUILT_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Gatehouse</title></head>
<body style="font-family:system-ui,sans-serif;padding:2rem"><h1>The web UI is not built</h1>
<p>Gatehouse is running; only its browser app is missing. Run <code>npm install</code> and then
<code>npm run build -w @gatehouse/web</code> in the Gatehouse checkout, or restart <code>gatehouse up</code>, which builds it when Vite is installed.</p></body></html>`;

export const webDistDirectory = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'web', 'dist');

/**
 * Serves `/config.json`, `/ping` and the built web UI with SPA fallback: a GET that accepts HTML and
 * matches no file gets index.html. Registered last, so every API path is claimed before it.
 */
export interface Readiness {
  readonly ready: boolean;
  /** One entry per component this instance serves and per dependency, e.g. `{ runtime: 'serving', store: 'unavailable' }`. */
  readonly checks: Readonly<Record<string, string>>;
}

export function createWebComponent(
  settings: () => WebSettings | undefined,
  options: { distDirectory?: string; metrics?: () => string; readiness?: () => Promise<Readiness> } = {},
): HttpComponent {
  const root = options.distDirectory ?? webDistDirectory;
  const security = {
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  };
  // The page's own meta CSP, sent as a header too, plus what a meta tag cannot say (frame-ancestors).
  const pagePolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' https: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
  const serveFile = (request: IncomingMessage, response: ServerResponse, file: string, cache: string): void => {
    const type = CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream';
    const size = statSync(file).size;
    const policy = type.startsWith('text/html') ? { 'content-security-policy': pagePolicy } : {};
    response.writeHead(200, { 'content-type': type, 'content-length': size, 'cache-control': cache, ...security, ...policy });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    createReadStream(file).pipe(response);
  };
  return {
    name: 'web',
    handle(request, response, url) {
      const method = request.method ?? 'GET';
      if (method !== 'GET' && method !== 'HEAD') return false;
      if (url.pathname === '/ping') {
        sendJson(response, 200, { status: 'Healthy', time_of_last_update: Math.floor(Date.now() / 1000) });
        return true;
      }
      if (url.pathname === '/ready' && options.readiness) {
        // Liveness is /ping (the AgentCore agent contract); readiness says whether a load balancer should send work here.
        void options.readiness().then(
          (readiness) => sendJson(response, readiness.ready ? 200 : 503, { status: readiness.ready ? 'Ready' : 'NotReady', checks: readiness.checks }, { 'cache-control': 'no-store' }),
          () => sendJson(response, 503, { status: 'NotReady', checks: {} }, { 'cache-control': 'no-store' }),
        );
        return true;
      }
      if (url.pathname === '/metrics' && options.metrics) {
        const body = options.metrics();
        response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4', 'content-length': Buffer.byteLength(body) });
        response.end(body);
        return true;
      }
      if (url.pathname === '/config.json') {
        const current = settings();
        if (!current) {
          sendJson(response, 503, { message: 'Gatehouse is starting' });
          return true;
        }
        sendJson(response, 200, current, { 'cache-control': 'no-store', ...security });
        return true;
      }
      if (!existsSync(path.join(root, 'index.html'))) {
        if (url.pathname !== '/' || !(request.headers.accept ?? '').includes('text/html')) return false;
        const body = NOT_BUILT_PAGE;
        response.writeHead(503, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...security });
        response.end(request.method === 'HEAD' ? undefined : body);
        return true;
      }
      const relative = decodeURIComponent(url.pathname).replace(/^\/+/, '');
      const candidate = path.resolve(root, relative);
      if (candidate.startsWith(root + path.sep) && existsSync(candidate) && statSync(candidate).isFile()) {
        const immutable = relative.startsWith('assets/');
        serveFile(request, response, candidate, immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
        return true;
      }
      const accept = request.headers.accept ?? '';
      const index = path.join(root, 'index.html');
      if ((url.pathname === '/' || accept.includes('text/html')) && existsSync(index)) {
        serveFile(request, response, index, 'no-cache');
        return true;
      }
      return false;
    },
    async close() {},
  };
}
