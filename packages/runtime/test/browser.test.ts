import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { closeServer } from '@gatehouse/core';
import { sessionId, startHarness, type Harness } from './support/runtime-harness.ts';
import { CHROMIUM_FLAGS, pageServer, seedSse, seedWebSocket } from './support/seed-browser.ts';

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
