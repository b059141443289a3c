import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRemoteJWKSet, jwtVerify, decodeJwt } from 'jose';
import { CognitoIdentityProviderClient, AdminCreateUserCommand, AdminSetUserPasswordCommand, InitiateAuthCommand, GlobalSignOutCommand } from '@aws-sdk/client-cognito-identity-provider';
import { startIdentity, type RunningIdentity } from '@gatehouse/testing/start-identity';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS = 'urn:ietf:params:oauth:token-type:access_token';
let running: RunningIdentity;
let cognito: CognitoIdentityProviderClient;

before(async () => {
  running = await startIdentity();
  const admin = new CognitoIdentityProviderClient({ endpoint: running.baseUrl, region: 'local', credentials: running.adminKey });
  const poolId = running.identity.defaultPool.userPoolId;
  await admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: 'dave', MessageAction: 'SUPPRESS' }));
  await admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: 'dave', Password: 'Dave-Password-1', Permanent: true }));
  admin.destroy();
  cognito = new CognitoIdentityProviderClient({ endpoint: running.baseUrl, region: 'local', credentials: { accessKeyId: 'AKIAUNUSED00000000000', secretAccessKey: 'unused' } });
});
after(async () => {
  cognito.destroy();
  await running.close();
});

async function userToken(): Promise<string> {
  const result = await cognito.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: running.identity.defaultPool.webClientId, AuthParameters: { USERNAME: 'dave', PASSWORD: 'Dave-Password-1' } }));
  return result.AuthenticationResult!.AccessToken!;
}

async function exchange(actor: 'runtime' | 'gateway' | { clientId: string; clientSecret?: string }, parameters: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const credentials = typeof actor === 'string' ? running.identity.serviceClient(actor) : actor;
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (credentials.clientSecret) headers.authorization = `Basic ${Buffer.from(`${credentials.clientId}:${credentials.clientSecret}`).toString('base64')}`;
  const body = new URLSearchParams({ grant_type: EXCHANGE, subject_token_type: ACCESS, ...(credentials.clientSecret ? {} : { client_id: credentials.clientId }), ...parameters });
  const response = await fetch(`${running.baseUrl}/oauth2/token`, { method: 'POST', headers, body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

test('the runtime service client exchanges a user token for a gateway-audience token with act; the gateway nests it', async () => {
  const subject = await userToken();
  const subjectClaims = decodeJwt(subject);
  const first = await exchange('runtime', { subject_token: subject, audience: 'http://127.0.0.1/mcp' });
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.equal(first.body.issued_token_type, ACCESS);
  assert.equal(first.body.token_type, 'Bearer');
  assert.ok(Number(first.body.expires_in) <= 900);
  const issuer = running.identity.defaultPool.issuer;
  const jwks = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));
  const { payload } = await jwtVerify(String(first.body.access_token), jwks, { issuer, audience: 'http://127.0.0.1/mcp' });
  const runtime = running.identity.serviceClient('runtime');
  assert.equal(payload.sub, subjectClaims.sub);
  assert.equal(payload.username, 'dave');
  assert.equal(payload.client_id, subjectClaims.client_id);
  assert.equal(payload.scope, subjectClaims.scope);
  assert.equal(payload.token_use, 'access');
  assert.deepEqual(payload.act, { sub: 'gatehouse-runtime', client_id: runtime.clientId });
  assert.ok(payload.exp! <= subjectClaims.exp!);
  const second = await exchange('gateway', { subject_token: String(first.body.access_token), resource: 'https://target.example.test/api' });
  assert.equal(second.status, 200, JSON.stringify(second.body));
  const nested = decodeJwt(String(second.body.access_token));
  assert.equal(nested.aud, 'https://target.example.test/api');
  assert.deepEqual(nested.act, { sub: 'gatehouse-gateway', client_id: running.identity.serviceClient('gateway').clientId, act: { sub: 'gatehouse-runtime', client_id: runtime.clientId } });
});

test('token exchange refuses unauthenticated and unauthorized clients', async () => {
  const subject = await userToken();
  const runtime = running.identity.serviceClient('runtime');
  const noSecret = await exchange({ clientId: runtime.clientId }, { subject_token: subject, audience: 'x' });
  assert.equal(noSecret.status, 401);
  assert.equal(noSecret.body.error, 'invalid_client');
  const wrongSecret = await exchange({ clientId: runtime.clientId, clientSecret: 'wrong' }, { subject_token: subject, audience: 'x' });
  assert.equal(wrongSecret.body.error, 'invalid_client');
  const publicClient = await exchange({ clientId: running.identity.defaultPool.webClientId }, { subject_token: subject, audience: 'x' });
  assert.equal(publicClient.status, 400);
  assert.equal(publicClient.body.error, 'unauthorized_client');
});

test('token exchange refuses forged, ID, revoked subject tokens, a missing audience and wider scopes', async () => {
  const subject = await userToken();
  const [header, payload, signature] = subject.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
  const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, 'cognito:groups': ['ops-readwrite'] })).toString('base64url')}.${signature}`;
  assert.equal((await exchange('runtime', { subject_token: forged, audience: 'x' })).body.error, 'invalid_request');
  assert.equal((await exchange('runtime', { subject_token: subject })).body.error, 'invalid_target');
  assert.equal((await exchange('runtime', { subject_token: subject, audience: 'x', scope: 'openid ops:admin' })).body.error, 'invalid_scope');
  const signIn = await cognito.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: running.identity.defaultPool.webClientId, AuthParameters: { USERNAME: 'dave', PASSWORD: 'Dave-Password-1' } }));
  assert.equal((await exchange('runtime', { subject_token: signIn.AuthenticationResult!.IdToken!, audience: 'x' })).body.error, 'invalid_request');
  await cognito.send(new GlobalSignOutCommand({ AccessToken: signIn.AuthenticationResult!.AccessToken! }));
  const revoked = await exchange('runtime', { subject_token: signIn.AuthenticationResult!.AccessToken!, audience: 'x' });
  assert.equal(revoked.status, 400);
  assert.equal(revoked.body.error, 'invalid_request');
});
