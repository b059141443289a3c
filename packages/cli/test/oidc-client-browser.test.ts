import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { AdminCreateUserCommand, AdminSetUserPasswordCommand, CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { closeServer } from '@gatehouse/core';
import { startGatehouse, type RunningGatehouse } from '../src/start-gatehouse.ts';
import { serveAppPage } from './support/serve-app-page.ts';

// oidc-client-ts from a page on another origin (http://127.0.0.1:{app}) against Gatehouse's hosted login
// and OAuth endpoints: code + PKCE, silent renew, and the standard RP-initiated signoutRedirect.

const USER = { username: 'olive', password: 'Olive-Password-1' };
let gatehouse: RunningGatehouse;
let dataDir: string;
let appServer: Server;
let appOrigin: string;
let context: BrowserContext;
let profile: string;
const settings: Record<string, string> = {};

before(async () => {
  ({ server: appServer, origin: appOrigin } = await serveAppPage(path.join(import.meta.dirname, 'support', 'oidc-client-page.mjs'), settings, '<p id="callback"></p><p id="ready"></p>'));
  dataDir = mkdtempSync(path.join(tmpdir(), 'gh-oidc-client-'));
  gatehouse = await startGatehouse({
    dataDir, port: 0, logLevel: 'silent',
    config: {
      identity: {
        userPools: [{
          poolName: 'default',
          clients: [{ clientName: 'spa', callbackUrls: [`${appOrigin}/callback`], logoutUrls: [`${appOrigin}/signed-out`] }],
        }],
      },
    },
  });
  const pool = gatehouse.identity.pool('default')!;
  Object.assign(settings, { authority: pool.issuer, clientId: pool.clients.find((client) => client.clientName === 'spa')!.clientId });
  const text = readFileSync(gatehouse.adminCredentialsFile, 'utf8');
  const admin = new CognitoIdentityProviderClient({
    endpoint: gatehouse.url, region: gatehouse.config.region,
    credentials: { accessKeyId: /aws_access_key_id\s*=\s*(\S+)/.exec(text)![1]!, secretAccessKey: /aws_secret_access_key\s*=\s*(\S+)/.exec(text)![1]! },
  });
  await admin.send(new AdminCreateUserCommand({ UserPoolId: pool.userPoolId, Username: USER.username, MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: 'olive@example.test' }] }));
  await admin.send(new AdminSetUserPasswordCommand({ UserPoolId: pool.userPoolId, Username: USER.username, Password: USER.password, Permanent: true }));
  admin.destroy();
  profile = mkdtempSync(path.join(tmpdir(), 'gh-oidc-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    headless: true,
    timeout: 60_000,
  });
  context.setDefaultTimeout(30_000);
});

after(async () => {
  await context?.close().catch(() => undefined);
  await gatehouse?.close();
  await closeServer(appServer);
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(profile, { recursive: true, force: true });
});

type Outcome<T> = { ok: true; value: T } | { ok: false; name: string; message: string };
interface PageUser { accessToken: string; idToken: string; refreshToken?: string; profile: Record<string, unknown>; expired: boolean }

function call<T>(page: Page, method: string): Promise<Outcome<T>> {
  return page.evaluate((method) => (window as unknown as { gatehouseTest: Record<string, () => Promise<unknown>> }).gatehouseTest[method]!(), method) as Promise<Outcome<T>>;
}

/** Calls a page method that navigates away: its promise dies with the page's context, so it is not awaited. */
function startNavigation(page: Page, method: string): void {
  call(page, method).catch(() => undefined);
}

function value<T>(outcome: Outcome<T>): T {
  assert.ok(outcome.ok, `oidc-client-ts call failed: ${JSON.stringify(outcome)}`);
  return outcome.value;
}

async function ready(page: Page): Promise<void> {
  await page.locator('#ready', { hasText: /ready|error/ }).waitFor();
  assert.equal(await page.locator('#ready').textContent(), 'ready');
}

async function bearerWorks(token: string): Promise<boolean> {
  return (await fetch(`${gatehouse.url}/oauth2/userInfo`, { headers: { authorization: `Bearer ${token}` } })).status === 200;
}

test('oidc-client-ts on another origin: code + PKCE through the hosted login, silent renew, and signoutRedirect that ends the session', async () => {
  const page = await context.newPage();
  try {
    await page.goto(`${appOrigin}/`);
    await ready(page);
    const authorize = page.waitForRequest((request) => request.url().startsWith(`${gatehouse.url}/oauth2/authorize?`));
    const toLogin = page.waitForURL((url) => url.origin === gatehouse.url && url.pathname === '/login');
    startNavigation(page, 'signIn');
    const authorizeUrl = new URL((await authorize).url());
    assert.equal(authorizeUrl.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(authorizeUrl.searchParams.get('response_type'), 'code');
    await toLogin;
    await page.getByLabel(/user ?name|email/i).first().fill(USER.username);
    await page.getByLabel(/password/i).first().fill(USER.password);
    await page.getByRole('button', { name: /sign in|log in|continue/i }).first().click();
    await page.waitForURL((url) => url.origin === appOrigin && url.pathname === '/callback');
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

    const logout = page.waitForRequest((request) => request.url().startsWith(`${gatehouse.url}/logout?`));
    startNavigation(page, 'signOut');
    const logoutUrl = new URL((await logout).url());
    assert.equal(logoutUrl.searchParams.get('id_token_hint'), renewed.idToken);
    assert.equal(logoutUrl.searchParams.get('post_logout_redirect_uri'), `${appOrigin}/signed-out`);
    await page.waitForURL((url) => url.origin === appOrigin && url.pathname === '/signed-out');
    assert.ok(logoutUrl.searchParams.get('state'));
    assert.equal(new URL(page.url()).searchParams.get('state'), logoutUrl.searchParams.get('state'), 'state echoed back');
    await ready(page);
    assert.equal(value(await call<PageUser | null>(page, 'user')), null, 'the app forgot the user');

    // The hosted-UI session is gone: signing in again asks for the password instead of returning at once.
    const again = page.waitForURL((url) => url.origin === gatehouse.url && url.pathname === '/login');
    startNavigation(page, 'signIn');
    await again;
    await page.getByLabel(/password/i).first().waitFor();
  } finally {
    await page.close();
  }
});
