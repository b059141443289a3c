import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import * as client from 'openid-client';
import { SignJWT, generateKeyPair } from 'jose';
import { chromium, type Browser } from 'playwright-core';
import type { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { closeServer, listen } from '@gatehouse/core';
import type { RunningIdentity } from '@gatehouse/testing/start-identity';
import { adminCreateUser } from '@gatehouse/testing/cognito-users';
import { cognitoClient, startIdentityWithOwnUrls, userExists } from './support/cognito-clients.ts';
import { login } from './support/hosted-login.ts';

let running: RunningIdentity;
let base: string;
let admin: CognitoIdentityProviderClient;
let config: client.Configuration;

before(async () => {
  running = await startIdentityWithOwnUrls((url) => ({
    identity: {
      userPools: [{
        poolName: 'default',
        clients: [
          { clientName: 'web', explicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'], callbackUrls: [`${url}/callback`], logoutUrls: [`${url}/bye`, `${url}/signed-out`] },
          { clientName: 'other', callbackUrls: [`${url}/other`], logoutUrls: [`${url}/other-bye`] },
        ],
      }],
    },
  }));
  base = running.baseUrl;
  admin = cognitoClient(running, 'admin');
  await adminCreateUser(admin, { userPoolId: poolId(), username: 'dora', password: 'Dora-Password-1', attributes: { email: 'dora@example.test' } });
  config = await client.discovery(new URL(running.identity.defaultPool.issuer), clientId('web'), undefined, client.None(), { execute: [client.allowInsecureRequests] });
});
after(async () => {
  admin.destroy();
  await running.close();
});

const poolId = (): string => running.identity.defaultPool.userPoolId;
const clientId = (name: string): string => running.identity.pool('default')!.clients.find((entry) => entry.clientName === name)!.clientId;

// ---- CORS on the Cognito JSON API

function cognitoPost(target: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}/`, {
    method: 'POST', body: JSON.stringify(body),
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AWSCognitoIdentityProviderService.${target}`, origin: 'http://app.example.test', ...headers },
  });
}

test('a preflight for the Cognito API is answered for any origin, with the X-Amz headers and without Authorization', async () => {
  const response = await fetch(`${base}/`, {
    method: 'OPTIONS',
    headers: { origin: 'http://app.example.test', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-amz-target,x-amz-user-agent' },
  });
  assert.equal(response.status, 204);
  assert.equal(response.headers.get('access-control-allow-origin'), '*');
  assert.equal(response.headers.get('access-control-allow-methods'), 'POST');
  const allowed = response.headers.get('access-control-allow-headers')!.split(', ');
  for (const name of ['content-type', 'x-amz-target', 'x-amz-user-agent', 'amz-sdk-invocation-id']) assert.ok(allowed.includes(name), name);
  assert.ok(!allowed.includes('authorization'));
  // an OPTIONS / that is not a Cognito preflight is not claimed
  assert.equal((await fetch(`${base}/`, { method: 'OPTIONS' })).status, 404);
});

test('public Cognito operations carry the CORS grant on success and on error; admin operations never do', async () => {
  const ok = await cognitoPost('InitiateAuth', { ClientId: clientId('web'), AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: 'dora', PASSWORD: 'Dora-Password-1' } });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('access-control-allow-origin'), '*');
  assert.ok(((await ok.json()) as { AuthenticationResult?: unknown }).AuthenticationResult);
  const wrong = await cognitoPost('InitiateAuth', { ClientId: clientId('web'), AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: 'dora', PASSWORD: 'Wrong-Password-1' } });
  assert.equal(wrong.status, 400);
  assert.equal(wrong.headers.get('access-control-allow-origin'), '*');
  assert.match(wrong.headers.get('access-control-expose-headers')!, /x-amzn-errortype/);
  const adminCall = await cognitoPost('AdminCreateUser', { UserPoolId: poolId(), Username: 'cors-admin', MessageAction: 'SUPPRESS' });
  assert.equal(adminCall.status, 400);
  assert.equal(adminCall.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
  assert.equal(adminCall.headers.get('access-control-allow-origin'), null);
  assert.equal(await userExists(admin, poolId(), 'cors-admin'), false);
  // the account operations a browser app calls (forgot password, attribute verification) are public as well; their admin side is not
  const forgot = await cognitoPost('ForgotPassword', { ClientId: clientId('web'), Username: 'dora' });
  assert.equal(forgot.status, 200);
  assert.equal(forgot.headers.get('access-control-allow-origin'), '*');
  const adminReset = await cognitoPost('AdminResetUserPassword', { UserPoolId: poolId(), Username: 'dora' });
  assert.equal(adminReset.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
  assert.equal(adminReset.headers.get('access-control-allow-origin'), null);
  const stillSignsIn = await cognitoPost('InitiateAuth', { ClientId: clientId('web'), AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: 'dora', PASSWORD: 'Dora-Password-1' } });
  assert.equal(stillSignsIn.status, 200, 'the refused admin reset left the password working');
});

test('from a page on another origin, Chromium can sign in through the Cognito API but cannot send an admin call', async () => {
  const pageServer: Server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end('<!doctype html><title>app</title>');
  });
  const pagePort = await listen(pageServer, 0);
  const browser: Browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await browser.newPage();
    await page.goto(`http://localhost:${pagePort}/`);
    const call = (target: string, body: unknown, extra: Record<string, string>): Promise<string> =>
      page.evaluate(async ({ url, target, body, extra }) => {
        try {
          const response = await fetch(url, {
            method: 'POST', body: JSON.stringify(body),
            headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AWSCognitoIdentityProviderService.${target}`, 'x-amz-user-agent': 'aws-amplify/6', ...extra },
          });
          const json = (await response.json()) as Record<string, unknown>;
          return `${response.status} ${Object.keys(json).sort().join(',')}`;
        } catch (error) {
          return `blocked ${(error as Error).name}`;
        }
      }, { url: `${base}/`, target, body, extra });
    assert.equal(await call('InitiateAuth', { ClientId: clientId('web'), AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: 'dora', PASSWORD: 'Dora-Password-1' } }, {}), '200 AuthenticationResult,ChallengeParameters');
    // a signed admin call needs Authorization, which the preflight does not allow: the request is never sent
    const signed = { authorization: `AWS4-HMAC-SHA256 Credential=${running.adminKey.accessKeyId}/20260101/local/cognito-idp/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}` };
    assert.equal(await call('AdminCreateUser', { UserPoolId: poolId(), Username: 'browser-admin', MessageAction: 'SUPPRESS' }, signed), 'blocked TypeError');
    // unsigned, it is sent but refused, and the page may not read the answer
    assert.equal(await call('AdminCreateUser', { UserPoolId: poolId(), Username: 'browser-admin', MessageAction: 'SUPPRESS' }, {}), 'blocked TypeError');
    assert.equal(await userExists(admin, poolId(), 'browser-admin'), false);
  } finally {
    await browser.close();
    await closeServer(pageServer);
  }
});

test("the OAuth token endpoint's preflight allows the headers Amplify sends with its code exchange (x-amz-user-agent)", async () => {
  const response = await fetch(`${base}/oauth2/token`, {
    method: 'OPTIONS',
    headers: { origin: 'http://app.example.test', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-amz-user-agent,cache-control' },
  });
  assert.equal(response.status, 204);
  assert.equal(response.headers.get('access-control-allow-origin'), '*');
  const allowed = response.headers.get('access-control-allow-headers')!.split(', ');
  for (const name of ['content-type', 'x-amz-user-agent', 'cache-control', 'authorization']) assert.ok(allowed.includes(name), name);
});

// ---- userInfo without a token (RFC 6750 §3.1)

test('userInfo without a bearer token is a 401 challenge; a malformed one is a 400; a bad one is invalid_token', async () => {
  for (const headers of [{}, { authorization: 'Basic ZG9yYTpwYXNzd29yZA==' }]) {
    const response = await fetch(`${base}/oauth2/userInfo`, { headers });
    assert.equal(response.status, 401);
    const challenge = response.headers.get('www-authenticate')!;
    assert.match(challenge, /^Bearer\b/);
    assert.doesNotMatch(challenge, /error=/);
  }
  const malformed = await fetch(`${base}/oauth2/userInfo`, { headers: { authorization: 'Bearer two tokens' } });
  assert.equal(malformed.status, 400);
  assert.equal(((await malformed.json()) as { error: string }).error, 'invalid_request');
  const invalid = await fetch(`${base}/oauth2/userInfo`, { headers: { authorization: 'Bearer not.a.token' } });
  assert.equal(invalid.status, 401);
  assert.match(invalid.headers.get('www-authenticate')!, /error="invalid_token"/);
});

// ---- /logout: Cognito's parameters and OpenID Connect RP-Initiated Logout

async function signedIn(): Promise<{ cookie: string; idToken: string; accessToken: string }> {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: `${base}/callback`, scope: 'openid email', state, code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const result = await login(url.href, 'dora', 'Dora-Password-1');
  assert.equal(result.status, 302, result.body);
  const tokens = await client.authorizationCodeGrant(config, new URL(result.location!), { pkceCodeVerifier: verifier, expectedState: state });
  return { cookie: result.sessionCookie!, idToken: tokens.id_token!, accessToken: tokens.access_token };
}

/** True while the hosted-UI session cookie still signs the browser in without the form. */
async function sessionAlive(cookie: string): Promise<boolean> {
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: `${base}/callback`, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256',
  });
  const response = await fetch(url, { redirect: 'manual', headers: { cookie } });
  return new URL(response.headers.get('location')!, base).pathname === '/callback';
}

async function logout(parameters: Record<string, string>, cookie: string): Promise<Response> {
  return fetch(`${base}/logout?${new URLSearchParams(parameters)}`, { redirect: 'manual', headers: { cookie } });
}

test('openid-client RP-initiated logout: id_token_hint + registered post_logout_redirect_uri ends the session and echoes state', async () => {
  const { cookie, idToken } = await signedIn();
  assert.equal(await sessionAlive(cookie), true);
  const url = client.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: `${base}/signed-out`, state: 'bye-state' });
  assert.equal(url.origin + url.pathname, `${base}/logout`);
  const response = await fetch(url, { redirect: 'manual', headers: { cookie } });
  assert.equal(response.status, 302);
  assert.equal(response.headers.get('location'), `${base}/signed-out?state=bye-state`);
  assert.equal(await sessionAlive(cookie), false);
});

test("Cognito's client_id + logout_uri still signs out", async () => {
  const { cookie } = await signedIn();
  const response = await logout({ client_id: clientId('web'), logout_uri: `${base}/bye` }, cookie);
  assert.equal(response.status, 302);
  assert.equal(response.headers.get('location'), `${base}/bye`);
  assert.equal(await sessionAlive(cookie), false);
});

test('logout without a redirect shows a signed-out page and ends the session', async () => {
  const { cookie, idToken } = await signedIn();
  const response = await logout({ id_token_hint: idToken }, cookie);
  assert.equal(response.status, 200);
  assert.match(await response.text(), /<h1>You are signed out<\/h1>/);
  assert.equal(await sessionAlive(cookie), false);
});

test('logout refuses unregistered or unproven redirect targets on a sign-out page, and the session survives', async () => {
  const { cookie, idToken, accessToken } = await signedIn();
  const { privateKey } = await generateKeyPair('RS256');
  const forgedHint = await new SignJWT({ token_use: 'id', aud: clientId('web'), sub: 'x' })
    .setProtectedHeader({ alg: 'RS256', kid: 'forged' }).setIssuer(running.identity.defaultPool.issuer).setIssuedAt().setExpirationTime('1h').sign(privateKey);
  const cases: [Record<string, string>, RegExp][] = [
    [{ id_token_hint: idToken, post_logout_redirect_uri: 'https://evil.example/' }, /post_logout_redirect_uri is not a sign-out URL registered/],
    [{ id_token_hint: idToken, post_logout_redirect_uri: `${base}/other-bye` }, /not a sign-out URL registered/],
    [{ post_logout_redirect_uri: `${base}/signed-out` }, /Send client_id \(or id_token_hint\)/],
    [{ id_token_hint: forgedHint, post_logout_redirect_uri: `${base}/signed-out` }, /id_token_hint is not an ID token issued by this server/],
    [{ id_token_hint: accessToken, post_logout_redirect_uri: `${base}/signed-out` }, /id_token_hint is not an ID token issued by this server/],
    [{ id_token_hint: idToken, client_id: clientId('other'), post_logout_redirect_uri: `${base}/other-bye` }, /client_id is not the audience of id_token_hint/],
    [{ client_id: clientId('web'), logout_uri: 'https://evil.example/' }, /logout_uri is not a sign-out URL registered/],
    [{ client_id: 'nosuchclient', logout_uri: `${base}/bye` }, /not a registered app client/],
  ];
  for (const [parameters, message] of cases) {
    const response = await logout(parameters, cookie);
    assert.equal(response.status, 400, JSON.stringify(parameters));
    assert.equal(response.headers.get('location'), null);
    const html = await response.text();
    assert.match(html, /<h1>Sign-out request refused<\/h1>/);
    assert.match(html, message);
    assert.equal(await sessionAlive(cookie), true, JSON.stringify(parameters));
  }
});
