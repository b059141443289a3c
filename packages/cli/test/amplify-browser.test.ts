import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { AdminCreateUserCommand, AdminGetUserCommand, AdminSetUserPasswordCommand, CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { closeServer } from '@gatehouse/core';
import { startGatehouse, type RunningGatehouse } from '../src/start-gatehouse.ts';
import { serveAppPage } from './support/serve-app-page.ts';

// Amplify v6 from a page on another origin (http://127.0.0.1:{app}) against Gatehouse over `--https`
// (https://localhost:{port}): the Cognito JSON API by CORS, and signInWithRedirect, which Amplify only
// ever sends to https://{domain}. Chromium accepts exactly the server key Gatehouse generated
// (--ignore-certificate-errors-spki-list); no certificate error is ignored otherwise.

const USER = { username: 'amelia', password: 'Amelia-Password-1' };
let gatehouse: RunningGatehouse;
let dataDir: string;
let appServer: Server;
let appOrigin: string;
let context: BrowserContext;
let profile: string;
let admin: CognitoIdentityProviderClient;
const settings: Record<string, string> = {};

before(async () => {
  ({ server: appServer, origin: appOrigin } = await serveAppPage(path.join(import.meta.dirname, 'support', 'amplify-page.mjs'), settings, '<p id="ready"></p>'));
  dataDir = mkdtempSync(path.join(tmpdir(), 'gh-amplify-'));
  gatehouse = await startGatehouse({
    dataDir, port: 0, logLevel: 'silent',
    config: {
      https: true,
      identity: {
        userPools: [{
          poolName: 'default',
          clients: [{
            clientName: 'spa',
            explicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
            callbackUrls: [`${appOrigin}/`], logoutUrls: [`${appOrigin}/`],
          }],
        }],
      },
    },
  });
  const pool = gatehouse.identity.pool('default')!;
  const origin = new URL(gatehouse.url);
  Object.assign(settings, {
    userPoolId: pool.userPoolId,
    clientId: pool.clients.find((client) => client.clientName === 'spa')!.clientId,
    endpoint: gatehouse.url,
    oauthDomain: origin.host,
  });
  // startGatehouse made this process trust its CA, so the admin SDK client reaches it over HTTPS.
  admin = new CognitoIdentityProviderClient({ endpoint: gatehouse.url, region: gatehouse.config.region, credentials: adminKey() });
  await admin.send(new AdminCreateUserCommand({
    UserPoolId: pool.userPoolId, Username: USER.username, MessageAction: 'SUPPRESS',
    UserAttributes: [{ Name: 'email', Value: 'amelia@example.test' }, { Name: 'email_verified', Value: 'true' }],
  }));
  await admin.send(new AdminSetUserPasswordCommand({ UserPoolId: pool.userPoolId, Username: USER.username, Password: USER.password, Permanent: true }));

  const serverCertificate = new X509Certificate(readFileSync(path.join(dataDir, 'tls', 'server.pem')));
  const spki = createHash('sha256').update(serverCertificate.publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
  profile = mkdtempSync(path.join(tmpdir(), 'gh-amplify-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', `--ignore-certificate-errors-spki-list=${spki}`],
    headless: true,
    timeout: 60_000,
  });
  context.setDefaultTimeout(30_000);
});

after(async () => {
  admin?.destroy();
  await context?.close().catch(() => undefined);
  await gatehouse?.close();
  await closeServer(appServer);
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(profile, { recursive: true, force: true });
});

function adminKey(): { accessKeyId: string; secretAccessKey: string } {
  const text = readFileSync(gatehouse.adminCredentialsFile, 'utf8');
  return { accessKeyId: /aws_access_key_id\s*=\s*(\S+)/.exec(text)![1]!, secretAccessKey: /aws_secret_access_key\s*=\s*(\S+)/.exec(text)![1]! };
}

type Outcome<T> = { ok: true; value: T } | { ok: false; name: string; message: string };
interface PageSession { access: string; id: string; accessClaims: Record<string, unknown>; idClaims: Record<string, unknown> }

async function openApp(): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${appOrigin}/`);
  await page.locator('#ready', { hasText: 'ready' }).waitFor();
  return page;
}

function call<T>(page: Page, method: string, ...args: unknown[]): Promise<Outcome<T>> {
  return page.evaluate(({ method, args }) => (window as unknown as { gatehouseTest: Record<string, (...a: unknown[]) => Promise<unknown>> }).gatehouseTest[method]!(...args), { method, args }) as Promise<Outcome<T>>;
}

/** Calls a page method that navigates away: its promise dies with the page's context, so it is not awaited. */
function startNavigation(page: Page, method: string, ...args: unknown[]): void {
  call(page, method, ...args).catch(() => undefined);
}

function value<T>(outcome: Outcome<T>): T {
  assert.ok(outcome.ok, `Amplify call failed: ${JSON.stringify(outcome)}`);
  return outcome.value;
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
    assert.equal(first.idClaims.iss, `${gatehouse.url}/${settings.userPoolId}`);

    const refreshed = value(await call<PageSession>(page, 'session', true));
    assert.notEqual(refreshed.access, first.access, 'forceRefresh got new tokens with the refresh token');
    assert.equal(refreshed.accessClaims.sub, first.accessClaims.sub);

    const attributes = value(await call<Record<string, string>>(page, 'attributes'));
    assert.equal(attributes.email, 'amelia@example.test');
    assert.equal(attributes.sub, first.accessClaims.sub);
    assert.deepEqual(value(await call<string[]>(page, 'updateAttributes', { name: 'Amelia Pond', 'custom:team': 'ops' })).sort(), ['custom:team', 'name']);
    const stored = await admin.send(new AdminGetUserCommand({ UserPoolId: settings.userPoolId, Username: USER.username }));
    const byName = Object.fromEntries((stored.UserAttributes ?? []).map((attribute) => [attribute.Name, attribute.Value]));
    assert.equal(byName.name, 'Amelia Pond');
    assert.equal(byName['custom:team'], 'ops');

    value(await call(page, 'signOut', true));
    const after = await call<PageSession>(page, 'session', false);
    assert.equal(after.ok && after.value, undefined, 'no tokens after sign-out');
    // The access token the page held is refused by Gatehouse now (GlobalSignOut revoked it).
    const userInfo = await fetch(`${gatehouse.url}/oauth2/userInfo`, { headers: { authorization: `Bearer ${refreshed.access}` } });
    assert.equal(userInfo.status, 401);
    assert.ok(page.url().startsWith(appOrigin), 'the page never left its origin');
  } finally {
    await page.close();
  }
});

test('Amplify v6 resetPassword: the code in the outbox and confirmResetPassword set a new password that SRP sign-in accepts; the old one is refused', async () => {
  const username = 'rory';
  await admin.send(new AdminCreateUserCommand({
    UserPoolId: settings.userPoolId, Username: username, MessageAction: 'SUPPRESS',
    UserAttributes: [{ Name: 'email', Value: 'rory@example.test' }, { Name: 'email_verified', Value: 'true' }],
  }));
  await admin.send(new AdminSetUserPasswordCommand({ UserPoolId: settings.userPoolId, Username: username, Password: 'Rory-Password-1', Permanent: true }));
  const page = await openApp();
  try {
    assert.deepEqual(value(await call(page, 'resetPassword', username)), { step: 'CONFIRM_RESET_PASSWORD_WITH_CODE', medium: 'EMAIL' });
    const message = readFileSync(path.join(dataDir, 'outbox.log'), 'utf8').split('\n').filter(Boolean)
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
    const redirect = page.waitForURL((url) => url.origin === gatehouse.url);
    startNavigation(page, 'signInWithRedirect');
    await redirect;
    assert.equal(new URL(page.url()).protocol, 'https:');
    await page.getByLabel(/user ?name|email/i).first().fill(USER.username);
    await page.getByLabel(/password/i).first().fill(USER.password);
    await page.getByRole('button', { name: /sign in|log in|continue/i }).first().click();
    await page.waitForURL((url) => url.origin === appOrigin);
    await page.locator('#ready', { hasText: 'ready' }).waitFor();
    await page.waitForFunction(() => (window as unknown as { gatehouseTest: { hubEvents: string[] } }).gatehouseTest.hubEvents.includes('signInWithRedirect'));
    const session = value(await call<PageSession>(page, 'session', false));
    assert.equal(session.accessClaims.client_id, settings.clientId);
    assert.equal(session.idClaims['cognito:username'] ?? session.accessClaims.username, USER.username);
    assert.equal(value(await call<string>(page, 'currentUser')), USER.username);

    // signOut after a redirect sign-in goes through the hosted /logout (client_id + logout_uri) and back.
    const loggedOut = page.waitForRequest((request) => request.url().startsWith(`${gatehouse.url}/logout?`));
    startNavigation(page, 'signOut', false);
    const logoutRequest = new URL((await loggedOut).url());
    assert.equal(logoutRequest.searchParams.get('client_id'), settings.clientId);
    assert.equal(logoutRequest.searchParams.get('logout_uri'), `${appOrigin}/`);
    await page.waitForURL((url) => url.origin === appOrigin);
    await page.locator('#ready', { hasText: 'ready' }).waitFor();
    const after = await call<PageSession>(page, 'session', false);
    assert.equal(after.ok && after.value, undefined, 'no tokens after sign-out');
    // The hosted-UI session ended too: signing in again asks for the password.
    const again = page.waitForURL((url) => url.origin === gatehouse.url && url.pathname === '/login');
    startNavigation(page, 'signInWithRedirect');
    await again;
    await page.getByLabel(/password/i).first().waitFor();
  } finally {
    await page.close();
  }
});
