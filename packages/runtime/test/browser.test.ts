import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { closeServer, listen } from '@gatehouse/core';
import { sessionId, startHarness, type Harness } from './support/runtime-harness.ts';

const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** A second loopback server that only serves an empty page: the web app's origin. */
async function pageServer(): Promise<{ server: Server; origin: string }> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end('<!doctype html><title>chat</title><body></body>');
  });
  return { server, origin: `http://127.0.0.1:${await listen(server, 0)}` };
}

interface SseResult {
  ok: boolean;
  status?: number;
  sessionHeader?: string | null;
  events?: Record<string, unknown>[];
  error?: string;
}

/** The seeds' browser code: fetch with Bearer + session header, then read the SSE body chunk by chunk. */
function seedSse(page: Page, args: { url: string; token: string; sessionId: string }): Promise<SseResult> {
  return page.evaluate(async ({ url, token, sessionId }) => {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${token}`,
          'Content-Type': 'application/json',
          Accept: 'text/event-stream',
          'X-Amzn-Bedrock-AgentCore-Runtime-Session-Id': sessionId,
        },
        body: JSON.stringify({ prompt: 'hello from chromium' }),
      });
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      const events: Record<string, unknown>[] = [];
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        const blocks = buffer.split('\n\n');
        buffer = blocks.pop() ?? '';
        for (const block of blocks) {
          const data = block.split('\n').find((line) => line.startsWith('data: '));
          if (data) events.push(JSON.parse(data.slice(6)) as Record<string, unknown>);
        }
      }
      return { ok: true, status: response.status, sessionHeader: response.headers.get('X-Amzn-Bedrock-AgentCore-Runtime-Session-Id'), events };
    } catch (error) {
      return { ok: false, error: String(error) };
    }
  }, args);
}

/** The seeds' WebSocket code: the token rides in Sec-WebSocket-Protocol, base64url without padding. */
function seedWebSocket(page: Page, args: { url: string; token: string }): Promise<{ opened: boolean; protocol?: string; frames: Record<string, unknown>[]; closeCode?: number }> {
  return page.evaluate(({ url, token }) => {
    return new Promise((resolve) => {
      const base64url = btoa(token).replace(/\+/g, '-').replace(/\//g, '_').replace(/=/g, '');
      const ws = new WebSocket(url, [`base64UrlBearerAuthorization.${base64url}`, 'base64UrlBearerAuthorization']);
      const frames: Record<string, unknown>[] = [];
      let opened = false;
      ws.onopen = () => {
        opened = true;
        ws.send(JSON.stringify({ prompt: 'over the socket' }));
      };
      ws.onmessage = (event) => {
        const frame = JSON.parse(String(event.data)) as Record<string, unknown>;
        frames.push(frame);
        if (frame.type === 'message') {
          const protocol = ws.protocol;
          ws.close();
          resolve({ opened, protocol, frames });
        }
      };
      ws.onclose = (event) => resolve({ opened, frames, closeCode: event.code });
    });
  }, args);
}

describe('the seeds’ browser code in Chromium', () => {
  let harness: Harness;
  let allowed: { server: Server; origin: string };
  let foreign: { server: Server; origin: string };
  let context: BrowserContext;
  let userDataDir: string;
  let token: string;

  before(async () => {
    allowed = await pageServer();
    foreign = await pageServer();
    harness = await startHarness({ runtimes: [{ agentRuntimeName: 'web_agent', allowedOrigins: [allowed.origin], limits: { warmPoolSize: 1 } }] });
    token = harness.issuer.sign({ sub: 'ivan' });
    userDataDir = await mkdtemp(path.join(tmpdir(), 'gatehouse-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, { executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS, headless: true });
  });
  after(async () => {
    await context?.close();
    await harness?.close();
    await closeServer(allowed.server);
    await closeServer(foreign.server);
    await rm(userDataDir, { recursive: true, force: true });
  });

  test('streams SSE with Bearer and the session header from an allowed origin', async () => {
    const page = await context.newPage();
    await page.goto(allowed.origin);
    const id = crypto.randomUUID() + '-browser';
    const result = await seedSse(page, { url: harness.url('web_agent'), token, sessionId: id });
    assert.equal(result.ok, true, result.error);
    assert.equal(result.status, 200);
    assert.equal(result.sessionHeader, id, 'the session header is exposed to the page');
    assert.deepEqual(result.events!.map((event) => event.type), ['text-delta', 'text-delta', 'text-delta', 'message']);
    assert.equal(result.events!.at(-1)!.userId, 'ivan');
    await page.close();
  });

  test('talks over the WebSocket subprotocol from an allowed origin', async () => {
    const page = await context.newPage();
    await page.goto(allowed.origin);
    const id = sessionId('browserws');
    const url = `${harness.baseUrl.replace('http', 'ws')}/runtimes/web_agent/ws?X-Amzn-Bedrock-AgentCore-Runtime-Session-Id=${id}`;
    const result = await seedWebSocket(page, { url, token });
    assert.equal(result.opened, true);
    assert.equal(result.protocol, 'base64UrlBearerAuthorization');
    assert.deepEqual(result.frames.map((frame) => frame.type), ['text-delta', 'text-delta', 'text-delta', 'message']);
    assert.equal(result.frames.at(-1)!.sessionId, id);
    await page.close();
  });

  test('refuses both from an origin that is not allowed, and the agent receives nothing', async () => {
    const before = (await harness.records()).length;
    const page = await context.newPage();
    await page.goto(foreign.origin);
    const sse = await seedSse(page, { url: harness.url('web_agent'), token, sessionId: sessionId('foreign') });
    assert.equal(sse.ok, false);
    assert.match(sse.error!, /Failed to fetch/);
    const url = `${harness.baseUrl.replace('http', 'ws')}/runtimes/web_agent/ws?X-Amzn-Bedrock-AgentCore-Runtime-Session-Id=${sessionId('foreignws')}`;
    const ws = await seedWebSocket(page, { url, token });
    assert.equal(ws.opened, false);
    assert.equal(ws.closeCode, 1006);
    assert.equal((await harness.records()).length, before);
    await page.close();
  });
});
