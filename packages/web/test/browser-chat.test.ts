import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { adminCredentials, ask, createUser, distDirectory, fillHostedLogin, pageTokens, recordConsole, runtimeInvocationsUrl, screenshot, signIn, startWebApp, type TestUser, type WebApp } from '@gatehouse/testing/browser-harness';
import type { Page } from 'playwright-core';

let app: WebApp;
let user: TestUser;
// One tab for the whole file: tokens live in sessionStorage, which is per tab by design.
let page: Page;
let consoleLines: string[] = [];
const seenTokens: string[] = [];

before(async () => {
  app = await startWebApp();
  user = await createUser(app.stack);
  page = await app.browser.context.newPage();
  consoleLines = recordConsole(page);
});

after(() => app?.close());

test('a new user signs in through the hosted login and sees the streamed answer with the tool call and its result', async () => {
  await signIn(page, `${app.stack.url}/`, user);
  const tokens = await pageTokens(page, app.stack);
  seenTokens.push(tokens.access_token, tokens.id_token, ...(tokens.refresh_token ? [tokens.refresh_token] : []));
  // Tokens live in this tab's sessionStorage only, never in localStorage.
  const local = await page.evaluate(() => JSON.stringify({ ...localStorage }));
  assert.ok(!local.includes(tokens.access_token) && !local.includes('refresh_token'), 'no token in localStorage');

  // Watch the transcript while it renders: the tool card must show before the answer text is complete.
  await page.evaluate(() => {
    const snapshots: { tool: boolean; text: number }[] = [];
    (window as unknown as { snapshots: typeof snapshots }).snapshots = snapshots;
    new MutationObserver(() => {
      const answer = document.querySelectorAll('article.entry-assistant');
      const last = answer[answer.length - 1];
      if (!last) return;
      snapshots.push({ tool: last.querySelector('.tool') !== null, text: last.querySelector('.markdown')?.textContent?.length ?? 0 });
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  // The accounts panel asks the agent in the background first; wait for it so only the question is counted.
  await page.getByTestId('accounts').or(page.getByText('could not be loaded')).waitFor({ timeout: 60_000 });
  const streamTypes: string[] = [];
  page.on('response', (response) => {
    if (response.url().includes('/invocations') && response.request().method() === 'POST') streamTypes.push(response.headers()['content-type']?.split(';')[0] ?? '');
  });
  await ask(page, 'List S3 buckets in the Production account');
  const answer = page.locator('article.entry-assistant').last();
  const tool = answer.locator('.tool');
  assert.equal(await tool.getAttribute('data-tool'), 'ops___call_aws');
  assert.match(await tool.locator('.tool-account').innerText(), /Production/);
  assert.equal((await tool.locator('.tool-status').innerText()).toLowerCase(), 'ok');
  await tool.locator('summary').click();
  assert.match(await tool.locator('pre').first().innerText(), /"account": "Production"/);
  await tool.locator('summary').click();
  const text = await answer.locator('.markdown').innerText();
  assert.ok(text.length > 20, `answer text: ${text}`);
  const snapshots = await page.evaluate(() => (window as unknown as { snapshots: { tool: boolean; text: number }[] }).snapshots);
  assert.ok(snapshots.some((snapshot) => snapshot.tool && snapshot.text === 0), 'the tool call was shown before the answer text');
  assert.deepEqual(streamTypes, ['text/event-stream'], 'the answer came as one SSE stream');

  // The accounts panel filled from the agent's list_accounts result.
  await page.getByTestId('accounts').getByText('Production', { exact: true }).waitFor();
  await screenshot(page, 'web-chat-signed-in');
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, 'web-chat-narrow');
  await page.setViewportSize({ width: 1280, height: 800 });

  // The conversation id survives a reload; the transcript stays on screen.
  const sessionBefore = await page.locator('.composer code').getAttribute('title');
  await page.reload();
  await page.getByLabel('Message the operations agent').waitFor();
  assert.equal(await page.locator('.composer code').getAttribute('title'), sessionBefore);
  assert.ok((sessionBefore ?? '').length >= 33);
  await page.locator('article.entry-assistant .tool').first().waitFor();
});

test('every control has an accessible name, Tab reaches the message box, and Shift+Enter adds a line without sending', async () => {
  const unnamed = await page.evaluate(() =>
    [...document.querySelectorAll('button, input, textarea, select, a[href]')]
      .filter((element) => {
        const labelled = element.getAttribute('aria-label') || (element as HTMLInputElement).labels?.[0]?.textContent?.trim();
        return !labelled && !element.textContent?.trim();
      })
      .map((element) => element.outerHTML.slice(0, 80)),
  );
  assert.deepEqual(unnamed, []);
  assert.equal(await page.getByRole('log', { name: 'Messages' }).getAttribute('aria-live'), 'polite');
  const entries = await page.locator('article.entry').count();
  const box = page.getByLabel('Message the operations agent');
  await page.getByRole('button', { name: 'Sign out' }).focus();
  let reached = false;
  for (let step = 0; step < 20 && !reached; step++) {
    await page.keyboard.press('Tab');
    reached = await box.evaluate((element) => element === document.activeElement);
  }
  assert.ok(reached, 'Tab reaches the message box');
  await page.keyboard.type('first line');
  await page.keyboard.press('Shift+Enter');
  await page.keyboard.type('second line');
  assert.equal(await box.inputValue(), 'first line\nsecond line');
  assert.equal(await page.locator('article.entry').count(), entries, 'nothing was sent');
  await box.fill('');
});

test('WebSocket mode gives the same conversation over the subprotocol-token socket', async () => {
  const invocations: string[] = [];
  const sockets: string[] = [];
  page.on('request', (request) => {
    if (request.url().includes('/invocations')) invocations.push(request.url());
  });
  page.on('websocket', (socket) => sockets.push(socket.url()));
  await page.getByLabel('WebSocket').check();
  await page.getByRole('button', { name: 'New conversation' }).click();
  const invocationsBefore = invocations.length;
  await ask(page, 'List S3 buckets in the Production account');
  const answer = page.locator('article.entry-assistant').last();
  assert.equal(await answer.locator('.tool').getAttribute('data-tool'), 'ops___call_aws');
  assert.equal((await answer.locator('.tool-status').innerText()).toLowerCase(), 'ok');
  assert.ok((await answer.locator('.markdown').innerText()).length > 20);
  assert.equal(sockets.length, 1);
  assert.match(sockets[0] ?? '', /\/runtimes\/[^/]+\/ws\?qualifier=DEFAULT&X-Amzn-Bedrock-AgentCore-Runtime-Session-Id=/);
  assert.equal(invocations.length, invocationsBefore, 'no HTTP invocation in WebSocket mode');
  assert.match(await page.getByRole('status').first().innerText(), /WebSocket \(open\)/);
  await screenshot(page, 'web-chat-websocket');
  await page.getByLabel('SSE').check();
});

test('a page served from an origin the runtime does not allow cannot call it, and the runtime gets no invocation', async () => {
  const { access_token: accessToken } = await pageTokens(page, app.stack);
  const foreign = await app.browser.context.newPage();

  // A recording forwarder in front of the runtime shows what the browser actually sent.
  const forwarded: { method: string; status: number }[] = [];
  const target = new URL(app.stack.url);
  const forwarder = createServer((incoming, outgoing) => {
    const upstream = httpRequest(
      { host: '127.0.0.1', port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
      (response) => {
        forwarded.push({ method: incoming.method ?? '', status: response.statusCode ?? 0 });
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(outgoing);
      },
    );
    incoming.pipe(upstream);
  });
  const forwarderUrl = await listenOn(forwarder);
  const invocationUrl = runtimeInvocationsUrl(app.stack).replace(app.stack.url, forwarderUrl);
  const other = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>other origin</title>');
  });
  const otherUrl = await listenOn(other);
  try {
    await foreign.goto(`${otherUrl}/`);
    const outcome = await foreign.evaluate(
      async ({ url, token, sessionId }) => {
        try {
          const response = await fetch(url, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-amzn-bedrock-agentcore-runtime-session-id': sessionId },
            body: JSON.stringify({ prompt: 'List S3 buckets in the Production account' }),
          });
          return `answered ${response.status}`;
        } catch (error) {
          return `blocked ${(error as Error).name}`;
        }
      },
      { url: invocationUrl, token: accessToken, sessionId: `${randomUUID()}-cors` },
    );
    assert.equal(outcome, 'blocked TypeError');
    assert.deepEqual(forwarded.map((entry) => entry.method), ['OPTIONS'], 'only the preflight reached the runtime');
    assert.ok((forwarded[0]?.status ?? 0) >= 400, 'the preflight was refused');

    // Browsers apply no CORS to WebSockets, so the runtime itself must refuse the foreign Origin at the handshake.
    const wsUrl = runtimeInvocationsUrl(app.stack).replace(/^http/, 'ws').replace('/invocations?qualifier=DEFAULT', `/ws?qualifier=DEFAULT&X-Amzn-Bedrock-AgentCore-Runtime-Session-Id=${randomUUID()}-cors-ws`);
    const socketOutcome = await foreign.evaluate(
      ({ url, token }) =>
        new Promise<string>((resolve) => {
          const encoded = btoa(token).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
          const socket = new WebSocket(url, [`base64UrlBearerAuthorization.${encoded}`, 'base64UrlBearerAuthorization']);
          socket.onopen = () => {
            socket.close();
            resolve('opened');
          };
          socket.onclose = () => resolve('refused');
        }),
      { url: wsUrl, token: accessToken },
    );
    assert.equal(socketOutcome, 'refused');
  } finally {
    await foreign.close();
    // Chromium keeps loopback connections alive; drop them so close() returns now.
    for (const server of [forwarder, other]) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }
});

test('when the sign-in is revoked the app asks to sign in again and keeps the unsent message', async () => {
  const tokens = await pageTokens(page, app.stack);
  assert.ok(tokens.refresh_token, 'the code flow gave a refresh token');
  const revoked = await fetch(`${app.stack.url}/oauth2/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: tokens.refresh_token, client_id: app.stack.settings.clientId }),
  });
  assert.equal(revoked.status, 200);
  const message = 'List S3 buckets in the Staging account';
  await ask(page, message);
  const answer = page.locator('article.entry-assistant').last();
  assert.equal(await answer.locator('[data-error]').getAttribute('data-error'), 'signin_expired');
  assert.equal(await answer.locator('.tool').count(), 0, 'nothing ran with the revoked sign-in');
  const box = page.getByLabel('Message the operations agent');
  assert.equal(await box.inputValue(), message, 'the message is back in the box');
  await screenshot(page, 'web-error-signin-expired');

  await answer.getByRole('button', { name: 'Sign in again' }).click();
  // The hosted login may still remember this browser; fill the form only if it asks.
  const password = page.getByLabel(/password/i).first();
  await box.or(password).waitFor();
  if (await password.isVisible()) await fillHostedLogin(page, user);
  await box.waitFor();
  assert.equal(await box.inputValue(), message, 'the message survived the sign-in round trip');
  const renewed = await pageTokens(page, app.stack);
  assert.notEqual(renewed.access_token, tokens.access_token);
  seenTokens.push(renewed.access_token, renewed.id_token, ...(renewed.refresh_token ? [renewed.refresh_token] : []));
});

test('the production build contains no credentials or tokens, and the console never showed a token', () => {
  const admin = adminCredentials(app.stack);
  const secrets = [user.password, admin.secretAccessKey, admin.accessKeyId, ...seenTokens];
  if (app.stack.firstRun) secrets.push(app.stack.firstRun.password);
  const files: string[] = [];
  const walk = (directory: string): void => {
    for (const name of readdirSync(directory)) {
      const full = path.join(directory, name);
      if (statSync(full).isDirectory()) walk(full);
      else files.push(full);
    }
  };
  walk(distDirectory);
  assert.ok(files.some((file) => file.endsWith('.js')), 'the build has a bundle');
  assert.ok(!files.some((file) => file.endsWith('.map')), 'no source maps in the build');
  for (const file of files) {
    const content = readFileSync(file, 'utf8');
    for (const secret of secrets) assert.ok(!content.includes(secret), `${path.basename(file)} contains a secret`);
    assert.doesNotMatch(content, /eyJ[\w-]{10,}\.eyJ[\w-]{10,}\./, `${path.basename(file)} contains a JWT`);
    assert.doesNotMatch(content, /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/, `${path.basename(file)} contains an AWS access key`);
    assert.doesNotMatch(content, /client_secret\s*[:=]\s*["'][^"']+["']/, `${path.basename(file)} contains a client secret`);
  }
  assert.ok(seenTokens.length >= 2, 'the sign-in test recorded the tokens');
  const consoleText = consoleLines.join('\n');
  for (const token of seenTokens) assert.ok(!consoleText.includes(token), 'a token appeared in the browser console');
  assert.doesNotMatch(consoleText, /eyJ[\w-]{10,}\./);
  // The page's Content-Security-Policy let everything the app needs through (nothing was blocked).
  assert.doesNotMatch(consoleText, /Content Security Policy/i);
  assert.match(readFileSync(path.join(distDirectory, 'index.html'), 'utf8'), /http-equiv="Content-Security-Policy"[^>]*script-src 'self'/);
});

async function listenOn(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return `http://127.0.0.1:${address.port}`;
}
