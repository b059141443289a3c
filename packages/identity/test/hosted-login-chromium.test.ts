import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { freePort, startIdentity, type RunningIdentity } from '@gatehouse/testing/start-identity';
import { identityCommands } from '../src/index.ts';
import { parseConfig } from '@gatehouse/core';
import { AdminGetUserCommand, CognitoIdentityProviderClient, InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { authorizeWebClient, hiddenFields, redeemCode } from './support/hosted-login.ts';

let running: RunningIdentity;
let base: string;
let browser: Browser;
let context: BrowserContext;
let quiet: () => Parameters<typeof identityCommands.users>[1];

function cognito(): CognitoIdentityProviderClient {
  return new CognitoIdentityProviderClient({ endpoint: base, region: 'local', credentials: running.adminKey, maxAttempts: 1 });
}

async function userStatus(username: string): Promise<string | undefined> {
  return (await cognito().send(new AdminGetUserCommand({ UserPoolId: running.identity.defaultPool.userPoolId, Username: username }))).UserStatus;
}

async function signInWithPassword(username: string, password: string): Promise<{ ok: boolean }> {
  const input = { AuthFlow: 'USER_PASSWORD_AUTH' as const, ClientId: running.identity.defaultPool.webClientId, AuthParameters: { USERNAME: username, PASSWORD: password } };
  return cognito().send(new InitiateAuthCommand(input)).then((result) => ({ ok: result.AuthenticationResult?.AccessToken !== undefined }), () => ({ ok: false }));
}

before(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const config = { identity: { userPools: [{ poolName: 'default', clients: [{ clientName: 'web', callbackUrls: [`${base}/callback`], explicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'] }] }] } };
  running = await startIdentity({ port, config });
  // the CLI reads the same configuration as the server, as `gatehouse users` does
  quiet = () => ({ config: parseConfig(config), dataDir: running.dataDir, baseUrl: base, stdout: () => {}, stderr: () => {} });
  await identityCommands.users(['create', 'hana', '--password', 'Hana-Password-1', '--email', 'hana@example.test'], quiet());
  await identityCommands.users(['create', 'ivan', '--password', 'Ivan-Temporary-1', '--temporary'], quiet());
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    // launch() gives every run a fresh temporary profile of its own (an explicit --user-data-dir is refused)
  });
  context = await browser.newContext();
});
after(async () => {
  await context?.close();
  await browser?.close();
  await running.close();
});

test('the hosted login page signs a user in from real Chromium and returns a code to the registered callback', async () => {
  const page = await context.newPage();
  const { url, verifier, state } = authorizeWebClient(running);
  await page.goto(url);
  assert.match(page.url(), /\/login\?/);
  await page.getByLabel('Username').fill('hana');
  await page.getByLabel('Password').fill('wrong-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').waitFor();
  assert.equal(await page.getByRole('alert').textContent(), 'Incorrect username or password.');
  assert.match(page.url(), /\/login$/);
  await page.getByLabel('Password').fill('Hana-Password-1');
  const [callback] = await Promise.all([
    page.waitForRequest((request) => request.url().startsWith(`${base}/callback?`)),
    page.getByRole('button', { name: 'Sign in' }).click(),
  ]);
  assert.equal(new URL(callback.url()).searchParams.get('state'), state);
  const tokens = await redeemCode(running, callback.url(), verifier);
  const issuer = running.identity.defaultPool.issuer;
  const { payload } = await jwtVerify(tokens.id_token!, createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`)), { issuer, audience: running.identity.defaultPool.webClientId });
  assert.equal(payload['cognito:username'], 'hana');
  assert.equal(payload.email, 'hana@example.test');
  await page.close();
});

test('an admin-created user with a temporary password gets the new-password screen, is told what a weak or mismatched password lacks, and signs in with the new one', async () => {
  const fresh = await browser.newContext();
  try {
    const page = await fresh.newPage();
    const { url, verifier } = authorizeWebClient(running);
    await page.goto(url);
    await page.getByLabel('Username').fill('ivan');
    await page.getByLabel('Password', { exact: true }).fill('Ivan-Temporary-1');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    assert.match(await page.getByRole('status').textContent() ?? '', /temporary password/);

    await page.getByLabel('New password', { exact: true }).fill('weakpass');
    await page.getByLabel('Confirm new password').fill('weakpass');
    await page.getByRole('button', { name: 'Set password and sign in' }).click();
    await page.getByRole('alert').waitFor();
    assert.match(await page.getByRole('alert').textContent() ?? '', /Password must have uppercase characters\. Use at least 8 characters, with a lower-case letter, an upper-case letter, a digit and a symbol\./);
    assert.equal(await userStatus('ivan'), 'FORCE_CHANGE_PASSWORD', 'a refused password changes nothing');

    await page.getByLabel('New password', { exact: true }).fill('Ivan-Chosen-Pass-2');
    await page.getByLabel('Confirm new password').fill('Ivan-Chosen-Pass-3');
    await page.getByRole('button', { name: 'Set password and sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'differ' }).waitFor();
    assert.equal(await userStatus('ivan'), 'FORCE_CHANGE_PASSWORD');

    await page.getByLabel('New password', { exact: true }).fill('Ivan-Chosen-Pass-2');
    await page.getByLabel('Confirm new password').fill('Ivan-Chosen-Pass-2');
    const [callback] = await Promise.all([
      page.waitForRequest((request) => request.url().startsWith(`${base}/callback?`)),
      page.getByRole('button', { name: 'Set password and sign in' }).click(),
    ]);
    const tokens = await redeemCode(running, callback.url(), verifier);
    assert.ok(tokens.access_token);
    assert.equal(await userStatus('ivan'), 'CONFIRMED');
    assert.equal((await signInWithPassword('ivan', 'Ivan-Chosen-Pass-2')).ok, true, 'the new password works');
    assert.equal((await signInWithPassword('ivan', 'Ivan-Temporary-1')).ok, false, 'the temporary one no longer does');
  } finally {
    await fresh.close();
  }
});

test('the new-password screen cannot be reached without the temporary password: a forged or other-user form is refused and nothing changes', async () => {
  await identityCommands.users(['create', 'jana', '--password', 'Jana-Temporary-1', '--temporary'], quiet());
  const { url } = authorizeWebClient(running);
  const login = await fetch(new URL((await fetch(url, { redirect: 'manual' })).headers.get('location')!, base));
  const fields = hiddenFields(await login.text());
  const csrfCookie = login.headers.getSetCookie().find((header) => header.startsWith('gatehouse_csrf='))!.split(';')[0]!;
  // the sign-in form's own token, replayed at /newPassword for jana: its purpose is sign-in, not jana's new password
  const posted = await fetch(`${base}/newPassword`, {
    method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrfCookie },
    body: new URLSearchParams({ ...fields, username: 'jana', new_password: 'Jana-Taken-Over-1', confirm_password: 'Jana-Taken-Over-1' }),
  });
  assert.equal(posted.status, 403);
  assert.equal(posted.headers.get('location'), null);
  assert.equal(await userStatus('jana'), 'FORCE_CHANGE_PASSWORD');
  assert.equal((await signInWithPassword('jana', 'Jana-Taken-Over-1')).ok, false);
});

test('a pool without self sign-up offers no sign-up link and refuses the sign-up page, naming who can create the account', async () => {
  const signedOut = await browser.newContext();
  const page = await signedOut.newPage();
  const { url } = authorizeWebClient(running);
  await page.goto(url);
  assert.equal(await page.getByRole('link', { name: 'Create an account' }).count(), 0);
  assert.equal(await page.getByRole('link', { name: 'Forgot your password?' }).count(), 1);
  const signUp = await page.goto(page.url().replace('/login?', '/signup?'));
  assert.equal(signUp?.status(), 403);
  assert.match(await page.getByRole('alert').textContent() ?? '', /Sign-up is not enabled for this app\. Ask an administrator to create your account\./);
  assert.equal(await page.getByLabel('Email').count(), 0, 'no sign-up form is shown');
  await signedOut.close();
});
