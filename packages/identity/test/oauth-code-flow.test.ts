import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify, decodeJwt } from 'jose';
import { type CognitoIdentityProviderClient, AdminCreateUserCommand, AdminSetUserPasswordCommand, InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import type { RunningIdentity } from '@gatehouse/testing/start-identity';
import { cognitoClient, startIdentityWithOwnUrls } from './support/cognito-clients.ts';
import { login, hiddenFields } from './support/hosted-login.ts';
import { readClientSecret } from './support/read-client-secret.ts';

let running: RunningIdentity;
let base: string;
let config: client.Configuration;
let jwks: ReturnType<typeof createRemoteJWKSet>;
let admin: CognitoIdentityProviderClient;

before(async () => {
  running = await startIdentityWithOwnUrls((url) => ({
    identity: {
      userPools: [{
        poolName: 'default',
        resourceServers: [{ identifier: 'https://api.example.test', scopes: [{ scopeName: 'read' }, { scopeName: 'write' }] }],
        clients: [
          { clientName: 'web', explicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'], callbackUrls: [`${url}/callback`], logoutUrls: [`${url}/bye`] },
          { clientName: 'machine', generateSecret: true, allowedOAuthFlows: ['client_credentials'], allowedOAuthScopes: ['https://api.example.test/read'] },
        ],
      }],
    },
  }));
  base = running.baseUrl;
  admin = cognitoClient(running, 'admin');
  const poolId = running.identity.defaultPool.userPoolId;
  await admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: 'carol', MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: 'carol@example.test' }, { Name: 'email_verified', Value: 'true' }] }));
  await admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: 'carol', Password: 'Carol-Password-1', Permanent: true }));
  config = await client.discovery(new URL(running.identity.defaultPool.issuer), webClientId(), undefined, client.None(), { execute: [client.allowInsecureRequests] });
  jwks = createRemoteJWKSet(new URL(`${running.identity.defaultPool.issuer}/.well-known/jwks.json`));
});
after(async () => {
  admin.destroy();
  await running.close();
});

const webClientId = (): string => running.identity.pool('default')!.clients.find((entry) => entry.clientName === 'web')!.clientId;
const machineClientId = (): string => running.identity.pool('default')!.clients.find((entry) => entry.clientName === 'machine')!.clientId;

async function codeFlow(extra: Record<string, string> = {}): Promise<{ tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers; nonce: string; sessionCookie: string | undefined }> {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: `${base}/callback`, scope: 'openid email profile', state, nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra,
  });
  const result = await login(url.href, 'carol', 'Carol-Password-1');
  assert.equal(result.status, 302, result.body);
  const tokens = await client.authorizationCodeGrant(config, new URL(result.location!), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
  return { tokens, nonce, sessionCookie: result.sessionCookie };
}

test('openid-client runs code + PKCE against discovery; every token verifies with the remote JWKS', async () => {
  const { tokens, nonce } = await codeFlow();
  const issuer = running.identity.defaultPool.issuer;
  const access = await jwtVerify(tokens.access_token, jwks, { issuer });
  const id = await jwtVerify(tokens.id_token!, jwks, { issuer, audience: webClientId() });
  assert.equal(access.payload.token_use, 'access');
  assert.equal(access.payload.scope, 'openid email profile');
  assert.equal(access.payload.username, 'carol');
  assert.equal(id.payload.nonce, nonce);
  assert.equal(typeof id.payload.at_hash, 'string');
  assert.equal(id.payload.email, 'carol@example.test');
  assert.ok(tokens.refresh_token);
  const info = await client.fetchUserInfo(config, tokens.access_token, String(access.payload.sub));
  assert.equal(info.email, 'carol@example.test');
  assert.equal(info.username, 'carol');
});

test('a second authorize with the session cookie skips the form; logout clears it', async () => {
  const { sessionCookie } = await codeFlow();
  const verifier = client.randomPKCECodeVerifier();
  const url = client.buildAuthorizationUrl(config, { redirect_uri: `${base}/callback`, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
  const silent = await fetch(url, { redirect: 'manual', headers: { cookie: sessionCookie! } });
  assert.equal(silent.status, 302);
  assert.match(silent.headers.get('location')!, new RegExp(`^${base}/callback\\?code=`));
  const bad = await fetch(`${base}/logout?client_id=${webClientId()}&logout_uri=${encodeURIComponent('https://evil.example/')}`, { redirect: 'manual', headers: { cookie: sessionCookie! } });
  assert.equal(bad.status, 400);
  assert.equal(bad.headers.get('location'), null);
  const out = await fetch(`${base}/logout?client_id=${webClientId()}&logout_uri=${encodeURIComponent(`${base}/bye`)}`, { redirect: 'manual', headers: { cookie: sessionCookie! } });
  assert.equal(out.status, 302);
  assert.equal(out.headers.get('location'), `${base}/bye`);
  const after = await fetch(url, { redirect: 'manual', headers: { cookie: sessionCookie! } });
  assert.match(after.headers.get('location')!, /^\/login\?/);
});

test('a code works once: the second redemption is invalid_grant and revokes what the first issued', async () => {
  const verifier = client.randomPKCECodeVerifier();
  const url = client.buildAuthorizationUrl(config, { redirect_uri: `${base}/callback`, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
  const result = await login(url.href, 'carol', 'Carol-Password-1');
  const code = new URL(result.location!).searchParams.get('code')!;
  const redeem = (codeVerifier: string) => fetch(`${base}/oauth2/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: webClientId(), code, redirect_uri: `${base}/callback`, code_verifier: codeVerifier }),
  });
  const wrongVerifier = await redeem(client.randomPKCECodeVerifier());
  assert.equal(wrongVerifier.status, 400);
  assert.equal(((await wrongVerifier.json()) as { error: string }).error, 'invalid_grant');
  // the failed attempt consumed the code: a code is single-use whatever the outcome
  const again = await redeem(verifier);
  assert.equal(again.status, 400);
  assert.equal(((await again.json()) as { error: string }).error, 'invalid_grant');
});

test('refresh tokens rotate; replaying a used one is invalid_grant and kills the whole family', async () => {
  const { tokens } = await codeFlow();
  const first = tokens.refresh_token!;
  const rotated = await client.refreshTokenGrant(config, first);
  assert.ok(rotated.refresh_token);
  assert.notEqual(rotated.refresh_token, first);
  await assert.rejects(client.refreshTokenGrant(config, first), (error: unknown) => error instanceof client.ResponseBodyError && error.error === 'invalid_grant');
  await assert.rejects(client.refreshTokenGrant(config, rotated.refresh_token!), (error: unknown) => error instanceof client.ResponseBodyError && error.error === 'invalid_grant');
  assert.equal(await running.identity.isRevoked(decodeJwt(rotated.access_token)), true);
});

test('revocation ends the sign-in for refresh and userinfo', async () => {
  const { tokens } = await codeFlow();
  await client.tokenRevocation(config, tokens.refresh_token!);
  await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token!), client.ResponseBodyError);
  const info = await fetch(`${base}/oauth2/userInfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  assert.equal(info.status, 401);
  assert.match(info.headers.get('www-authenticate')!, /error="invalid_token"/);
});

test('userinfo reads the bearer token with auth\'s one reader: one Authorization header, Bearer + one space + token', async () => {
  const { tokens } = await codeFlow();
  const good = await fetch(`${base}/oauth2/userInfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  assert.equal(good.status, 200);
  // Two Authorization headers (the same good token twice) are ambiguous: refused (by the server front or the reader),
  // and nothing about the user is sent.
  const twice = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const url = new URL(`${base}/oauth2/userInfo`);
    const request = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, headers: ['authorization', `Bearer ${tokens.access_token}`, 'authorization', `Bearer ${tokens.access_token}`] }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    request.end();
  });
  assert.equal(twice.status, 400);
  assert.doesNotMatch(twice.body, /"sub"/);
  const spaced = await fetch(`${base}/oauth2/userInfo`, { headers: { authorization: `Bearer  ${tokens.access_token}` } });
  assert.equal(spaced.status, 400);
  assert.equal(((await spaced.json()) as { error: string }).error, 'invalid_request');
  const basic = await fetch(`${base}/oauth2/userInfo`, { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
  assert.equal(basic.status, 401);
  assert.equal(basic.headers.get('www-authenticate'), 'Bearer realm="userInfo"');
});

test('authorize refuses missing or plain PKCE by redirect, and an unregistered redirect_uri without redirecting', async () => {
  const common = { client_id: webClientId(), response_type: 'code', scope: 'openid', state: 'xyz' };
  const go = (parameters: Record<string, string>) => fetch(`${base}/oauth2/authorize?${new URLSearchParams({ ...common, ...parameters })}`, { redirect: 'manual' });
  const missing = await go({ redirect_uri: `${base}/callback` });
  const missingLocation = new URL(missing.headers.get('location')!);
  assert.equal(missingLocation.searchParams.get('error'), 'invalid_request');
  assert.equal(missingLocation.searchParams.get('state'), 'xyz');
  const plain = await go({ redirect_uri: `${base}/callback`, code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' });
  assert.equal(new URL(plain.headers.get('location')!).searchParams.get('error'), 'invalid_request');
  const evil = await go({ redirect_uri: `${base}/callback/../evil`, code_challenge: 'a'.repeat(43), code_challenge_method: 'S256' });
  assert.equal(evil.status, 400);
  assert.equal(evil.headers.get('location'), null);
  const prefix = await go({ redirect_uri: `${base}/callbackx`, code_challenge: 'a'.repeat(43), code_challenge_method: 'S256' });
  assert.equal(prefix.status, 400);
});

test('the login form refuses a wrong password and a missing CSRF token without issuing a code', async () => {
  const verifier = client.randomPKCECodeVerifier();
  const url = client.buildAuthorizationUrl(config, { redirect_uri: `${base}/callback`, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
  const wrong = await login(url.href, 'carol', 'Not-Carol-1');
  assert.equal(wrong.status, 400);
  assert.equal(wrong.location, null);
  assert.match(wrong.body, /Incorrect username or password\./);
  const page = await fetch(new URL(`/login${url.search}`, base));
  const form = new URLSearchParams({ ...hiddenFields(await page.text()), username: 'carol', password: 'Carol-Password-1' });
  const forged = await fetch(`${base}/login`, { method: 'POST', redirect: 'manual', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  assert.equal(forged.status, 403);
  assert.equal(forged.headers.get('location'), null);
});

test('userinfo refuses an access token from InitiateAuth (no openid scope)', async () => {
  const cognito = cognitoClient(running, 'anonymous');
  try {
    const signIn = await cognito.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: webClientId(), AuthParameters: { USERNAME: 'carol', PASSWORD: 'Carol-Password-1' } }));
    const info = await fetch(`${base}/oauth2/userInfo`, { headers: { authorization: `Bearer ${signIn.AuthenticationResult!.AccessToken}` } });
    assert.equal(info.status, 401);
  } finally {
    cognito.destroy();
  }
});

test('client_credentials gives a machine token with custom scopes; a resource indicator becomes aud', async () => {
  const secret = readClientSecret(running.dataDir, machineClientId());
  const machine = await client.discovery(new URL(running.identity.defaultPool.issuer), machineClientId(), secret, client.ClientSecretBasic(), { execute: [client.allowInsecureRequests] });
  const tokens = await client.clientCredentialsGrant(machine, { resource: 'https://api.example.test' });
  const { payload } = await jwtVerify(tokens.access_token, jwks, { issuer: running.identity.defaultPool.issuer, audience: 'https://api.example.test' });
  assert.equal(payload.scope, 'https://api.example.test/read');
  assert.equal(payload.client_id, machineClientId());
  assert.equal(payload.sub, machineClientId());
  assert.equal(payload.username, undefined);
  await assert.rejects(client.clientCredentialsGrant(machine, { scope: 'https://api.example.test/write' }), (error: unknown) => error instanceof client.ResponseBodyError && error.error === 'invalid_scope');
  const wrongSecret = await client.discovery(new URL(running.identity.defaultPool.issuer), machineClientId(), 'not-the-secret', client.ClientSecretBasic(), { execute: [client.allowInsecureRequests] });
  await assert.rejects(client.clientCredentialsGrant(wrongSecret), (error: unknown) => error instanceof client.WWWAuthenticateChallengeError && error.response?.status === 401);
  const raw = await fetch(`${base}/oauth2/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${machineClientId()}:wrong`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
  });
  assert.equal(raw.status, 401);
  assert.equal(((await raw.json()) as { error: string }).error, 'invalid_client');
});

test('the token endpoint refuses repeated parameters, unknown grants and non-form bodies', async () => {
  const post = (body: string, type = 'application/x-www-form-urlencoded') => fetch(`${base}/oauth2/token`, { method: 'POST', headers: { 'content-type': type }, body });
  const twice = await post(`grant_type=refresh_token&grant_type=client_credentials&client_id=${webClientId()}`);
  assert.equal(twice.status, 400);
  assert.equal(((await twice.json()) as { error: string }).error, 'invalid_request');
  const unknown = await post(`grant_type=password&client_id=${webClientId()}&username=carol&password=Carol-Password-1`);
  assert.equal(((await unknown.json()) as { error: string }).error, 'unsupported_grant_type');
  const json = await post(JSON.stringify({ grant_type: 'client_credentials' }), 'application/json');
  assert.equal(((await json.json()) as { error: string }).error, 'invalid_request');
});
