import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { AdminGetUserCommand } from '@aws-sdk/client-cognito-identity-provider';
import { fillHostedLogin } from '@gatehouse/testing/browser-harness';
import { adminCreateUser } from '@gatehouse/testing/cognito-users';
import { callPage as call, startNavigation, startSpaStack, valueOf, type Outcome, type SpaStack } from './support/spa-stack.ts';

// Amplify v6 from a page on another origin (http://127.0.0.1:{app}) against Gatehouse over `--https`
// (https://localhost:{port}): the Cognito JSON API by CORS, and signInWithRedirect, which Amplify only
// ever sends to https://{domain}. Chromium accepts exactly the server key Gatehouse generated
// (--ignore-certificate-errors-spki-list); no certificate error is ignored otherwise.

const USER = { username: 'amelia', password: 'Amelia-Password-1' };
let stack: SpaStack;
const settings: Record<string, string> = {};

before(async () => {
  stack = await startSpaStack({
    entry: path.join(import.meta.dirname, 'support', 'amplify-page.mjs'),
    bodyHtml: '<p id="ready"></p>',
    settings,
    https: true,
    spaClient: (appOrigin) => ({ explicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'], callbackUrls: [`${appOrigin}/`], logoutUrls: [`${appOrigin}/`] }),
  });
  Object.assign(settings, { userPoolId: stack.userPoolId, clientId: stack.clientId, endpoint: stack.gatehouse.url, oauthDomain: new URL(stack.gatehouse.url).host });
  await adminCreateUser(stack.admin, { userPoolId: stack.userPoolId, ...USER, attributes: { email: 'amelia@example.test', email_verified: 'true' } });
});

after(async () => {
  await stack?.close();
});

interface PageSession { access: string; id: string; accessClaims: Record<string, unknown>; idClaims: Record<string, unknown> }

async function openApp(): Promise<Page> {
  const page = await stack.context.newPage();
  await page.goto(`${stack.appOrigin}/`);
  await page.locator('#ready', { hasText: 'ready' }).waitFor();
  return page;
}

function value<T>(outcome: Outcome<T>): T {
  return valueOf(outcome, 'Amplify');
}

test('Amplify v6 on another origin: SRP sign-in, session and forced refresh, attributes read and updated, global sign-out revokes', async () => {
  const page = await openApp();
  try {
    assert.equal(value(await call<string>(page, 'signIn', USER.username, USER.password)), 'DONE');
    assert.equal(value(await call<string>(page, 'currentUser')), USER.username);
    const first = value(await call<PageSession>(page, 'session', false));
    assert.equal(first.accessClaims.client_id, settings.clientId);
    assert.equal(first.accessClaims.token_use, 'access');
    assert.equal(first.idClaims.email, 'amelia@example.test');
    assert.equal(first.idClaims.iss, `${stack.gatehouse.url}/${settings.userPoolId}`);

    const refreshed = value(await call<PageSession>(page, 'session', true));
    assert.notEqual(refreshed.access, first.access, 'forceRefresh got new tokens with the refresh token');
    assert.equal(refreshed.accessClaims.sub, first.accessClaims.sub);

    const attributes = value(await call<Record<string, string>>(page, 'attributes'));
    assert.equal(attributes.email, 'amelia@example.test');
    assert.equal(attributes.sub, first.accessClaims.sub);
    assert.deepEqual(value(await call<string[]>(page, 'updateAttributes', { name: 'Amelia Pond', 'custom:team': 'ops' })).sort(), ['custom:team', 'name']);
    const stored = await stack.admin.send(new AdminGetUserCommand({ UserPoolId: settings.userPoolId, Username: USER.username }));
    const byName = Object.fromEntries((stored.UserAttributes ?? []).map((attribute) => [attribute.Name, attribute.Value]));
    assert.equal(byName.name, 'Amelia Pond');
    assert.equal(byName['custom:team'], 'ops');

    value(await call(page, 'signOut', true));
    const after = await call<PageSession>(page, 'session', false);
    assert.equal(after.ok && after.value, undefined, 'no tokens after sign-out');
    // The access token the page held is refused by Gatehouse now (GlobalSignOut revoked it).
    const userInfo = await fetch(`${stack.gatehouse.url}/oauth2/userInfo`, { headers: { authorization: `Bearer ${refreshed.access}` } });
    assert.equal(userInfo.status, 401);
    assert.ok(page.url().startsWith(stack.appOrigin), 'the page never left its origin');
  } finally {
    await page.close();
  }
});

test('Amplify v6 resetPassword: the code in the outbox and confirmResetPassword set a new password that SRP sign-in accepts; the old one is refused', async () => {
  const username = 'rory';
  await adminCreateUser(stack.admin, { userPoolId: stack.userPoolId, username, password: 'Rory-Password-1', attributes: { email: 'rory@example.test', email_verified: 'true' } });
  const page = await openApp();
  try {
    assert.deepEqual(value(await call(page, 'resetPassword', username)), { step: 'CONFIRM_RESET_PASSWORD_WITH_CODE', medium: 'EMAIL' });
    const message = readFileSync(path.join(stack.dataDir, 'outbox.log'), 'utf8').split('\n').filter(Boolean)
      .map((line) => JSON.parse(line) as { username: string; body: string }).filter((entry) => entry.username === username).at(-1);
    const code = message && /(\d{6})/.exec(message.body)?.[1];
    assert.ok(code, 'a reset code in the outbox');
    const wrong = await call(page, 'confirmResetPassword', username, code === '000000' ? '111111' : '000000', 'Rory-Password-2');
    assert.equal(!wrong.ok && wrong.name, 'CodeMismatchException');
    value(await call(page, 'confirmResetPassword', username, code, 'Rory-Password-2'));
    const old = await call<string>(page, 'signIn', username, 'Rory-Password-1');
    assert.equal(!old.ok && old.name, 'NotAuthorizedException');
    assert.equal(value(await call<string>(page, 'signIn', username, 'Rory-Password-2')), 'DONE');
    value(await call(page, 'signOut', false));
  } finally {
    await page.close();
  }
});

test('Amplify v6 signInWithRedirect over --https: the hosted login, back to the app with a code, tokens in the session; signOut ends the hosted session through /logout', async () => {
  const page = await openApp();
  try {
    const redirect = page.waitForURL((url) => url.origin === stack.gatehouse.url);
    startNavigation(page, 'signInWithRedirect');
    await redirect;
    assert.equal(new URL(page.url()).protocol, 'https:');
    await fillHostedLogin(page, USER);
    await page.waitForURL((url) => url.origin === stack.appOrigin);
    await page.locator('#ready', { hasText: 'ready' }).waitFor();
    await page.waitForFunction(() => (window as unknown as { gatehouseTest: { hubEvents: string[] } }).gatehouseTest.hubEvents.includes('signInWithRedirect'));
    const session = value(await call<PageSession>(page, 'session', false));
    assert.equal(session.accessClaims.client_id, settings.clientId);
    assert.equal(session.idClaims['cognito:username'] ?? session.accessClaims.username, USER.username);
    assert.equal(value(await call<string>(page, 'currentUser')), USER.username);

    // signOut after a redirect sign-in goes through the hosted /logout (client_id + logout_uri) and back.
    const loggedOut = page.waitForRequest((request) => request.url().startsWith(`${stack.gatehouse.url}/logout?`));
    startNavigation(page, 'signOut', false);
    const logoutRequest = new URL((await loggedOut).url());
    assert.equal(logoutRequest.searchParams.get('client_id'), settings.clientId);
    assert.equal(logoutRequest.searchParams.get('logout_uri'), `${stack.appOrigin}/`);
    await page.waitForURL((url) => url.origin === stack.appOrigin);
    await page.locator('#ready', { hasText: 'ready' }).waitFor();
    const after = await call<PageSession>(page, 'session', false);
    assert.equal(after.ok && after.value, undefined, 'no tokens after sign-out');
    // The hosted-UI session ended too: signing in again asks for the password.
    const again = page.waitForURL((url) => url.origin === stack.gatehouse.url && url.pathname === '/login');
    startNavigation(page, 'signInWithRedirect');
    await again;
    await page.getByLabel(/password/i).first().waitFor();
  } finally {
    await page.close();
  }
});
