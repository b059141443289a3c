import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  type CognitoIdentityProviderClient, AdminCreateUserCommand, AdminGetUserCommand, AdminAddUserToGroupCommand, InitiateAuthCommand,
  RespondToAuthChallengeCommand, SignUpCommand, InvalidParameterException, UsernameExistsException, ListUsersCommand,
  AdminUpdateUserAttributesCommand, UpdateUserAttributesCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { AuthenticationDetails, CognitoUser, CognitoUserPool, type CognitoUserSession } from 'amazon-cognito-identity-js';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { openDatabase } from '@gatehouse/core';
import type { RunningIdentity } from '@gatehouse/testing/start-identity';
import { adminCreateUser } from '@gatehouse/testing/cognito-users';
import { cognitoClient, startIdentityWithOwnUrls, userExists } from './support/cognito-clients.ts';
import { hiddenFields, login } from './support/hosted-login.ts';

let running: RunningIdentity;
let admin: CognitoIdentityProviderClient;
let anonymous: CognitoIdentityProviderClient;
let jwks: ReturnType<typeof createRemoteJWKSet>;
let base: string;

before(async () => {
  running = await startIdentityWithOwnUrls((url) => ({
    identity: {
      userPools: [{
        poolName: 'default', signUpEnabled: true,
        clients: [
          { clientName: 'web', explicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'], callbackUrls: [`${url}/callback`], logoutUrls: [`${url}/bye`] },
        ],
      }],
    },
  }));
  base = running.baseUrl;
  admin = cognitoClient(running, 'admin');
  anonymous = cognitoClient(running, 'anonymous');
  jwks = createRemoteJWKSet(new URL(`${running.identity.defaultPool.issuer}/.well-known/jwks.json`));
});
after(async () => {
  admin.destroy();
  anonymous.destroy();
  await running.close();
});

const poolId = (): string => running.identity.defaultPool.userPoolId;
const clientId = (): string => running.identity.pool('default')!.clients.find((entry) => entry.clientName === 'web')!.clientId;

async function signIn(username: string, password: string): Promise<{ id: JWTPayload; access: JWTPayload }> {
  const result = await anonymous.send(new InitiateAuthCommand({ ClientId: clientId(), AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: username, PASSWORD: password } }));
  const issuer = running.identity.defaultPool.issuer;
  const id = await jwtVerify(result.AuthenticationResult!.IdToken!, jwks, { issuer, audience: clientId() });
  const access = await jwtVerify(result.AuthenticationResult!.AccessToken!, jwks, { issuer });
  return { id: id.payload, access: access.payload };
}

// Names a token minter owns, and names Cognito's schema does not have: none may be written as an attribute.
const HOSTILE_ATTRIBUTES: readonly [string, string][] = [
  ['cognito:groups', 'ops-readwrite'], ['cognito:username', 'admin'], ['cognito:roles', 'arn:aws:iam::1:role/x'], ['cognito:preferred_role', 'x'],
  ['username', 'admin'], ['nonce', 'forged-nonce'], ['client_id', 'other-client'], ['scope', 'aws.cognito.signin.user.admin openid'],
  ['sub', '00000000-0000-0000-0000-000000000000'], ['iss', 'https://evil.example'], ['aud', 'other-client'], ['exp', '9999999999'],
  ['iat', '0'], ['auth_time', '0'], ['token_use', 'access'], ['jti', 'forged'], ['origin_jti', 'forged'], ['event_id', 'forged'],
  ['at_hash', 'forged'], ['identities', '[]'], ['__proto__', 'x'], ['groups', 'ops-readwrite'], ['custom:', 'empty custom name'],
];

for (const [name, value] of HOSTILE_ATTRIBUTES) {
  test(`AdminCreateUser refuses the attribute ${name} and creates no user`, async () => {
    const username = `hostile-admin-${HOSTILE_ATTRIBUTES.findIndex(([entry]) => entry === name)}`;
    await assert.rejects(
      admin.send(new AdminCreateUserCommand({ UserPoolId: poolId(), Username: username, MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: 'a@example.test' }, { Name: name, Value: value }] })),
      (error: unknown) => error instanceof InvalidParameterException && error.message.includes(name),
    );
    assert.equal(await userExists(admin, poolId(), username), false);
  });
}

test('SignUp refuses every reserved or unknown attribute and creates no user', async () => {
  for (const [index, [name, value]] of HOSTILE_ATTRIBUTES.entries()) {
    const username = `hostile-signup-${index}`;
    await assert.rejects(
      anonymous.send(new SignUpCommand({ ClientId: clientId(), Username: username, Password: 'Sign-Up-Pass-1', UserAttributes: [{ Name: name, Value: value }] })),
      (error: unknown) => error instanceof InvalidParameterException && error.message.includes(name),
      name,
    );
    assert.equal(await userExists(admin, poolId(), username), false, name);
  }
});

test('(Admin)UpdateUserAttributes refuse every reserved or unknown attribute and change nothing', async () => {
  await adminCreateUser(admin, { userPoolId: poolId(), username: 'updater', password: 'Updater-Pass-1', attributes: { email: 'updater@example.test', email_verified: 'true' } });
  const result = await anonymous.send(new InitiateAuthCommand({ ClientId: clientId(), AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: 'updater', PASSWORD: 'Updater-Pass-1' } }));
  const accessToken = result.AuthenticationResult!.AccessToken!;
  const before = await admin.send(new AdminGetUserCommand({ UserPoolId: poolId(), Username: 'updater' }));
  for (const [name, value] of HOSTILE_ATTRIBUTES) {
    const attributes = [{ Name: 'custom:team', Value: 'red' }, { Name: name, Value: value }];
    await assert.rejects(
      admin.send(new AdminUpdateUserAttributesCommand({ UserPoolId: poolId(), Username: 'updater', UserAttributes: attributes })),
      (error: unknown) => error instanceof InvalidParameterException && error.message.includes(name), name,
    );
    await assert.rejects(
      anonymous.send(new UpdateUserAttributesCommand({ AccessToken: accessToken, UserAttributes: attributes })),
      (error: unknown) => error instanceof InvalidParameterException && error.message.includes(name), name,
    );
  }
  // a user cannot verify their own address either
  await assert.rejects(
    anonymous.send(new UpdateUserAttributesCommand({ AccessToken: accessToken, UserAttributes: [{ Name: 'email', Value: 'victim@example.test' }, { Name: 'email_verified', Value: 'true' }] })),
    (error: unknown) => error instanceof InvalidParameterException && error.message.includes('email_verified'),
  );
  const after = await admin.send(new AdminGetUserCommand({ UserPoolId: poolId(), Username: 'updater' }));
  assert.deepEqual(after.UserAttributes, before.UserAttributes);
  // positive control: allowed names are written, and a changed e-mail is no longer verified
  await anonymous.send(new UpdateUserAttributesCommand({ AccessToken: accessToken, UserAttributes: [{ Name: 'custom:team', Value: 'green' }, { Name: 'email', Value: 'new@example.test' }] }));
  const { id } = await signIn('updater', 'Updater-Pass-1');
  assert.equal(id['custom:team'], 'green');
  assert.equal(id.email, 'new@example.test');
  assert.equal(id.email_verified, false);
  assert.equal(id['cognito:groups'], undefined);
  await admin.send(new AdminUpdateUserAttributesCommand({ UserPoolId: poolId(), Username: 'UPDATER', UserAttributes: [{ Name: 'email_verified', Value: 'true' }] }));
  assert.equal((await signIn('updater', 'Updater-Pass-1')).id.email_verified, true);
});

test('SignUp cannot declare its own e-mail verified', async () => {
  await anonymous.send(new SignUpCommand({
    ClientId: clientId(), Username: 'self-verified', Password: 'Sign-Up-Pass-1',
    UserAttributes: [{ Name: 'email', Value: 'self@example.test' }, { Name: 'email_verified', Value: 'true' }, { Name: 'phone_number_verified', Value: 'true' }],
  }));
  const user = await admin.send(new AdminGetUserCommand({ UserPoolId: poolId(), Username: 'self-verified' }));
  const attributes = Object.fromEntries(user.UserAttributes!.map((attribute) => [attribute.Name, attribute.Value]));
  assert.equal(attributes.email_verified, 'false');
  assert.equal(attributes.phone_number_verified, undefined);
});

test('a NEW_PASSWORD_REQUIRED answer cannot write a reserved claim; the user stays as it was', async () => {
  await admin.send(new AdminCreateUserCommand({ UserPoolId: poolId(), Username: 'first-login', TemporaryPassword: 'Temp-Pass-1', MessageAction: 'SUPPRESS' }));
  for (const name of ['cognito:groups', 'username', 'email_verified']) {
    const started = await anonymous.send(new InitiateAuthCommand({ ClientId: clientId(), AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: 'first-login', PASSWORD: 'Temp-Pass-1' } }));
    assert.equal(started.ChallengeName, 'NEW_PASSWORD_REQUIRED');
    await assert.rejects(
      anonymous.send(new RespondToAuthChallengeCommand({
        ClientId: clientId(), ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: started.Session!,
        ChallengeResponses: { USERNAME: 'first-login', NEW_PASSWORD: 'Brand-New-Pass-2', [`userAttributes.${name}`]: 'ops-readwrite' },
      })),
      (error: unknown) => error instanceof InvalidParameterException && error.message.includes(name),
    );
    const user = await admin.send(new AdminGetUserCommand({ UserPoolId: poolId(), Username: 'first-login' }));
    assert.equal(user.UserStatus, 'FORCE_CHANGE_PASSWORD');
    assert.deepEqual(user.UserAttributes!.map((attribute) => attribute.Name), ['sub']);
  }
});

test('a user in no group gets an ID token without cognito:groups; standard and custom: attributes are in it', async () => {
  await adminCreateUser(admin, { userPoolId: poolId(), username: 'plain-user', password: 'Plain-Pass-1', attributes: { email: 'plain@example.test', 'custom:team': 'blue' } });
  const { id, access } = await signIn('plain-user', 'Plain-Pass-1');
  assert.equal(id['cognito:groups'], undefined);
  assert.equal(access['cognito:groups'], undefined);
  assert.equal(id['cognito:username'], 'plain-user');
  assert.equal(id.email, 'plain@example.test');
  assert.equal(id['custom:team'], 'blue');
  assert.equal(id.username, undefined);
  assert.equal(id.nonce, undefined);
  // positive control: group membership still shows
  await admin.send(new AdminAddUserToGroupCommand({ UserPoolId: poolId(), Username: 'plain-user', GroupName: 'ops-readonly' }));
  assert.deepEqual((await signIn('plain-user', 'Plain-Pass-1')).id['cognito:groups'], ['ops-readonly']);
});

test('attributes already stored under reserved names (an old row) never reach a token', async () => {
  await adminCreateUser(admin, { userPoolId: poolId(), username: 'legacy-row', password: 'Legacy-Pass-1', attributes: { email: 'legacy@example.test' } });
  const database = openDatabase(path.join(running.dataDir, 'identity.db'));
  try {
    database
      .prepare("UPDATE users SET attributes = json_set(attributes, '$.\"cognito:groups\"', 'ops-readwrite', '$.username', 'admin', '$.nonce', 'forged', '$.iss', 'https://evil.example', '$.at_hash', 'forged', '$.token_use', 'access') WHERE username = ?")
      .run('legacy-row');
  } finally {
    database.close();
  }
  const { id, access } = await signIn('legacy-row', 'Legacy-Pass-1');
  assert.equal(id['cognito:groups'], undefined);
  assert.equal(id.username, undefined);
  assert.equal(id.nonce, undefined);
  assert.equal(id.at_hash, undefined);
  assert.equal(id.token_use, 'id');
  assert.equal(id.iss, running.identity.defaultPool.issuer);
  assert.equal(id.email, 'legacy@example.test');
  assert.equal(access['cognito:groups'], undefined);
});

// ---- hosted login CSRF: the token is bound to the browser (cookie) and to the authorize request it completes

function authorizeUrl(state: string, challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'): string {
  const url = new URL('/oauth2/authorize', base);
  url.search = new URLSearchParams({
    response_type: 'code', client_id: clientId(), redirect_uri: `${base}/callback`, scope: 'openid', state, code_challenge: challenge, code_challenge_method: 'S256',
  }).toString();
  return url.href;
}

async function loginForm(state: string, challenge?: string): Promise<{ cookie: string; fields: Record<string, string> }> {
  const authorize = await fetch(authorizeUrl(state, challenge), { redirect: 'manual' });
  const page = await fetch(new URL(authorize.headers.get('location')!, base));
  const cookie = page.headers.getSetCookie().map((header) => header.split(';')[0]!).find((pair) => pair.startsWith('gatehouse_csrf='))!;
  return { cookie, fields: hiddenFields(await page.text()) };
}

async function postLogin(fields: Record<string, string>, cookie: string): Promise<Response> {
  return fetch(new URL('/login', base), {
    method: 'POST', redirect: 'manual', body: new URLSearchParams({ ...fields, username: 'csrf-user', password: 'Csrf-Pass-1' }),
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
  });
}

function assertRefused(response: Response): void {
  assert.equal(response.status, 403);
  assert.equal(response.headers.get('location'), null);
  assert.ok(!response.headers.getSetCookie().some((header) => header.startsWith('gatehouse_session=')), 'no sign-in session was created');
}

test('the hosted login refuses a CSRF cookie and field pair the client chose', async () => {
  await adminCreateUser(admin, { userPoolId: poolId(), username: 'csrf-user', password: 'Csrf-Pass-1' });
  const { fields } = await loginForm('chosen-pair');
  const forged = `${Date.now() + 600_000}.${'A'.repeat(43)}`;
  for (const chosen of ['attacker-chosen-value', forged]) {
    const response = await postLogin({ ...fields, csrf: chosen }, `gatehouse_csrf=${chosen}`);
    assertRefused(response);
    assert.match(await response.text(), /sign-in form expired/);
  }
});

test('the hosted login refuses a CSRF token issued for another authorize request', async () => {
  const first = await loginForm('transaction-a');
  const second = await loginForm('transaction-b', 'x'.repeat(43));
  // A's browser token with B's request (other state and PKCE challenge), and A's token with only the challenge swapped
  assertRefused(await postLogin({ ...second.fields, csrf: first.fields.csrf! }, first.cookie));
  assertRefused(await postLogin({ ...first.fields, code_challenge: 'y'.repeat(43) }, first.cookie));
  // the right token with another browser's cookie
  assertRefused(await postLogin(first.fields, second.cookie));
  // positive control: each form, posted as rendered, signs in
  const done = await postLogin(first.fields, first.cookie);
  assert.equal(done.status, 302);
  const location = new URL(done.headers.get('location')!);
  assert.equal(location.origin + location.pathname, `${base}/callback`);
  assert.equal(location.searchParams.get('state'), 'transaction-a');
  assert.ok(location.searchParams.get('code'));
});

test('a hosted login form older than 30 minutes is refused', async () => {
  let now = Date.now();
  const timed = await startIdentityWithOwnUrls(
    (url) => ({ identity: { userPools: [{ poolName: 'default', clients: [{ clientName: 'web', clientId: 'timedweb', callbackUrls: [`${url}/callback`] }] }] } }),
    { now: () => now },
  );
  const origin = timed.baseUrl;
  try {
    const { username, password } = timed.identity.firstRun!;
    const authorize = `${origin}/oauth2/authorize?${new URLSearchParams({ response_type: 'code', client_id: 'timedweb', redirect_uri: `${origin}/callback`, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })}`;
    const form = async (): Promise<{ cookie: string; fields: Record<string, string> }> => {
      const page = await fetch(new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location')!, origin));
      return { cookie: page.headers.getSetCookie()[0]!.split(';')[0]!, fields: hiddenFields(await page.text()) };
    };
    const post = (rendered: { cookie: string; fields: Record<string, string> }): Promise<Response> =>
      fetch(`${origin}/login`, {
        method: 'POST', redirect: 'manual', body: new URLSearchParams({ ...rendered.fields, username, password }),
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: rendered.cookie },
      });
    const stale = await form();
    now += 30 * 60_000 + 1000;
    assertRefused(await post(stale));
    assert.equal((await post(await form())).status, 302);
  } finally {
    await timed.close();
  }
});

test('a deeply nested Cognito request body gets a typed error, not a stack', async () => {
  const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
  for (const body of [`{"ClientId":"${clientId()}","AuthFlow":"USER_PASSWORD_AUTH","AuthParameters":${deep}}`, deep]) {
    const response = await fetch(`${base}/`, { method: 'POST', body, headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth' } });
    assert.equal(response.status, 400);
    const answer = (await response.json()) as { __type: string; message: string };
    assert.ok(['InvalidParameterException', 'SerializationException'].includes(answer.__type), answer.__type);
    assert.doesNotMatch(answer.message, /stack|at .*\.ts|RangeError/);
  }
});

test('the real hosted login flow still signs in', async () => {
  const result = await login(authorizeUrl('real-flow'), 'csrf-user', 'Csrf-Pass-1');
  assert.equal(result.status, 302, result.body);
  assert.equal(new URL(result.location!).searchParams.get('state'), 'real-flow');
  assert.ok(result.sessionCookie);
});

// ---- usernames: case-insensitive and NFKC-folded by default, as Cognito recommends

const LOOK_ALIKES = ['ADMIN', 'Admin', '\uff41\uff44\uff4d\uff49\uff4e', '\uff21\uff24\uff2d\uff29\uff2e', 'ad\u217Fin'];

test('look-alikes of an existing username cannot be created, by AdminCreateUser or SignUp', async () => {
  const before = await admin.send(new AdminGetUserCommand({ UserPoolId: poolId(), Username: 'admin' }));
  for (const username of LOOK_ALIKES) {
    await assert.rejects(
      admin.send(new AdminCreateUserCommand({ UserPoolId: poolId(), Username: username, MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'email', Value: 'evil@example.test' }] })),
      UsernameExistsException, username,
    );
    await assert.rejects(anonymous.send(new SignUpCommand({ ClientId: clientId(), Username: username, Password: 'Sign-Up-Pass-1' })), UsernameExistsException, username);
  }
  const listed = await admin.send(new ListUsersCommand({ UserPoolId: poolId() }));
  assert.deepEqual(listed.Users!.map((user) => user.Username).filter((name) => name!.normalize('NFKC').toLowerCase() === 'admin'), ['admin']);
  const after = await admin.send(new AdminGetUserCommand({ UserPoolId: poolId(), Username: 'admin' }));
  assert.deepEqual(after, { ...before, $metadata: after.$metadata });
});

test('sign-in with Admin or a fullwidth spelling finds admin and its tokens name admin', async () => {
  const { password } = running.identity.firstRun!;
  const adminSub = (await admin.send(new AdminGetUserCommand({ UserPoolId: poolId(), Username: 'admin' }))).UserAttributes!.find((attribute) => attribute.Name === 'sub')!.Value;
  for (const spelling of ['Admin', '\uff41\uff44\uff4d\uff49\uff4e']) {
    const { id, access } = await signIn(spelling, password);
    assert.equal(access.username, 'admin');
    assert.equal(id['cognito:username'], 'admin');
    assert.equal(access.sub, adminSub);
  }
  // SRP proves the password over the stored name (USER_ID_FOR_SRP), whatever the user typed
  const session = await new Promise<CognitoUserSession>((resolve, reject) => {
    const pool = new CognitoUserPool({ UserPoolId: poolId(), ClientId: clientId(), endpoint: `${base}/` });
    new CognitoUser({ Username: 'ADMIN', Pool: pool }).authenticateUser(new AuthenticationDetails({ Username: 'ADMIN', Password: password }), {
      onSuccess: resolve, onFailure: reject, newPasswordRequired: () => reject(new Error('unexpected NEW_PASSWORD_REQUIRED')),
    });
  });
  assert.equal(session.getIdToken().decodePayload()['cognito:username'], 'admin');
  const hosted = await login(authorizeUrl('case-folded'), 'ADMIN', password);
  assert.equal(hosted.status, 302, hosted.body);
  assert.ok(new URL(hosted.location!).searchParams.get('code'));
});
