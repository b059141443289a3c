// The token vault through the AWS SDK (`@aws-sdk/client-bedrock-agentcore`): a real SaaS authorization server
// (oidc-provider) with its own login and consent pages, driven in Chromium; GetResourceOauth2Token answers the
// consent URL, then the SaaS token once the user who started the consent completes it; refresh before expiry; M2M;
// API keys; and the refusals: another user's consent, a return URL off the allow-list, unknown or replayed `state`,
// a provider that is down; no secret or token in any log line.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { decodeJwt } from 'jose';
import { chromium, type Browser } from 'playwright-core';
import {
  BedrockAgentCoreClient,
  CompleteResourceTokenAuthCommand,
  GetResourceApiKeyCommand,
  GetResourceOauth2TokenCommand,
  GetWorkloadAccessTokenCommand,
  GetWorkloadAccessTokenForUserIdCommand,
} from '@aws-sdk/client-bedrock-agentcore';
import { createLogger } from '@gatehouse/core';
import { freePort, startIdentity, type RunningIdentity } from '@gatehouse/testing/start-identity';
import { SAAS_SCOPE, startSaas, type Saas } from '@gatehouse/testing/saas-server';

const WORKLOAD = 'ticket-agent';
const API_KEY = `weather-key-${Date.now()}`;
let skewMs = 0;
let saas: Saas;
let identity: RunningIdentity;
let client: BedrockAgentCoreClient;
let browser: Browser;
let returnServer: Server;
let returnUrl: string;
const returned: URL[] = [];
let logText = '';

before(async () => {
  const port = await freePort();
  saas = await startSaas({ callbackUrl: `http://127.0.0.1:${port}/identities/oauth2/callback` });
  returnServer = createServer((request, response) => {
    returned.push(new URL(request.url ?? '/', 'http://127.0.0.1'));
    response.writeHead(200, { 'content-type': 'text/html' }).end('<title>back in the app</title>back');
  });
  await new Promise<void>((resolve) => returnServer.listen(0, '127.0.0.1', resolve));
  returnUrl = `http://127.0.0.1:${(returnServer.address() as AddressInfo).port}/connected`;
  process.env.GATEHOUSE_SECRET_SAAS_CLIENT = saas.clientSecret;
  process.env.GATEHOUSE_SECRET_WEATHER_KEY = API_KEY;
  const downPort = await freePort();
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logText += chunk.toString('utf8');
      callback();
    },
  });
  identity = await startIdentity({
    port,
    now: () => Date.now() + skewMs,
    logger: createLogger({ level: 'debug', destination }),
    config: {
      tokenVault: {
        oauth2CredentialProviders: [
          { name: 'saas', discoveryUrl: saas.discoveryUrl, clientId: saas.clientId, clientSecretName: 'saas_client' },
          { name: 'down', discoveryUrl: `http://127.0.0.1:${downPort}/.well-known/openid-configuration`, clientId: 'x', clientSecretName: 'saas_client' },
        ],
        apiKeyCredentialProviders: [{ name: 'weather', apiKeySecretName: 'weather_key' }],
      },
    },
  });
  identity.identity.registerWorkloads([{ name: WORKLOAD, audience: 'gatehouse-test' }]);
  identity.identity.addCredentialProviders({ oauth2: () => undefined, apiKey: () => undefined, allowedReturnUrls: (name) => (name === WORKLOAD ? [returnUrl] : undefined) });
  client = new BedrockAgentCoreClient({ endpoint: identity.baseUrl, region: 'local', credentials: identity.adminKey, maxAttempts: 1 });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
});

after(async () => {
  await browser?.close();
  client?.destroy();
  await identity?.close();
  await saas?.close();
  returnServer?.closeAllConnections();
  await new Promise((resolve) => returnServer?.close(resolve));
  delete process.env.GATEHOUSE_SECRET_SAAS_CLIENT;
  delete process.env.GATEHOUSE_SECRET_WEATHER_KEY;
});

/** Signs on Gatehouse's (possibly skewed) clock; the SDK would otherwise re-learn the real time from each response's Date header. */
const send = ((command: never) => {
  client.config.systemClockOffset = skewMs;
  return client.send(command);
}) as BedrockAgentCoreClient['send'];

async function workloadToken(userId: string): Promise<string> {
  const answer = await send(new GetWorkloadAccessTokenForUserIdCommand({ workloadName: WORKLOAD, userId }));
  return answer.workloadAccessToken!;
}

async function askToken(userId: string, extra: { forceAuthentication?: boolean; resourceOauth2ReturnUrl?: string } = {}): Promise<{ accessToken?: string | undefined; authorizationUrl?: string | undefined; sessionUri?: string | undefined }> {
  return send(new GetResourceOauth2TokenCommand({
    workloadIdentityToken: await workloadToken(userId), resourceCredentialProviderName: 'saas', scopes: ['openid', SAAS_SCOPE], oauth2Flow: 'USER_FEDERATION',
    resourceOauth2ReturnUrl: returnUrl, ...extra,
  }));
}

/** Opens the consent URL in Chromium and goes through the SaaS's own login and consent pages; answers where the browser landed. */
async function consentInBrowser(authorizationUrl: string, saasLogin: string): Promise<URL> {
  const context = await browser.newContext();
  // offline: the SaaS's page styles import a web font; nothing may leave 127.0.0.1
  await context.route(/^https?:\/\/(?!127\.0\.0\.1)/, (route) => route.abort());
  const page = await context.newPage();
  try {
    await page.goto(authorizationUrl);
    await page.fill('input[name=login]', saasLogin);
    await page.fill('input[name=password]', 'any-password');
    await page.click('button[type=submit]');
    await page.waitForSelector('button:has-text("Continue")');
    await page.click('button:has-text("Continue")');
    await page.waitForURL((url) => url.href.startsWith(returnUrl));
    return new URL(page.url());
  } finally {
    await context.close();
  }
}

async function expectError(promise: Promise<unknown>, name: string, pattern?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: Error) => {
    assert.equal(error.name, name, error.message);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

test('USER_FEDERATION: consent URL with PKCE S256 and state, then the token only after the starting user completes it', async () => {
  const first = await askToken('alice');
  assert.equal(first.accessToken, undefined);
  const url = new URL(first.authorizationUrl!);
  assert.equal(url.origin, saas.issuer);
  assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
  assert.ok((url.searchParams.get('code_challenge') ?? '').length >= 43);
  assert.ok((url.searchParams.get('state') ?? '').length >= 22);
  assert.equal(url.searchParams.get('redirect_uri'), `${identity.baseUrl}/identities/oauth2/callback`);
  assert.match(first.sessionUri!, /^urn:ietf:params:oauth:request_uri:/);

  // Consent started by alice, finished in bob's session: refused and discarded, for both.
  const landed = await consentInBrowser(first.authorizationUrl!, 'alice-at-saas');
  assert.equal(landed.searchParams.get('session_id'), first.sessionUri);
  await expectError(send(new CompleteResourceTokenAuthCommand({ sessionUri: first.sessionUri!, userIdentifier: { userId: 'bob' } })), 'AccessDeniedException', /another user/);
  await expectError(send(new CompleteResourceTokenAuthCommand({ sessionUri: first.sessionUri!, userIdentifier: { userId: 'alice' } })), 'ResourceNotFoundException');
  assert.equal((await askToken('bob')).accessToken, undefined, 'bob holds no token');
  assert.equal((await askToken('alice')).accessToken, undefined, 'the hijacked consent stored nothing for alice either');

  // Consent done properly: alice completes her own.
  const second = await askToken('alice');
  assert.equal((await askToken('alice')).sessionUri, second.sessionUri, 'the same link again until it is used');
  await consentInBrowser(second.authorizationUrl!, 'alice-at-saas');
  await send(new CompleteResourceTokenAuthCommand({ sessionUri: second.sessionUri!, userIdentifier: { userId: 'alice' } }));
  const answer = await askToken('alice');
  assert.ok(answer.accessToken, 'the SaaS token after consent');
  const claims = decodeJwt(answer.accessToken);
  assert.equal(claims.iss, saas.issuer);
  assert.equal(claims.sub, 'alice-at-saas');
  assert.match(String(claims.scope), /tickets:read/);

  // bob, same workload, same provider: asked to consent, never handed alice's token.
  const bob = await askToken('bob');
  assert.equal(bob.accessToken, undefined);
  assert.ok(bob.authorizationUrl);

  // forceAuthentication starts a new consent although a token is stored.
  const forced = await askToken('alice', { forceAuthentication: true });
  assert.equal(forced.accessToken, undefined);
  assert.ok(forced.authorizationUrl);
  assert.equal((await askToken('alice')).accessToken, answer.accessToken, 'the stored token is still there');
});

test('an expired SaaS token is refreshed with its refresh token before it is handed out', async () => {
  const before = (await askToken('alice')).accessToken;
  assert.ok(before, 'alice is connected (previous test)');
  const refreshesBefore = saas.grants.refresh_token ?? 0;
  skewMs = 2 * 3600_000; // Gatehouse's clock passes the token's expiry (the SDK signs on the same skewed clock)
  try {
    const after = (await askToken('alice')).accessToken;
    assert.ok(after);
    assert.notEqual(after, before);
    assert.equal(saas.grants.refresh_token, refreshesBefore + 1);
    assert.equal(decodeJwt(after).sub, 'alice-at-saas');
    assert.equal((await askToken('alice')).accessToken, after, 'the refreshed token is stored and reused');
  } finally {
    skewMs = 0;
  }
});

test('refusals: return URL off the allow-list, unknown and replayed state, a finished consent cannot be completed twice', async () => {
  await expectError(askToken('carol', { resourceOauth2ReturnUrl: 'https://evil.example/steal' }), 'ValidationException', /allowedResourceOauth2ReturnUrls/);
  const forged = await fetch(`${identity.baseUrl}/identities/oauth2/callback?code=abc&state=forged-state-value`, { redirect: 'manual' });
  assert.equal(forged.status, 400);
  assert.match(await forged.text(), /unknown, already used or expired/);

  const started = await askToken('carol');
  const state = new URL(started.authorizationUrl!).searchParams.get('state')!;
  // the browser comes back from the SaaS; capture the callback URL to replay it
  const context = await browser.newContext();
  await context.route(/^https?:\/\/(?!127\.0\.0\.1)/, (route) => route.abort());
  const page = await context.newPage();
  let callback: string | undefined;
  page.on('request', (request) => {
    if (request.url().includes('/identities/oauth2/callback')) callback = request.url();
  });
  await page.goto(started.authorizationUrl!);
  await page.fill('input[name=login]', 'carol-at-saas');
  await page.fill('input[name=password]', 'x');
  await page.click('button[type=submit]');
  await page.click('button:has-text("Continue")');
  await page.waitForURL((url) => url.href.startsWith(returnUrl));
  await context.close();
  assert.ok(callback?.includes(`state=${state}`));
  const replay = await fetch(callback!, { redirect: 'manual' });
  assert.equal(replay.status, 400, 'a replayed callback is refused');
  // a callback whose state is right but whose code was never issued for it fails at the SaaS (PKCE + code binding)
  const wrongCode = await askToken('carol');
  const wrongState = new URL(wrongCode.authorizationUrl!).searchParams.get('state')!;
  const exchange = await fetch(`${identity.baseUrl}/identities/oauth2/callback?code=not-a-code&state=${wrongState}&iss=${encodeURIComponent(saas.issuer)}`, { redirect: 'manual' });
  assert.equal(exchange.status, 403);
  await expectError(send(new CompleteResourceTokenAuthCommand({ sessionUri: wrongCode.sessionUri!, userIdentifier: { userId: 'carol' } })), 'ValidationException', /failed/);
  await send(new CompleteResourceTokenAuthCommand({ sessionUri: started.sessionUri!, userIdentifier: { userId: 'carol' } }));
  await expectError(send(new CompleteResourceTokenAuthCommand({ sessionUri: started.sessionUri!, userIdentifier: { userId: 'carol' } })), 'ResourceNotFoundException');
});

test('M2M client credentials, cached until expiry; API keys; a workload token is required', async () => {
  const own = (await send(new GetWorkloadAccessTokenCommand({ workloadName: WORKLOAD }))).workloadAccessToken!;
  const before = saas.grants.client_credentials ?? 0;
  const first = await send(new GetResourceOauth2TokenCommand({ workloadIdentityToken: own, resourceCredentialProviderName: 'saas', scopes: [SAAS_SCOPE], oauth2Flow: 'M2M' }));
  const second = await send(new GetResourceOauth2TokenCommand({ workloadIdentityToken: own, resourceCredentialProviderName: 'saas', scopes: [SAAS_SCOPE], oauth2Flow: 'M2M' }));
  assert.ok(first.accessToken);
  assert.equal(second.accessToken, first.accessToken);
  assert.equal(saas.grants.client_credentials, before + 1);
  assert.equal(decodeJwt(first.accessToken).client_id, saas.clientId);
  // USER_FEDERATION needs a user
  await expectError(send(new GetResourceOauth2TokenCommand({ workloadIdentityToken: own, resourceCredentialProviderName: 'saas', scopes: [SAAS_SCOPE], oauth2Flow: 'USER_FEDERATION', resourceOauth2ReturnUrl: returnUrl })), 'ValidationException', /for a user/);
  const key = await send(new GetResourceApiKeyCommand({ workloadIdentityToken: own, resourceCredentialProviderName: 'weather' }));
  assert.equal(key.apiKey, API_KEY);
  await expectError(send(new GetResourceApiKeyCommand({ workloadIdentityToken: 'not-a-token', resourceCredentialProviderName: 'weather' })), 'AccessDeniedException');
  await expectError(send(new GetResourceApiKeyCommand({ workloadIdentityToken: own, resourceCredentialProviderName: 'nope' })), 'ResourceNotFoundException');
});

test('a provider that is down: ServiceUnavailableException, nothing stored, the next call asks it again', async () => {
  const own = (await send(new GetWorkloadAccessTokenCommand({ workloadName: WORKLOAD }))).workloadAccessToken!;
  for (let attempt = 0; attempt < 2; attempt++) {
    await expectError(send(new GetResourceOauth2TokenCommand({ workloadIdentityToken: own, resourceCredentialProviderName: 'down', scopes: ['a'], oauth2Flow: 'M2M' })), 'ServiceUnavailableException', /could not be reached/);
  }
  await expectError(send(new GetResourceOauth2TokenCommand({
    workloadIdentityToken: await workloadToken('dave'), resourceCredentialProviderName: 'down', scopes: ['a'], oauth2Flow: 'USER_FEDERATION', resourceOauth2ReturnUrl: returnUrl,
  })), 'ServiceUnavailableException', /could not be reached/);
});

test('a second instance on the same data dir shares the vault: alice’s token there, bob still asked to consent', async () => {
  const stored = (await askToken('alice')).accessToken;
  assert.ok(stored);
  const second = await startIdentity({ dataDir: identity.dataDir, config: {
    tokenVault: { oauth2CredentialProviders: [{ name: 'saas', discoveryUrl: saas.discoveryUrl, clientId: saas.clientId, clientSecretName: 'saas_client' }] },
  } });
  second.identity.registerWorkloads([{ name: WORKLOAD, audience: 'gatehouse-test' }]);
  second.identity.addCredentialProviders({ oauth2: () => undefined, apiKey: () => undefined, allowedReturnUrls: () => [returnUrl] });
  const other = new BedrockAgentCoreClient({ endpoint: second.baseUrl, region: 'local', credentials: second.adminKey, maxAttempts: 1 });
  try {
    const ask = async (userId: string) => other.send(new GetResourceOauth2TokenCommand({
      workloadIdentityToken: (await other.send(new GetWorkloadAccessTokenForUserIdCommand({ workloadName: WORKLOAD, userId }))).workloadAccessToken!,
      resourceCredentialProviderName: 'saas', scopes: [SAAS_SCOPE, 'openid'], oauth2Flow: 'USER_FEDERATION', resourceOauth2ReturnUrl: returnUrl,
    }));
    assert.equal((await ask('alice')).accessToken, stored, 'the same sealed token, opened by the other instance');
    const bob = await ask('bob');
    assert.equal(bob.accessToken, undefined);
    assert.ok(bob.authorizationUrl);
  } finally {
    other.destroy();
    await second.stop();
  }
});

test('no client secret, API key or SaaS token in any log line', () => {
  assert.ok(logText.length > 0, 'the identity logged');
  assert.ok(!logText.includes(saas.clientSecret), 'client secret not logged');
  assert.ok(!logText.includes(API_KEY), 'API key not logged');
  assert.ok(!/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/.test(logText), 'no JWT (SaaS or workload token) logged');
});
