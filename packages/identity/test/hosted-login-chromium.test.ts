import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { freePort, startIdentity, type RunningIdentity } from './support/start-identity.ts';
import { identityCommands } from '../src/index.ts';
import { parseConfig } from '@gatehouse/core';

let running: RunningIdentity;
let base: string;
let browser: Browser;
let context: BrowserContext;

before(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const config = { identity: { userPools: [{ poolName: 'default', clients: [{ clientName: 'web', callbackUrls: [`${base}/callback`] }] }] } };
  running = await startIdentity({ port, config });
  // the CLI reads the same configuration as the server, as `gatehouse users` does
  const quiet = { config: parseConfig(config), dataDir: running.dataDir, baseUrl: base, stdout: () => {}, stderr: () => {} };
  await identityCommands.users(['create', 'hana', '--password', 'Hana-Password-1', '--email', 'hana@example.test'], quiet);
  await identityCommands.users(['create', 'ivan', '--password', 'Ivan-Temporary-1', '--temporary'], quiet);
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

function authorizeUrl(): { url: string; verifier: string; state: string } {
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(8).toString('hex');
  const parameters = new URLSearchParams({
    response_type: 'code', client_id: running.identity.defaultPool.webClientId, redirect_uri: `${base}/callback`, scope: 'openid email', state,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
  });
  return { url: `${base}/oauth2/authorize?${parameters}`, verifier, state };
}

async function redeem(callback: string, verifier: string): Promise<Record<string, string>> {
  const code = new URL(callback).searchParams.get('code')!;
  const response = await fetch(`${base}/oauth2/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: running.identity.defaultPool.webClientId, code, redirect_uri: `${base}/callback`, code_verifier: verifier }),
  });
  assert.equal(response.status, 200);
  return (await response.json()) as Record<string, string>;
}

test('the hosted login page signs a user in from real Chromium and returns a code to the registered callback', async () => {
  const page = await context.newPage();
  const { url, verifier, state } = authorizeUrl();
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
  const tokens = await redeem(callback.url(), verifier);
  const issuer = running.identity.defaultPool.issuer;
  const { payload } = await jwtVerify(tokens.id_token!, createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`)), { issuer, audience: running.identity.defaultPool.webClientId });
  assert.equal(payload['cognito:username'], 'hana');
  assert.equal(payload.email, 'hana@example.test');
  await page.close();
});

test('a user with a temporary password chooses a new one on the hosted page', async () => {
  const fresh = await browser.newContext();
  try {
    const page = await fresh.newPage();
    const { url, verifier } = authorizeUrl();
    await page.goto(url);
    await page.getByLabel('Username').fill('ivan');
    await page.getByLabel('Password', { exact: true }).fill('Ivan-Temporary-1');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('New password').waitFor();
    await page.getByLabel('Password', { exact: true }).fill('Ivan-Temporary-1');
    await page.getByLabel('New password').fill('Ivan-Chosen-Pass-2');
    const [callback] = await Promise.all([
      page.waitForRequest((request) => request.url().startsWith(`${base}/callback?`)),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    const tokens = await redeem(callback.url(), verifier);
    assert.ok(tokens.access_token);
  } finally {
    await fresh.close();
  }
});
