import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { fillHostedLogin } from '@gatehouse/testing/browser-harness';
import { adminCreateUser } from '@gatehouse/testing/cognito-users';
import { callPage as call, startNavigation, startSpaStack, valueOf, type Outcome, type SpaStack } from './support/spa-stack.ts';

// oidc-client-ts from a page on another origin (http://127.0.0.1:{app}) against Gatehouse's hosted login
// and OAuth endpoints: code + PKCE, silent renew, and the standard RP-initiated signoutRedirect.

const USER = { username: 'olive', password: 'Olive-Password-1' };
let stack: SpaStack;
const settings: Record<string, string> = {};

before(async () => {
  stack = await startSpaStack({
    entry: path.join(import.meta.dirname, 'support', 'oidc-client-page.mjs'),
    bodyHtml: '<p id="callback"></p><p id="ready"></p>',
    settings,
    spaClient: (appOrigin) => ({ callbackUrls: [`${appOrigin}/callback`], logoutUrls: [`${appOrigin}/signed-out`] }),
  });
  Object.assign(settings, { authority: stack.issuer, clientId: stack.clientId });
  await adminCreateUser(stack.admin, { userPoolId: stack.userPoolId, ...USER, attributes: { email: 'olive@example.test' } });
});

after(async () => {
  await stack?.close();
});

interface PageUser { accessToken: string; idToken: string; refreshToken?: string; profile: Record<string, unknown>; expired: boolean }

function value<T>(outcome: Outcome<T>): T {
  return valueOf(outcome, 'oidc-client-ts');
}

async function ready(page: Page): Promise<void> {
  await page.locator('#ready', { hasText: /ready|error/ }).waitFor();
  assert.equal(await page.locator('#ready').textContent(), 'ready');
}

async function bearerWorks(token: string): Promise<boolean> {
  return (await fetch(`${stack.gatehouse.url}/oauth2/userInfo`, { headers: { authorization: `Bearer ${token}` } })).status === 200;
}

test('oidc-client-ts on another origin: code + PKCE through the hosted login, silent renew, and signoutRedirect that ends the session', async () => {
  const page = await stack.context.newPage();
  try {
    await page.goto(`${stack.appOrigin}/`);
    await ready(page);
    const authorize = page.waitForRequest((request) => request.url().startsWith(`${stack.gatehouse.url}/oauth2/authorize?`));
    const toLogin = page.waitForURL((url) => url.origin === stack.gatehouse.url && url.pathname === '/login');
    startNavigation(page, 'signIn');
    const authorizeUrl = new URL((await authorize).url());
    assert.equal(authorizeUrl.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(authorizeUrl.searchParams.get('response_type'), 'code');
    await toLogin;
    await fillHostedLogin(page, USER);
    await page.waitForURL((url) => url.origin === stack.appOrigin && url.pathname === '/callback');
    await ready(page);
    assert.equal(await page.locator('#callback').textContent(), `signed in as ${USER.username} (app-state)`);
    const first = value(await call<PageUser>(page, 'user'));
    assert.equal(first.profile.email, 'olive@example.test');
    assert.equal(first.profile.iss, settings.authority);
    assert.ok(first.refreshToken, 'a refresh token for silent renew');
    assert.equal(await bearerWorks(first.accessToken), true);

    const renewed = value(await call<PageUser>(page, 'renew'));
    assert.notEqual(renewed.accessToken, first.accessToken);
    assert.equal(renewed.profile.sub, first.profile.sub);
    assert.equal(renewed.expired, false);
    assert.equal(await bearerWorks(renewed.accessToken), true);

    const logout = page.waitForRequest((request) => request.url().startsWith(`${stack.gatehouse.url}/logout?`));
    startNavigation(page, 'signOut');
    const logoutUrl = new URL((await logout).url());
    assert.equal(logoutUrl.searchParams.get('id_token_hint'), renewed.idToken);
    assert.equal(logoutUrl.searchParams.get('post_logout_redirect_uri'), `${stack.appOrigin}/signed-out`);
    await page.waitForURL((url) => url.origin === stack.appOrigin && url.pathname === '/signed-out');
    assert.ok(logoutUrl.searchParams.get('state'));
    assert.equal(new URL(page.url()).searchParams.get('state'), logoutUrl.searchParams.get('state'), 'state echoed back');
    await ready(page);
    assert.equal(value(await call<PageUser | null>(page, 'user')), null, 'the app forgot the user');

    // The hosted-UI session is gone: signing in again asks for the password instead of returning at once.
    const again = page.waitForURL((url) => url.origin === stack.gatehouse.url && url.pathname === '/login');
    startNavigation(page, 'signIn');
    await again;
    await page.getByLabel(/password/i).first().waitFor();
  } finally {
    await page.close();
  }
});
