import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { closeServer } from '@gatehouse/core';
import { launchBrowser, type Browser } from '@gatehouse/testing/browser-harness';
import { sessionId, startHarness, type Harness } from './support/runtime-harness.ts';
import { assertSseAnswer, assertWebSocketAnswer, openTab, pageServer, seedSse, seedWebSocket, webSocketUrl } from './support/seed-browser.ts';

describe('the seeds’ browser code in Chromium', () => {
  let harness: Harness;
  let allowed: { server: Server; origin: string };
  let foreign: { server: Server; origin: string };
  let browser: Browser;
  let token: string;

  before(async () => {
    allowed = await pageServer();
    foreign = await pageServer();
    harness = await startHarness({ runtimes: [{ agentRuntimeName: 'web_agent', allowedOrigins: [allowed.origin], limits: { warmPoolSize: 1 } }] });
    token = harness.issuer.sign({ sub: 'ivan' });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await harness?.close();
    await closeServer(allowed.server);
    await closeServer(foreign.server);
  });

  test('streams SSE with Bearer and the session header from an allowed origin', async () => {
    const page = await openTab(browser.context, allowed.origin);
    const id = crypto.randomUUID() + '-browser';
    assertSseAnswer(await seedSse(page, { url: harness.url('web_agent'), token, sessionId: id }), { sessionId: id, userId: 'ivan' });
    await page.close();
  });

  test('talks over the WebSocket subprotocol from an allowed origin', async () => {
    const page = await openTab(browser.context, allowed.origin);
    const id = sessionId('browserws');
    assertWebSocketAnswer(await seedWebSocket(page, { url: webSocketUrl(harness, 'web_agent', id), token }), id);
    await page.close();
  });

  test('refuses both from an origin that is not allowed, and the agent receives nothing', async () => {
    const before = (await harness.records()).length;
    const page = await openTab(browser.context, foreign.origin);
    const sse = await seedSse(page, { url: harness.url('web_agent'), token, sessionId: sessionId('foreign') });
    assert.equal(sse.ok, false);
    assert.match(sse.error!, /Failed to fetch/);
    const ws = await seedWebSocket(page, { url: webSocketUrl(harness, 'web_agent', sessionId('foreignws')), token });
    assert.equal(ws.opened, false);
    assert.equal(ws.closeCode, 1006);
    assert.equal((await harness.records()).length, before);
    await page.close();
  });
});
