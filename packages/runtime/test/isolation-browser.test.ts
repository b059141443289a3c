import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { closeServer } from '@gatehouse/core';
import { probeIsolation } from '../src/agent-isolation.ts';
import { agentUid, fastapiRuntime } from './support/isolation-probes.ts';
import { sessionId, startHarness, type Harness } from './support/runtime-harness.ts';
import { CHROMIUM_FLAGS, pageServer, seedSse, seedWebSocket } from './support/seed-browser.ts';

const support = probeIsolation();
const skip = support.available ? false : `network namespaces are not available here (${support.reason}); run the tests as root on Linux`;
if (skip) process.stdout.write(`# skipping the isolated browser tests: ${skip}\n`);

describe('the seeds’ browser code against an isolated FastAPI agent, in Chromium', { skip }, () => {
  let harness: Harness;
  let page: { server: Server; origin: string };
  let context: BrowserContext;
  let userDataDir: string;
  let token: string;

  before(async () => {
    page = await pageServer();
    harness = await startHarness({ runtimes: [fastapiRuntime('web_py', { allowedOrigins: [page.origin] })] });
    token = harness.issuer.sign({ sub: 'ivan' });
    userDataDir = await mkdtemp(path.join(tmpdir(), 'gatehouse-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, { executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS, headless: true });
  });
  after(async () => {
    await context?.close();
    await harness?.close();
    await closeServer(page.server);
    await rm(userDataDir, { recursive: true, force: true });
  });

  test('SSE streams through the perimeter from the namespaced agent', async () => {
    const tab = await context.newPage();
    await tab.goto(page.origin);
    const id = sessionId('browser-sse');
    const result = await seedSse(tab, { url: harness.url('web_py'), token, sessionId: id });
    assert.equal(result.ok, true, result.error);
    assert.equal(result.status, 200);
    assert.equal(result.sessionHeader, id);
    assert.deepEqual(result.events!.map((event) => event.type), ['text-delta', 'text-delta', 'text-delta', 'message']);
    assert.equal(result.events!.at(-1)!.userId, 'ivan');
    assert.equal(result.events!.at(-1)!.uid, agentUid(), 'answered by the isolated agent');
    await tab.close();
  });

  test('WebSocket frames go both ways through the perimeter to the namespaced agent', async () => {
    const tab = await context.newPage();
    await tab.goto(page.origin);
    const id = sessionId('browser-ws');
    const url = `${harness.baseUrl.replace('http', 'ws')}/runtimes/web_py/ws?X-Amzn-Bedrock-AgentCore-Runtime-Session-Id=${id}`;
    const result = await seedWebSocket(tab, { url, token });
    assert.equal(result.opened, true);
    assert.equal(result.protocol, 'base64UrlBearerAuthorization');
    assert.deepEqual(result.frames.map((frame) => frame.type), ['text-delta', 'text-delta', 'text-delta', 'message']);
    assert.equal(result.frames.at(-1)!.sessionId, id);
    assert.equal(result.frames.at(-1)!.uid, agentUid());
    await tab.close();
  });
});
