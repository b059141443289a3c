import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { chromium, type BrowserContext } from 'playwright-core';
import { createJwtAuthorizer, bearerFromWebSocketProtocols, AuthError, type JwtAuthorizer } from '../src/index.ts';
import { startTestIssuer, type TestIssuer } from '@gatehouse/testing/test-issuer';

const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

// What a real browser sends for AgentCore's WebSocket OAuth form, read by bearerFromWebSocketProtocols
// and verified by the authorizer during the handshake; refused handshakes never reach the socket handler.
let issuer: TestIssuer;
let authorizer: JwtAuthorizer;
let server: Server;
let wss: WebSocketServer;
let context: BrowserContext;
let userDataDir: string;
let baseUrl = '';
const connected: string[] = [];

before(async () => {
  issuer = await startTestIssuer();
  authorizer = createJwtAuthorizer({ discoveryUrl: issuer.discoveryUrl, allowedClients: ['test-client'] });
  wss = new WebSocketServer({ noServer: true, handleProtocols: () => 'base64UrlBearerAuthorization' });
  server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>ws</title>');
  });
  server.on('upgrade', (request, socket, head) => {
    void (async () => {
      try {
        const bearer = bearerFromWebSocketProtocols(request.headers['sec-websocket-protocol']);
        if (!bearer) throw new AuthError('missing', 'A bearer token is required.');
        const principal = await authorizer.verify(bearer.token);
        wss.handleUpgrade(request, socket, head, (ws) => {
          connected.push(principal.subject);
          ws.send(JSON.stringify({ subject: principal.subject, protocol: ws.protocol }));
        });
      } catch (error) {
        const status = error instanceof AuthError ? error.status : 500;
        socket.end(`HTTP/1.1 ${status} Refused\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  userDataDir = await mkdtemp(path.join(tmpdir(), 'gatehouse-auth-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, { executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS, headless: true, timeout: 45_000 });
});

after(async () => {
  await context?.close();
  await rm(userDataDir, { recursive: true, force: true });
  for (const client of wss.clients) client.terminate();
  wss.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  authorizer.close();
  await issuer.close();
});

function openFromBrowser(token: string): Promise<{ opened: boolean; message?: string; protocol?: string }> {
  return (async () => {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`http://${baseUrl}/`);
    return page.evaluate(({ url, token: jwt }) => new Promise<{ opened: boolean; message?: string; protocol?: string }>((resolve) => {
      const encoded = btoa(jwt).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
      const socket = new WebSocket(url, [`base64UrlBearerAuthorization.${encoded}`, 'base64UrlBearerAuthorization']);
      socket.onmessage = (event) => {
        resolve({ opened: true, message: String(event.data), protocol: socket.protocol });
        socket.close();
      };
      socket.onerror = () => resolve({ opened: false });
    }), { url: `ws://${baseUrl}/runtimes/agent/ws`, token });
  })();
}

describe('WebSocket bearer subprotocol from Chromium', () => {
  it('opens a socket for a valid token and echoes only the bare marker', async () => {
    const result = await openFromBrowser(issuer.sign({ sub: 'browser-user' }));
    assert.equal(result.opened, true);
    assert.deepEqual(JSON.parse(result.message!), { subject: 'browser-user', protocol: 'base64UrlBearerAuthorization' });
    assert.equal(result.protocol, 'base64UrlBearerAuthorization');
  });

  it('refuses the handshake for a token of another client; the socket handler never runs', async () => {
    const before = connected.length;
    const result = await openFromBrowser(issuer.sign({ client_id: 'intruder' }));
    assert.equal(result.opened, false);
    assert.equal(connected.length, before);
  });
});
