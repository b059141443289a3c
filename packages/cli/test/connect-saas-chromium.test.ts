// The whole story in Chromium: a signed-in user asks the reference agent a question whose tool acts with the user's
// own SaaS account → the chat shows "Connect saas" → the SaaS's own login and consent pages (oidc-provider) in a popup
// → back in the chat, the same question is asked again and answered with the user's SaaS data; a second question
// reuses the stored token (no consent); past expiry the vault refreshes it; "Disconnect apps" revokes it and the
// next question asks again. With popups blocked (window.open answering null), the consent happens in the
// chat's own tab instead and the SaaS redirects back to the app, which completes it and asks the question again.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { chromium, type Page } from 'playwright-core';
import type { RunningGatehouse } from '../src/start-gatehouse.ts';
import { prepareVaultStack } from './support/vault-session.ts';
import { SAAS_SCOPE, startSaas, type Saas } from '@gatehouse/testing/saas-server';
import { ask, createUser, launchBrowser, pageTokens, signIn, type Browser, type TestUser } from '@gatehouse/testing/browser-harness';

let dir: string;
let saas: Saas;
let gatehouse: RunningGatehouse;
let browser: Browser;
let user: TestUser;

before(async () => {
  // The default pool's issuer (learnt from a first start) is what the gateway declared below trusts.
  const { dir: stackDir, port, discoveryUrl, start } = await prepareVaultStack('gatehouse-connect-');
  dir = stackDir;
  // 70-second SaaS tokens: the vault refreshes 60 s before expiry, so a token is reused for 10 s, then refreshed.
  saas = await startSaas({ callbackUrl: `http://localhost:${port}/identities/oauth2/callback`, accessTokenSeconds: 70 });
  process.env.GATEHOUSE_SECRET_SAAS_CLIENT = saas.clientSecret;
  gatehouse = await start({
    tokenVault: { oauth2CredentialProviders: [{ name: 'saas', discoveryUrl: saas.discoveryUrl, clientId: saas.clientId, clientSecretName: 'saas_client' }] },
    gateways: [{
      name: 'default',
      authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl } },
      targets: [{
        name: 'tickets',
        targetConfiguration: { mcp: { mcpServer: { endpoint: saas.mcpUrl } } },
        credentialProviderConfigurations: [{
          credentialProviderType: 'OAUTH',
          oauthCredentialProvider: { providerArn: 'arn:aws:bedrock-agentcore:local:000000000000:token-vault/default/oauth2credentialprovider/saas', grantType: 'AUTHORIZATION_CODE', scopes: ['openid', SAAS_SCOPE] },
        }],
      }],
    }],
  });
  user = await createUser(gatehouse as never);
  browser = await launchBrowser();
  // offline: the SaaS's pages import a web font; nothing may leave this machine
  await browser.context.route(/^https?:\/\/(?!127\.0\.0\.1|localhost)/, (route) => route.abort());
});

after(async () => {
  await browser?.close();
  await gatehouse?.close();
  await saas?.close();
  delete process.env.GATEHOUSE_SECRET_SAAS_CLIENT;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function lastAnswer(page: Page): ReturnType<Page['locator']> {
  return page.locator('article.entry-assistant').last();
}

test('question → Connect saas → SaaS login and consent in a popup → the same question answered; reused; refreshed; disconnected', async () => {
  const page = await browser.context.newPage();
  await signIn(page, `${gatehouse.url}/`, user);

  await ask(page, 'list tickets');
  const connect = lastAnswer(page).getByRole('link', { name: 'Connect saas' });
  await connect.waitFor();
  const popupOpened = page.waitForEvent('popup');
  await connect.click();
  const popup = await popupOpened;
  await popup.waitForURL((url) => url.href.startsWith(saas.issuer));
  await popup.fill('input[name=login]', 'alice-at-saas');
  await popup.fill('input[name=password]', 'any');
  await popup.click('button[type=submit]');
  await popup.click('button:has-text("Continue")');
  await popup.waitForEvent('close', { timeout: 30_000 });

  // Back in the chat: the same question is asked again on its own and answered with the SaaS data.
  await page.locator('article.entry-assistant .markdown', { hasText: 'tickets of alice-at-saas' }).waitFor({ timeout: 60_000 });
  assert.equal(await page.locator('article.entry-user', { hasText: 'list tickets' }).count(), 2, 'the question was asked again');
  const codes = saas.grants.authorization_code ?? 0;

  await ask(page, 'list tickets');
  assert.match(await lastAnswer(page).innerText(), /tickets of alice-at-saas/);
  assert.equal(saas.grants.authorization_code ?? 0, codes, 'the stored token was reused: no new consent');

  // Past the refresh point: the vault refreshes the SaaS token with its refresh token, still no consent.
  // (whatever this token's age, the one in the vault now was issued before this moment)
  const refreshes = saas.grants.refresh_token ?? 0;
  await new Promise((resolve) => setTimeout(resolve, 11_000));
  await ask(page, 'list tickets');
  assert.match(await lastAnswer(page).innerText(), /tickets of alice-at-saas/);
  assert.ok((saas.grants.refresh_token ?? 0) > refreshes, 'refreshed at the SaaS');
  assert.equal(saas.grants.authorization_code ?? 0, codes, 'no new consent for a refresh');

  // "Disconnect apps" (with the user's own token): the SaaS revokes it, the next question asks for consent again.
  const { access_token: accessToken } = await pageTokens(page, gatehouse as never);
  const revoked = saas.revocations();
  await page.getByRole('button', { name: 'Disconnect apps' }).click();
  await page.locator('[data-vault-notice]', { hasText: 'Disconnected 1 app connection' }).waitFor();
  assert.equal(saas.revocations(), revoked + 1);
  await ask(page, 'list tickets');
  await lastAnswer(page).getByRole('link', { name: 'Connect saas' }).waitFor();
  for (const header of saas.seenAuthorizations) assert.ok(!header.includes(accessToken), 'the SaaS never saw a Gatehouse token');
  await page.close();
});

test('popups blocked: Connect saas consents in the same tab, the SaaS redirects back to the app, the same question is answered', async () => {
  // Chromium's own blocker lets a popup opened by a click through (and --block-new-web-contents does not change what
  // window.open answers), so this context stands in for a blocker (an extension, an in-app browser, a policy): to the
  // page a blocked popup is window.open answering null, nothing else is changed.
  const blocking = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const context = await blocking.newContext();
    context.setDefaultTimeout(30_000);
    await context.addInitScript(() => {
      window.open = () => null;
    });
    await context.route(/^https?:\/\/(?!127\.0\.0\.1|localhost)/, (route) => route.abort());
    const page = await context.newPage();
    const other = await createUser(gatehouse as never);
    await signIn(page, `${gatehouse.url}/`, other);
    await ask(page, 'list tickets');
    let popups = 0;
    context.on('page', () => popups++);
    await lastAnswer(page).getByRole('link', { name: 'Connect saas' }).click();
    // no popup: this tab goes to the SaaS's own login and consent pages
    await page.waitForURL((url) => url.href.startsWith(saas.issuer));
    await page.fill('input[name=login]', 'bob-at-saas');
    await page.fill('input[name=password]', 'any');
    await page.click('button[type=submit]');
    await page.click('button:has-text("Continue")');
    // back in the app (still signed in), the consent is completed as this user and the question asked again
    await page.waitForURL((url) => url.origin === new URL(gatehouse.url).origin);
    await page.locator('article.entry-assistant .markdown', { hasText: 'tickets of bob-at-saas' }).waitFor({ timeout: 60_000 });
    assert.equal(popups, 0, 'no window was opened');
    assert.equal(new URL(page.url()).searchParams.has('session_id'), false, 'the consent handle is dropped from the address');
    assert.ok(await page.locator('article.entry-user', { hasText: 'list tickets' }).count() >= 1);
    // and the connection is kept: the next question is answered without consent
    const codes = saas.grants.authorization_code ?? 0;
    await ask(page, 'list tickets');
    assert.match(await lastAnswer(page).innerText(), /tickets of bob-at-saas/);
    assert.equal(saas.grants.authorization_code ?? 0, codes);
  } finally {
    await blocking.close();
  }
});
