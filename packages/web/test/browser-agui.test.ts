import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { ask, createUser, poolAuthorizer, recordConsole, repositoryRoot, screenshot, signIn, startWebApp, webAppIdentity, type TestUser, type WebApp } from '@gatehouse/testing/browser-harness';

// Ids fixed so the runtime's authorizer can name them before the stack starts (public values, not secrets).
const POOL = { userPoolId: 'local_WebAgUi01', clientId: 'webaguiclient0000000000001' };
const AGUI_AGENT = path.join(repositoryRoot, 'examples', 'agui-agent', 'agent.mjs');

let app: WebApp;
let page: Page;
let user: TestUser;
let consoleLines: string[] = [];

before(async () => {
  app = await startWebApp((base) => ({
    identity: webAppIdentity(base, { pool: POOL }),
    runtimes: [
      {
        agentRuntimeName: 'agui_agent',
        agent: { command: [process.execPath, AGUI_AGENT] },
        protocolConfiguration: { serverProtocol: 'AGUI' },
        allowedOrigins: [base],
        authorizerConfiguration: { customJWTAuthorizer: poolAuthorizer(base, POOL) },
        limits: { warmPoolSize: 0 },
      },
    ],
  }));
  user = await createUser(app.stack);
  page = await app.browser.context.newPage();
  consoleLines = recordConsole(page);
});

after(() => app?.close());

test('/config.json says the runtime speaks AGUI', async () => {
  const settings = (await (await fetch(`${app.stack.url}/config.json`)).json()) as Record<string, unknown>;
  assert.equal(settings.runtimeProtocol, 'AGUI');
});

test('a question to an AG-UI runtime is answered on screen over SSE, with its tool call', async () => {
  await signIn(page, `${app.stack.url}/`, user);
  const bodies: string[] = [];
  page.on('request', (request) => {
    if (request.url().includes('/invocations') && request.method() === 'POST') bodies.push(request.postData() ?? '');
  });
  await ask(page, 'how many words are here');
  const answer = page.locator('article.entry-assistant').last();
  assert.match(await answer.locator('.markdown').innerText(), /^AG-UI agent for \S+ heard 5 words: how many words are here$/);
  const tool = answer.locator('.tool');
  assert.equal(await tool.getAttribute('data-tool'), 'word_count');
  assert.equal((await tool.locator('.tool-status').innerText()).toLowerCase(), 'ok');
  // What went out was an AG-UI RunAgentInput whose thread is the runtime session.
  const input = JSON.parse(bodies.at(-1) ?? '{}') as { threadId?: string; messages?: { role: string; content: string }[] };
  assert.deepEqual(input.messages?.map((message) => [message.role, message.content]), [['user', 'how many words are here']]);
  assert.ok(input.threadId && input.threadId.length >= 33);
  await screenshot(page, 'agui-sse');
});

test('the same AG-UI runtime answers over the WebSocket', async () => {
  await page.getByLabel('WebSocket').check();
  await ask(page, 'one two three');
  const answer = page.locator('article.entry-assistant').last();
  assert.match(await answer.locator('.markdown').innerText(), /heard 3 words: one two three$/);
  assert.match(await page.getByRole('status').first().innerText(), /WebSocket \(open\)/);
});

test('an AG-UI RUN_ERROR shows as the agent’s error on screen, and no token reached the console', async () => {
  await ask(page, 'please fail now');
  const answer = page.locator('article.entry-assistant').last();
  assert.match(await answer.innerText(), /The agent was asked to fail\./);
  assert.ok(!consoleLines.some((line) => /eyJ[\w-]{10,}\./.test(line)), consoleLines.join('\n'));
});
