import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { closeServer } from '@gatehouse/core';
import { launchBrowser, type Browser } from '@gatehouse/testing/browser-harness';
import { probeIsolation } from '../src/agent-isolation.ts';
import { agentUid, fastapiRuntime } from './support/isolation-probes.ts';
import { sessionId, startHarness, type Harness } from './support/runtime-harness.ts';
import { assertSseAnswer, assertWebSocketAnswer, openTab, pageServer, seedSse, seedWebSocket, webSocketUrl } from './support/seed-browser.ts';

const support = probeIsolation();
const skip = support.available ? false : `network namespaces are not available here (${support.reason}); run the tests as root on Linux`;
if (skip) process.stdout.write(`# skipping the isolated browser tests: ${skip}\n`);

describe('the seeds’ browser code against an isolated FastAPI agent, in Chromium', { skip }, () => {
  let harness: Harness;
  let page: { server: Server; origin: string };
  let browser: Browser;
  let token: string;

  before(async () => {
    page = await pageServer();
    harness = await startHarness({ runtimes: [fastapiRuntime('web_py', { allowedOrigins: [page.origin] })] });
    token = harness.issuer.sign({ sub: 'ivan' });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await harness?.close();
    await closeServer(page.server);
  });

  test('SSE streams through the perimeter from the namespaced agent', async () => {
    const tab = await openTab(browser.context, page.origin);
    const id = sessionId('browser-sse');
    const message = assertSseAnswer(await seedSse(tab, { url: harness.url('web_py'), token, sessionId: id }), { sessionId: id, userId: 'ivan' });
    assert.equal(message.uid, agentUid(), 'answered by the isolated agent');
    await tab.close();
  });

  test('WebSocket frames go both ways through the perimeter to the namespaced agent', async () => {
    const tab = await openTab(browser.context, page.origin);
    const id = sessionId('browser-ws');
    const message = assertWebSocketAnswer(await seedWebSocket(tab, { url: webSocketUrl(harness, 'web_py', id), token }), id);
    assert.equal(message.uid, agentUid());
    await tab.close();
  });
});
