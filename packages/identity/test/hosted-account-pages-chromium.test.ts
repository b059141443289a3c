import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { AdminCreateUserCommand, AdminGetUserCommand, AdminSetUserPasswordCommand, CognitoIdentityProviderClient, InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { freePort, startIdentity, type RunningIdentity } from '@gatehouse/testing/start-identity';
import { lastCode, readOutbox } from './support/outbox.ts';
import { authorizeWebClient, hiddenFields, redeemCode } from './support/hosted-login.ts';

/** Sign-up with its code step and password reset on the hosted pages, driven by real Chromium. */
let running: RunningIdentity;
let base: string;
let browser: Browser;
/** Moves the identity's clock (code expiry) without touching Chromium's. */
let clockOffset = 0;

before(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const config = {
    identity: {
      userPools: [{
        poolName: 'default', signUpEnabled: true,
        clients: [
          { clientName: 'web', callbackUrls: [`${base}/callback`], explicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'] },
          { clientName: 'server-rendered', generateSecret: true, callbackUrls: [`${base}/server-callback`] },
        ],
      }],
    },
  };
  running = await startIdentity({ port, config, now: () => Date.now() + clockOffset });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});
after(async () => {
  await browser?.close();
  await running.close();
});

function cognito(): CognitoIdentityProviderClient {
  return new CognitoIdentityProviderClient({ endpoint: base, region: 'local', credentials: running.adminKey, maxAttempts: 1 });
}

async function userStatus(username: string): Promise<string | undefined> {
  const user = await cognito().send(new AdminGetUserCommand({ UserPoolId: running.identity.defaultPool.userPoolId, Username: username })).catch(() => undefined);
  return user?.UserStatus;
}

async function passwordWorks(username: string, password: string): Promise<boolean> {
  const input = { AuthFlow: 'USER_PASSWORD_AUTH' as const, ClientId: running.identity.defaultPool.webClientId, AuthParameters: { USERNAME: username, PASSWORD: password } };
  return cognito().send(new InitiateAuthCommand(input)).then((result) => result.AuthenticationResult?.AccessToken !== undefined, () => false);
}

async function alert(page: Page): Promise<string> {
  await page.getByRole('alert').waitFor();
  return (await page.getByRole('alert').textContent()) ?? '';
}

async function submitToCallback(page: Page, button: string): Promise<string> {
  const [callback] = await Promise.all([page.waitForRequest((request) => request.url().startsWith(`${base}/callback?`)), page.getByRole('button', { name: button }).click()]);
  return callback.url();
}

async function signUp(page: Page, username: string, email: string, password: string): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
}

test('a new user signs up, reads the code from the outbox, confirms and lands back in the app with a code; a weak password and a wrong code change nothing', async () => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const { url, verifier, state } = authorizeWebClient(running);
    await page.goto(url);
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByRole('heading', { name: 'Create an account' }).waitFor();

    await signUp(page, 'nora', 'nora@example.test', 'short');
    assert.match(await alert(page), /Password not long enough\. Use at least 8 characters, with a lower-case letter, an upper-case letter, a digit and a symbol\./);
    assert.equal(await userStatus('nora'), undefined, 'a refused sign-up creates no user');
    assert.equal(await page.getByLabel('Username').inputValue(), 'nora', 'what was typed is kept');

    await page.getByLabel('Password').fill('Nora-Password-1');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Confirm your account' }).waitFor();
    assert.match((await page.getByRole('status').textContent()) ?? '', /We sent a confirmation code to n\*\*\*@e\*\*\*/);
    assert.equal(await userStatus('nora'), 'UNCONFIRMED');
    const code = lastCode(running.dataDir, 'nora');
    assert.equal(readOutbox(running.dataDir).at(-1)?.to, 'nora@example.test');

    await page.getByLabel('Code').fill(code === '000000' ? '111111' : '000000');
    await page.getByRole('button', { name: 'Confirm account' }).click();
    assert.match(await alert(page), /That code is not right\. Enter the 6-digit code from the newest message we sent you/);
    assert.equal(await userStatus('nora'), 'UNCONFIRMED', 'a wrong code confirms nothing');

    await page.getByLabel('Code').fill(code);
    const callback = await submitToCallback(page, 'Confirm account');
    assert.equal(new URL(callback).searchParams.get('state'), state);
    const tokens = await redeemCode(running, callback, verifier);
    const issuer = running.identity.defaultPool.issuer;
    const { payload } = await jwtVerify(tokens.id_token!, createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`)), { issuer, audience: running.identity.defaultPool.webClientId });
    assert.equal(payload['cognito:username'], 'nora');
    assert.equal(payload.email, 'nora@example.test');
    assert.equal(await userStatus('nora'), 'CONFIRMED');
    assert.equal(await passwordWorks('nora', 'Nora-Password-1'), true);
  } finally {
    await context.close();
  }
});

test('signing up with a taken username says so and names the way out; the existing account keeps its password', async () => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(authorizeWebClient(running).url);
    await page.getByRole('link', { name: 'Create an account' }).click();
    await signUp(page, 'nora', 'other@example.test', 'Someone-Else-1');
    assert.match(await alert(page), /That username is taken\. Choose another one, or sign in if the account is yours\./);
    assert.equal(await passwordWorks('nora', 'Nora-Password-1'), true);
  } finally {
    await context.close();
  }
});

test('an unconfirmed user who signs in later is sent to the code step; an expired code is refused naming the fix, a new code is sent, and confirming there leads back to sign-in', async () => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(authorizeWebClient(running).url);
    await page.getByRole('link', { name: 'Create an account' }).click();
    await signUp(page, 'omar', '', 'Omar-Password-1');
    await page.getByRole('heading', { name: 'Confirm your account' }).waitFor();
    const code = lastCode(running.dataDir, 'omar');

    const later = await context.newPage();
    const { url, verifier } = authorizeWebClient(running);
    // a day and an hour later (the code lives 24 hours): the forms are fresh, the code is not
    clockOffset = 25 * 3600_000;
    try {
      await later.goto(url);
      await later.getByLabel('Username').fill('omar');
      await later.getByLabel('Password').fill('Omar-Password-1');
      await later.getByRole('button', { name: 'Sign in' }).click();
      assert.match(await alert(later), /Your account is not confirmed yet\. Enter the code/);
      assert.equal(await later.getByLabel('Username').inputValue(), 'omar');
      await later.getByLabel('Code').fill(code);
      await later.getByRole('button', { name: 'Confirm account' }).click();
      assert.match(await alert(later), /That code has expired\. Ask for a new code and enter that one\./);
    } finally {
      clockOffset = 0;
    }
    // (asked at the real time: the admin call's signature would be 25 hours skewed)
    assert.equal(await userStatus('omar'), 'UNCONFIRMED', 'an expired code confirms nothing');

    await later.getByRole('button', { name: 'Send a new code' }).click();
    await later.getByRole('status').filter({ hasText: 'we sent it a new code' }).waitFor();
    const fresh = lastCode(running.dataDir, 'omar');
    assert.notEqual(fresh, code);
    await later.getByLabel('Code').fill(fresh);
    await later.getByRole('button', { name: 'Confirm account' }).click();
    await later.getByRole('status').filter({ hasText: 'Your account is confirmed. Sign in to continue.' }).waitFor();
    assert.equal(await userStatus('omar'), 'CONFIRMED');
    // not signed up in this transaction's form: confirming alone does not sign in, the password still does
    await later.getByLabel('Password').fill('Omar-Password-1');
    const tokens = await redeemCode(running, await submitToCallback(later, 'Sign in'), verifier);
    assert.ok(tokens.access_token);
  } finally {
    await context.close();
  }
});

test("a confirm form bound to one sign-up cannot confirm, or sign in as, another user: the token's purpose names the user", async () => {
  const { url } = authorizeWebClient(running);
  const signUpUrl = new URL((await fetch(url, { redirect: 'manual' })).headers.get('location')!, base);
  signUpUrl.pathname = '/signup';
  const form = await fetch(signUpUrl);
  const cookieOf = (response: Response): string => response.headers.getSetCookie().find((header) => header.startsWith('gatehouse_csrf='))!.split(';')[0]!;
  const post = (path: string, fields: Record<string, string>, cookie: string): Promise<Response> =>
    fetch(`${base}${path}`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie }, body: new URLSearchParams(fields) });
  const signedUp = await post('/signup', { ...hiddenFields(await form.text()), username: 'eve', password: 'Eve-Password-1' }, cookieOf(form));
  assert.equal(signedUp.status, 200);
  const confirmFields = hiddenFields(await signedUp.text());
  assert.equal(confirmFields.username, 'eve');
  const cookie = cookieOf(signedUp);

  // pam signed up elsewhere and is waiting for her code; eve knows (or guesses) it
  const pam = await fetch(signUpUrl);
  await post('/signup', { ...hiddenFields(await pam.text()), username: 'pam', password: 'Pam-Password-1' }, cookieOf(pam));
  const hijack = await post('/confirmUser', { ...confirmFields, username: 'pam', code: lastCode(running.dataDir, 'pam') }, cookie);
  assert.equal(hijack.status, 403);
  assert.equal(hijack.headers.get('location'), null);
  assert.ok(!hijack.headers.getSetCookie().some((header) => header.startsWith('gatehouse_session=')), 'no sign-in session');
  assert.equal(await userStatus('pam'), 'UNCONFIRMED', 'nothing was confirmed');

  // positive control: the same form and cookie confirm eve, who signed up with them, and sign her in
  const own = await post('/confirmUser', { ...confirmFields, code: lastCode(running.dataDir, 'eve') }, cookie);
  assert.equal(own.status, 302);
  assert.match(own.headers.get('location') ?? '', new RegExp(`^${base}/callback\\?code=`));
});

async function reset(page: Page, code: string, password: string, confirm = password): Promise<void> {
  await page.getByLabel('Code').fill(code);
  await page.getByLabel('New password', { exact: true }).fill(password);
  await page.getByLabel('Confirm new password').fill(confirm);
  await page.getByRole('button', { name: 'Change password' }).click();
}

test('a user resets a forgotten password with the emailed code and signs in with the new one; a wrong code, a weak or mismatched password and an expired code each name the fix and change nothing', async () => {
  const admin = cognito();
  const poolId = running.identity.defaultPool.userPoolId;
  await admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: 'rosa', MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: 'rosa@example.test' }, { Name: 'email_verified', Value: 'true' }] }));
  await admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: 'rosa', Password: 'Rosa-Old-Pass-1', Permanent: true }));
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const { url, verifier } = authorizeWebClient(running);
    await page.goto(url);
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.getByLabel('Username').fill('rosa');
    await page.getByRole('button', { name: 'Send a reset code' }).click();
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    const code = lastCode(running.dataDir, 'rosa', /reset/i);
    assert.equal(readOutbox(running.dataDir).at(-1)?.to, 'rosa@example.test');

    await reset(page, code === '000000' ? '111111' : '000000', 'Rosa-New-Pass-2');
    assert.match(await alert(page), /That code is not right\. Enter the 6-digit code from the newest message we sent you, or ask for a new code\./);
    assert.equal(await passwordWorks('rosa', 'Rosa-Old-Pass-1'), true, 'a wrong code changes nothing');

    clockOffset = 25 * 60_000;
    try {
      await reset(page, code, 'rosa-new-pass');
      assert.match(await alert(page), /Password must have uppercase characters\. Use at least 8 characters, with a lower-case letter, an upper-case letter, a digit and a symbol\./);
      clockOffset = 50 * 60_000;
      await reset(page, code, 'Rosa-New-Pass-2', 'Rosa-New-Pass-3');
      assert.match(await alert(page), /The two new passwords differ\. Type the same new password in both fields\./);
      // the code lives an hour; each refusal above re-issued a fresh form, so only the code is stale now
      clockOffset = 61 * 60_000;
      await reset(page, code, 'Rosa-New-Pass-2');
      assert.match(await alert(page), /That code has expired\. Ask for a new code and enter that one\./);
    } finally {
      clockOffset = 0;
    }
    assert.equal(await passwordWorks('rosa', 'Rosa-Old-Pass-1'), true, 'no refused attempt changed the password');
    assert.equal(await passwordWorks('rosa', 'Rosa-New-Pass-2'), false);

    await page.getByRole('link', { name: 'Send a new code' }).click();
    await page.getByLabel('Username').fill('rosa');
    await page.getByRole('button', { name: 'Send a reset code' }).click();
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    await reset(page, lastCode(running.dataDir, 'rosa', /reset/i), 'Rosa-New-Pass-2');
    await page.getByRole('status').filter({ hasText: 'Your password is changed. Sign in with your new password.' }).waitFor();
    assert.equal(await page.getByLabel('Username').inputValue(), 'rosa');
    await page.getByLabel('Password').fill('Rosa-New-Pass-2');
    const tokens = await redeemCode(running, await submitToCallback(page, 'Sign in'), verifier);
    assert.ok(tokens.access_token);
    assert.equal(await passwordWorks('rosa', 'Rosa-Old-Pass-1'), false, 'the old password is gone');
  } finally {
    await context.close();
  }
});

test('the reset pages never say whether a user exists: an unknown name gets the same next page, and any code for it is "not right"', async () => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const screens: string[] = [];
    for (const username of ['rosa', 'no-such-user']) {
      await page.goto(authorizeWebClient(running).url);
      await page.getByRole('link', { name: 'Forgot your password?' }).click();
      await page.getByLabel('Username').fill(username);
      await page.getByRole('button', { name: 'Send a reset code' }).click();
      await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
      screens.push(`${await page.getByRole('status').textContent()} | ${(await page.getByRole('textbox').count())} | ${await page.getByRole('button').allTextContents()}`);
    }
    assert.equal(screens[1], screens[0]);
    await reset(page, '123456', 'Some-New-Pass-1');
    assert.match(await alert(page), /That code is not right\./);
    assert.equal(await userStatus('no-such-user'), undefined, 'nothing was created');
  } finally {
    await context.close();
  }
});

test('sign-up and reset forms posted without this browser\'s token, or with a token for another form, are refused and change nothing', async () => {
  const { url } = authorizeWebClient(running);
  const loginUrl = new URL((await fetch(url, { redirect: 'manual' })).headers.get('location')!, base);
  const signIn = await fetch(loginUrl);
  const fields = hiddenFields(await signIn.text());
  const cookie = signIn.headers.getSetCookie().find((header) => header.startsWith('gatehouse_csrf='))!.split(';')[0]!;
  const post = (path: string, extra: Record<string, string>, withCookie: string): Promise<Response> =>
    fetch(`${base}${path}`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: withCookie }, body: new URLSearchParams({ ...fields, ...extra }) });
  const sentBefore = readOutbox(running.dataDir).length;
  // the sign-in form's token is for signing in, not for creating an account or mailing a reset code
  for (const [path, extra] of [['/signup', { username: 'mallory', password: 'Mallory-Pass-1' }], ['/forgotPassword', { username: 'rosa' }]] as const) {
    const borrowed = await post(path, extra, cookie);
    assert.equal(borrowed.status, 403, path);
    const forged = await post(path, { ...extra, csrf: `${Date.now() + 600_000}.${'A'.repeat(43)}` }, 'gatehouse_csrf=attacker');
    assert.equal(forged.status, 403, path);
  }
  assert.equal(await userStatus('mallory'), undefined, 'no account was created');
  assert.equal(readOutbox(running.dataDir).length, sentBefore, 'no code was sent');
  // positive control: the same cookie and field sign in
  await cognito().send(new AdminCreateUserCommand({ UserPoolId: running.identity.defaultPool.userPoolId, Username: 'sven', MessageAction: 'SUPPRESS' }));
  await cognito().send(new AdminSetUserPasswordCommand({ UserPoolId: running.identity.defaultPool.userPoolId, Username: 'sven', Password: 'Sven-Pass-1', Permanent: true }));
  const signedIn = await post('/login', { username: 'sven', password: 'Sven-Pass-1' }, cookie);
  assert.equal(signedIn.status, 302);
});

test('the hosted sign-up works for an app client with a secret: the pages sign the Cognito calls with its SecretHash themselves', async () => {
  const clientId = running.identity.pool('default')!.clients.find((entry) => entry.clientName === 'server-rendered')!.clientId;
  const parameters = new URLSearchParams({
    response_type: 'code', client_id: clientId, redirect_uri: `${base}/server-callback`, scope: 'openid',
    code_challenge: createHash('sha256').update(randomBytes(32)).digest('base64url'), code_challenge_method: 'S256',
  });
  const form = await fetch(`${base}/signup?${parameters}`);
  assert.equal(form.status, 200);
  const cookieOf = (response: Response): string => response.headers.getSetCookie().find((header) => header.startsWith('gatehouse_csrf='))!.split(';')[0]!;
  const post = (path: string, fields: Record<string, string>, cookie: string): Promise<Response> =>
    fetch(`${base}${path}`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie }, body: new URLSearchParams(fields) });
  const signedUp = await post('/signup', { ...hiddenFields(await form.text()), username: 'tara', password: 'Tara-Password-1' }, cookieOf(form));
  assert.equal(signedUp.status, 200);
  const confirmed = await post('/confirmUser', { ...hiddenFields(await signedUp.text()), code: lastCode(running.dataDir, 'tara') }, cookieOf(signedUp));
  assert.equal(confirmed.status, 302);
  assert.match(confirmed.headers.get('location') ?? '', new RegExp(`^${base}/server-callback\\?code=`));
  assert.equal(await userStatus('tara'), 'CONFIRMED');
});
