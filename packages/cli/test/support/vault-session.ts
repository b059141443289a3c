// Shared by the token-vault tests: a Gatehouse user signed in through the Cognito-compatible API, and the SaaS's own
// login and consent pages (oidc-provider) walked in Chromium.
import { mkdtempSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { AdminCreateUserCommand, AdminSetUserPasswordCommand, CognitoIdentityProviderClient, InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { createLogger } from '@gatehouse/core';
import { freePort } from '@gatehouse/testing/start-identity';
import { startGatehouse, type RunningGatehouse } from '../../src/start-gatehouse.ts';

export interface VaultStack {
  readonly dir: string;
  readonly port: number;
  /** The default pool's issuer and web client, learnt from a first start, for the gateway config the test declares. */
  readonly discoveryUrl: string;
  readonly webClientId: string;
  /** Starts Gatehouse on the same data dir and port with this config (sandbox off). */
  start(config: Record<string, unknown>): Promise<RunningGatehouse>;
}

/** A data dir and port for a token-vault test; Gatehouse is started once only to learn the default pool's issuer. */
export async function prepareVaultStack(prefix: string): Promise<VaultStack> {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const port = await freePort();
  const dataDir = path.join(dir, 'data');
  const start = (config: Record<string, unknown>): Promise<RunningGatehouse> =>
    startGatehouse({ dataDir, port, logger: createLogger({ level: 'silent' }), config: { tools: { sandbox: { enabled: false } }, ...config } });
  const first = await start({});
  const { discoveryUrl, webClientId } = first.identity.defaultPool;
  await first.close();
  return { dir, port, discoveryUrl, webClientId, start };
}

export function adminCredentials(gatehouse: RunningGatehouse): { accessKeyId: string; secretAccessKey: string } {
  const text = readFileSync(gatehouse.adminCredentialsFile, 'utf8');
  return { accessKeyId: /aws_access_key_id\s*=\s*(\S+)/.exec(text)![1]!, secretAccessKey: /aws_secret_access_key\s*=\s*(\S+)/.exec(text)![1]! };
}

/** A new user of the default pool, signed in with the web client: their Gatehouse access token. */
export async function signIn(gatehouse: RunningGatehouse, username: string): Promise<string> {
  const cognito = new CognitoIdentityProviderClient({ endpoint: gatehouse.url, region: gatehouse.config.region, credentials: adminCredentials(gatehouse) });
  const password = `Pw-${randomBytes(12).toString('base64url')}9a!`;
  const userPoolId = gatehouse.identity.defaultPool.userPoolId;
  try {
    await cognito.send(new AdminCreateUserCommand({ UserPoolId: userPoolId, Username: username, MessageAction: 'SUPPRESS' }));
    await cognito.send(new AdminSetUserPasswordCommand({ UserPoolId: userPoolId, Username: username, Password: password, Permanent: true }));
    const answer = await cognito.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: gatehouse.identity.defaultPool.webClientId, AuthParameters: { USERNAME: username, PASSWORD: password } }));
    return answer.AuthenticationResult!.AccessToken!;
  } finally {
    cognito.destroy();
  }
}

/** The SaaS's own login and consent pages in Chromium (offline); answers where the browser lands (the return URL). */
export async function consentAtSaas(browser: Browser, url: string, saasLogin: string): Promise<URL> {
  const context = await browser.newContext();
  await context.route(/^https?:\/\/(?!127\.0\.0\.1|localhost)/, (route) => route.abort());
  const page = await context.newPage();
  try {
    await page.goto(url);
    await page.fill('input[name=login]', saasLogin);
    await page.fill('input[name=password]', 'any');
    await page.click('button[type=submit]');
    await page.click('button:has-text("Continue")');
    await page.waitForURL((landed) => landed.searchParams.has('session_id'));
    return new URL(page.url());
  } finally {
    await context.close();
  }
}

/** What the web UI does after consent: binds it to the signed-in user (`POST /identities/vault/complete`). */
export function completeConsent(gatehouse: RunningGatehouse, token: string, sessionUri: string): Promise<Response> {
  return fetch(`${gatehouse.url}/identities/vault/complete`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ sessionUri }) });
}
