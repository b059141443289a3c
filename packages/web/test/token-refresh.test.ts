import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ask, createUser, pageTokens, recordConsole, runtimeInvocationsUrl, signIn, startWebApp, webAppIdentity, type TestUser, type WebApp } from '@gatehouse/testing/browser-harness';

let app: WebApp;
let user: TestUser;

before(async () => {
  // The callback URL must be registered exactly, so the port is chosen before the stack starts.
  app = await startWebApp((base) => ({
    identity: webAppIdentity(base, {
      client: {
        explicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
        accessTokenValidity: 1,
        tokenValidityUnits: { accessToken: 'minutes', idToken: 'minutes', refreshToken: 'days' },
      },
    }),
  }));
  user = await createUser(app.stack);
});

after(() => app?.close());

async function invokeWith(token: string): Promise<{ status: number; errorType: string | null }> {
  const response = await fetch(runtimeInvocationsUrl(app.stack), {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'x-amzn-bedrock-agentcore-runtime-session-id': `${randomUUID()}-refresh-check`,
    },
    body: JSON.stringify({ prompt: 'List my accounts' }),
  });
  await response.arrayBuffer();
  return { status: response.status, errorType: response.headers.get('x-amzn-errortype') };
}

test('with 60-second access tokens a chat continues past expiry by silent refresh, and after sign-out the old token is refused', async () => {
  const page = await app.browser.context.newPage();
  const lines = recordConsole(page);
  const navigations: string[] = [];
  await signIn(page, `${app.stack.url}/`, user);
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) navigations.push(frame.url());
  });
  const first = await pageTokens(page, app.stack);
  assert.ok(first.expires_at * 1000 - Date.now() <= 61_000, 'the access token lives about a minute');

  await ask(page, 'List S3 buckets in the Production account');
  assert.equal((await page.locator('article.entry-assistant').last().locator('.tool-status').innerText()).toLowerCase(), 'ok');

  // Let the first access token expire while the chat stays open, then keep chatting.
  await sleep(Math.max(0, first.expires_at * 1000 - Date.now()) + 3_000);
  const sentTokens: string[] = [];
  page.on('request', (request) => {
    if (request.url().includes('/invocations') && request.method() === 'POST') sentTokens.push(request.headers()['authorization'] ?? '');
  });
  await ask(page, 'List S3 buckets in the Staging account');
  const answer = page.locator('article.entry-assistant').last();
  assert.equal(await answer.locator('[data-error]').count(), 0, 'no error after the expiry');
  assert.match(await answer.locator('.tool-account').innerText(), /Staging/);
  const renewed = await pageTokens(page, app.stack);
  assert.notEqual(renewed.access_token, first.access_token);
  assert.ok(renewed.expires_at > first.expires_at, 'the renewed token outlives the first');
  assert.deepEqual(sentTokens, [`Bearer ${renewed.access_token}`], 'the turn after expiry carried the renewed token');
  assert.deepEqual(navigations, [], 'renewed silently, without leaving the page');

  // Sign out: the refresh token is revoked and the hosted session ends; the old access token is dead.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  assert.equal(new URL(page.url()).origin, new URL(app.stack.url).origin);
  const refused = await invokeWith(renewed.access_token);
  assert.ok(refused.status === 401 || refused.status === 403, `the signed-out token is refused (got ${refused.status})`);
  assert.match(refused.errorType ?? '', /^(UnauthorizedException|AccessDeniedException)$/);
  if (renewed.refresh_token) {
    const response = await fetch(`${app.stack.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', client_id: app.stack.settings.clientId, refresh_token: renewed.refresh_token }),
    });
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { error: string }).error, 'invalid_grant');
  }
  const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage, ...localStorage }));
  assert.ok(!stored.includes(renewed.access_token), 'the signed-out page keeps no token');

  // The hosted session ended too: signing in again asks for the password.
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel(/password/i).first().waitFor();
  const consoleText = lines.join('\n');
  for (const token of [first.access_token, renewed.access_token, renewed.id_token]) assert.ok(!consoleText.includes(token));
  await page.close();
});
