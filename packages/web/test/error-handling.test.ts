import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { ask, createUser, poolAuthorizer, recordConsole, screenshot, signIn, startWebApp, webAppIdentity, type TestUser, type WebApp } from '@gatehouse/testing/browser-harness';

// Ids fixed so the runtime's authorizer can name them before the stack starts (public values, not secrets).
const POOL = { userPoolId: 'local_WebErrors1', clientId: 'weberrorsclient00000000001' };
const REQUESTS_PER_MINUTE = 4;

let app: WebApp;
let page: Page;
let readOnly: TestUser;
let readWrite: TestUser;

before(async () => {
  const agentModule: string = '@gatehouse/agent';
  const { agentEntryPath } = (await import(agentModule)) as { agentEntryPath: string };
  app = await startWebApp((base) => ({
    identity: webAppIdentity(base, { pool: POOL }),
    runtimes: [
      {
        agentRuntimeName: 'ops_agent',
        agent: { command: [process.execPath, agentEntryPath] },
        allowedOrigins: [base],
        // Only members of ops-readwrite may use this agent; a tight rate makes throttling reachable.
        authorizerConfiguration: {
          customJWTAuthorizer: {
            ...poolAuthorizer(base, POOL),
            customClaims: [
              {
                inboundTokenClaimName: 'cognito:groups',
                inboundTokenClaimValueType: 'STRING_ARRAY',
                authorizingClaimMatchValue: { claimMatchOperator: 'CONTAINS', claimMatchValue: { matchValueString: 'ops-readwrite' } },
              },
            ],
          },
        },
        limits: { requestsPerMinutePerPrincipal: REQUESTS_PER_MINUTE, warmPoolSize: 0 },
      },
    ],
  }));
  [readOnly, readWrite] = await Promise.all([createUser(app.stack, 'ops-readonly'), createUser(app.stack, 'ops-readwrite')]);
  page = await app.browser.context.newPage();
});

after(() => app?.close());

test('a user the runtime refuses sees what was refused and why, with no retry offered', async () => {
  const lines = recordConsole(page);
  await signIn(page, `${app.stack.url}/`, readOnly);
  await page.getByText('The account list could not be loaded.').waitFor({ timeout: 60_000 });
  await ask(page, 'List S3 buckets in the Production account');
  const error = page.locator('article.entry-assistant').last().locator('[data-error]');
  assert.equal(await error.getAttribute('data-error'), 'access_denied');
  const text = await error.innerText();
  assert.match(text, /The runtime refused this request/);
  assert.match(text, /AccessDeniedException/);
  assert.match(text, /cognito:groups|claim/i, 'the runtime’s reason is shown');
  assert.match(text, /administrator/);
  assert.equal(await error.getByRole('button', { name: 'Retry' }).count(), 0);
  assert.equal(await page.locator('article.entry-assistant .tool').count(), 0, 'no tool ran');
  await screenshot(page, 'web-error-access-denied');
  assert.doesNotMatch(lines.join('\n'), /eyJ[\w-]{10,}\./);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
});

test('a dropped connection offers a retry that completes the turn, and throttling says to retry later', async () => {
  await signIn(page, `${app.stack.url}/`, readWrite);
  await page.getByTestId('accounts').getByText('Production', { exact: true }).waitFor({ timeout: 60_000 });

  await app.browser.context.setOffline(true);
  await page.getByRole('status').filter({ hasText: 'Offline' }).waitFor();
  await ask(page, 'List S3 buckets in the Production account');
  const failed = page.locator('article.entry-assistant').last();
  assert.equal(await failed.locator('[data-error]').getAttribute('data-error'), 'network');
  assert.match(await failed.innerText(), /Connection lost/);
  await screenshot(page, 'web-error-offline');
  await app.browser.context.setOffline(false);
  await page.getByRole('status').filter({ hasText: 'Ready' }).waitFor();
  const before = await page.locator('article.entry-assistant').count();
  await failed.getByRole('button', { name: 'Retry' }).click();
  const retried = page.locator('article.entry-assistant').nth(before);
  await retried.and(page.locator('[data-done="true"]')).waitFor({ timeout: 60_000 });
  assert.equal((await retried.locator('.tool-status').innerText()).toLowerCase(), 'ok');

  // Accounts (1) and the retried turn (2) used part of this minute's budget; keep asking until refused.
  let throttled = false;
  for (let attempt = 0; attempt < REQUESTS_PER_MINUTE && !throttled; attempt++) {
    await ask(page, 'List my accounts');
    throttled = (await page.locator('article.entry-assistant').last().locator('[data-error="throttled"]').count()) === 1;
  }
  assert.ok(throttled, 'the runtime throttled the user');
  const notice = await page.locator('article.entry-assistant').last().locator('[data-error]').innerText();
  assert.match(notice, /Too many requests/);
  assert.match(notice, /ThrottlingException/);
  assert.match(notice, /retry/i);
  await screenshot(page, 'web-error-throttled');
});
