import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import {
  CognitoIdentityProviderClient, InitiateAuthCommand, AdminCreateUserCommand, GetUserCommand,
  NotAuthorizedException, InvalidParameterException, ResourceNotFoundException, UsernameExistsException, TooManyRequestsException,
  GlobalSignOutCommand, RevokeTokenCommand, ListUsersCommand, AdminGetUserCommand, GetTokensFromRefreshTokenCommand, RefreshTokenReuseException,
  ChangePasswordCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';
import { adminCreateUser } from '@gatehouse/testing/cognito-users';
import { startWithClientsForFile } from './support/cognito-clients.ts';

const { running, admin, anonymous } = await startWithClientsForFile();

const pool = (): { poolId: string; clientId: string } => ({ poolId: running.identity.defaultPool.userPoolId, clientId: running.identity.defaultPool.webClientId });

async function createUser(username: string, password: string): Promise<void> {
  await adminCreateUser(admin, { userPoolId: pool().poolId, username, password, attributes: { email: `${username}@example.test`, email_verified: 'true' } });
}

test('first start writes admin credentials with mode 0600 and a usable first-run password', async () => {
  assert.equal(statSync(running.identity.adminCredentialsFile).mode & 0o777, 0o600);
  assert.match(running.adminKey.accessKeyId, /^AKIA[A-Z2-7]{16}$/);
  assert.equal(running.adminKey.secretAccessKey.length, 40);
  const first = running.identity.firstRun!;
  const result = await anonymous.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: pool().clientId, AuthParameters: { USERNAME: first.username, PASSWORD: first.password } }));
  const jwks = createRemoteJWKSet(new URL(`${running.identity.defaultPool.issuer}/.well-known/jwks.json`));
  const { payload } = await jwtVerify(result.AuthenticationResult!.AccessToken!, jwks, { issuer: running.identity.defaultPool.issuer });
  assert.deepEqual(payload['cognito:groups'], ['ops-readwrite']);
});

test('USER_PASSWORD_AUTH returns Cognito-shaped tokens that verify against the remote JWKS with two different keys', async () => {
  await createUser('alice', 'Correct-Horse-9');
  const { poolId, clientId } = pool();
  const result = await anonymous.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId, AuthParameters: { USERNAME: 'alice', PASSWORD: 'Correct-Horse-9' } }));
  const tokens = result.AuthenticationResult!;
  assert.equal(result.ChallengeName, undefined);
  assert.equal(tokens.TokenType, 'Bearer');
  assert.equal(tokens.ExpiresIn, 3600);
  assert.ok(tokens.RefreshToken);
  const issuer = `${running.baseUrl}/${poolId}`;
  const jwks = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));
  const access = await jwtVerify(tokens.AccessToken!, jwks, { issuer, algorithms: ['RS256'] });
  const id = await jwtVerify(tokens.IdToken!, jwks, { issuer, audience: clientId, algorithms: ['RS256'] });
  assert.notEqual(decodeProtectedHeader(tokens.AccessToken!).kid, decodeProtectedHeader(tokens.IdToken!).kid);
  assert.deepEqual(Object.keys(access.payload).sort(), ['auth_time', 'client_id', 'event_id', 'exp', 'iat', 'iss', 'jti', 'origin_jti', 'scope', 'sub', 'token_use', 'username'].sort());
  assert.equal(access.payload.token_use, 'access');
  assert.equal(access.payload.client_id, clientId);
  assert.equal(access.payload.username, 'alice');
  assert.equal(access.payload.scope, 'aws.cognito.signin.user.admin');
  assert.equal(access.payload.aud, undefined);
  assert.equal(access.payload.exp! - access.payload.iat!, 3600);
  assert.equal(id.payload.token_use, 'id');
  assert.equal(id.payload['cognito:username'], 'alice');
  assert.equal(id.payload.email, 'alice@example.test');
  assert.equal(id.payload.email_verified, true);
  assert.equal(id.payload.sub, access.payload.sub);
  assert.equal(id.payload.origin_jti, access.payload.origin_jti);
  assert.equal(typeof id.payload.auth_time, 'number');
});

test('REFRESH_TOKEN_AUTH gives new access and ID tokens, no refresh token, and keeps auth_time', async () => {
  const { clientId } = pool();
  const first = await anonymous.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId, AuthParameters: { USERNAME: 'alice', PASSWORD: 'Correct-Horse-9' } }));
  const refreshed = await anonymous.send(new InitiateAuthCommand({ AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: clientId, AuthParameters: { REFRESH_TOKEN: first.AuthenticationResult!.RefreshToken! } }));
  assert.equal(refreshed.AuthenticationResult!.RefreshToken, undefined);
  const before = JSON.parse(Buffer.from(first.AuthenticationResult!.AccessToken!.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
  const afterClaims = JSON.parse(Buffer.from(refreshed.AuthenticationResult!.AccessToken!.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
  assert.equal(afterClaims.auth_time, before.auth_time);
  assert.equal(afterClaims.origin_jti, before.origin_jti);
  assert.notEqual(afterClaims.jti, before.jti);
  await assert.rejects(
    anonymous.send(new InitiateAuthCommand({ AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: clientId, AuthParameters: { REFRESH_TOKEN: 'not-a-real-token' } })),
    (error: unknown) => error instanceof NotAuthorizedException && error.message === 'Invalid Refresh Token',
  );
});

test('unknown user and wrong password get the identical NotAuthorizedException', async () => {
  const { clientId } = pool();
  const attempt = (username: string, password: string) =>
    anonymous.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId, AuthParameters: { USERNAME: username, PASSWORD: password } }));
  const wrong = await attempt('alice', 'Wrong-Password-1').catch((error: unknown) => error);
  const unknown = await attempt('nobody-here', 'Wrong-Password-1').catch((error: unknown) => error);
  assert.ok(wrong instanceof NotAuthorizedException);
  assert.ok(unknown instanceof NotAuthorizedException);
  assert.equal(wrong.message, 'Incorrect username or password.');
  assert.equal(unknown.message, wrong.message);
  assert.equal(wrong.$metadata.httpStatusCode, 400);
});

test('repeated failures for one user are throttled with TooManyRequestsException, even with the right password', async () => {
  await createUser('mallory-target', 'Right-Password-7');
  const { clientId } = pool();
  const attempt = (password: string) =>
    anonymous.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId, AuthParameters: { USERNAME: 'mallory-target', PASSWORD: password } }));
  for (let index = 0; index < 5; index++) await assert.rejects(attempt(`Guess-${index}-Aa!`), NotAuthorizedException);
  await assert.rejects(attempt('Right-Password-7'), TooManyRequestsException);
});

test('bad requests get the Cognito exception the SDK knows', async () => {
  const { clientId } = pool();
  await assert.rejects(
    anonymous.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId, AuthParameters: { USERNAME: 'alice' } })),
    (error: unknown) => error instanceof InvalidParameterException && /PASSWORD/.test(error.message),
  );
  await assert.rejects(
    anonymous.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: 'doesnotexist', AuthParameters: { USERNAME: 'alice', PASSWORD: 'x' } })),
    ResourceNotFoundException,
  );
  await assert.rejects(
    anonymous.send(new InitiateAuthCommand({ AuthFlow: 'ADMIN_USER_PASSWORD_AUTH', ClientId: clientId, AuthParameters: { USERNAME: 'alice', PASSWORD: 'x' } })),
    InvalidParameterException,
  );
  await assert.rejects(admin.send(new AdminCreateUserCommand({ UserPoolId: pool().poolId, Username: 'alice', MessageAction: 'SUPPRESS' })), UsernameExistsException);
  const raw = (target: string, body: string) =>
    fetch(`${running.baseUrl}/`, { method: 'POST', headers: { 'x-amz-target': `AWSCognitoIdentityProviderService.${target}`, 'content-type': 'application/x-amz-json-1.1' }, body });
  const malformed = await raw('InitiateAuth', '{"AuthFlow":');
  assert.equal(malformed.status, 400);
  assert.equal(malformed.headers.get('x-amzn-errortype'), 'SerializationException');
  assert.equal(((await malformed.json()) as { __type: string }).__type, 'SerializationException');
  const unknown = await raw('MakeMeAdmin', '{}');
  assert.equal(unknown.status, 400);
  assert.equal(((await unknown.json()) as { __type: string }).__type, 'UnknownOperationException');
  const missing = await raw('InitiateAuth', '{"AuthFlow":"USER_PASSWORD_AUTH"}');
  assert.deepEqual(await missing.json(), { __type: 'InvalidParameterException', message: 'Missing required parameter ClientId' });
});

test('admin operations refuse unsigned, unknown-key and wrongly signed calls and change nothing', async () => {
  const { poolId } = pool();
  const forged = new CognitoIdentityProviderClient({ endpoint: running.baseUrl, region: 'local', credentials: { accessKeyId: running.adminKey.accessKeyId, secretAccessKey: 'x'.repeat(40) } });
  const stranger = new CognitoIdentityProviderClient({ endpoint: running.baseUrl, region: 'local', credentials: { accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', secretAccessKey: 'y'.repeat(40) } });
  try {
    await assert.rejects(forged.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: 'intruder', MessageAction: 'SUPPRESS' })), (error: Error) => error.name === 'InvalidSignatureException');
    await assert.rejects(stranger.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: 'intruder', MessageAction: 'SUPPRESS' })), (error: Error) => error.name === 'UnrecognizedClientException');
    const unsigned = await fetch(`${running.baseUrl}/`, {
      method: 'POST', headers: { 'x-amz-target': 'AWSCognitoIdentityProviderService.AdminCreateUser', 'content-type': 'application/x-amz-json-1.1' },
      body: JSON.stringify({ UserPoolId: poolId, Username: 'intruder' }),
    });
    assert.equal(unsigned.status, 400);
    assert.equal(((await unsigned.json()) as { __type: string }).__type, 'MissingAuthenticationTokenException');
    const listed = await admin.send(new ListUsersCommand({ UserPoolId: poolId, Filter: 'username = "intruder"' }));
    assert.deepEqual(listed.Users, []);
  } finally {
    forged.destroy();
    stranger.destroy();
  }
});

test('GetUser answers for a valid access token; GlobalSignOut revokes its refresh tokens and the token itself', async () => {
  const { clientId } = pool();
  const signIn = await anonymous.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId, AuthParameters: { USERNAME: 'alice', PASSWORD: 'Correct-Horse-9' } }));
  const tokens = signIn.AuthenticationResult!;
  const user = await anonymous.send(new GetUserCommand({ AccessToken: tokens.AccessToken! }));
  assert.equal(user.Username, 'alice');
  assert.equal(user.UserAttributes!.find((attribute) => attribute.Name === 'email')!.Value, 'alice@example.test');
  await assert.rejects(anonymous.send(new GetUserCommand({ AccessToken: tokens.IdToken! })), NotAuthorizedException);
  await anonymous.send(new GlobalSignOutCommand({ AccessToken: tokens.AccessToken! }));
  await assert.rejects(anonymous.send(new GetUserCommand({ AccessToken: tokens.AccessToken! })), NotAuthorizedException);
  await assert.rejects(
    anonymous.send(new InitiateAuthCommand({ AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: clientId, AuthParameters: { REFRESH_TOKEN: tokens.RefreshToken! } })),
    NotAuthorizedException,
  );
  const claims = JSON.parse(Buffer.from(tokens.AccessToken!.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
  assert.equal(await running.identity.isRevoked(claims), true);
});

test('RevokeToken ends one sign-in: its refresh token stops working and its tokens count as revoked', async () => {
  const { clientId } = pool();
  const signIn = await anonymous.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId, AuthParameters: { USERNAME: 'alice', PASSWORD: 'Correct-Horse-9' } }));
  const other = await anonymous.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId, AuthParameters: { USERNAME: 'alice', PASSWORD: 'Correct-Horse-9' } }));
  await anonymous.send(new RevokeTokenCommand({ ClientId: clientId, Token: signIn.AuthenticationResult!.RefreshToken! }));
  await assert.rejects(
    anonymous.send(new InitiateAuthCommand({ AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: clientId, AuthParameters: { REFRESH_TOKEN: signIn.AuthenticationResult!.RefreshToken! } })),
    NotAuthorizedException,
  );
  await assert.rejects(anonymous.send(new GetUserCommand({ AccessToken: signIn.AuthenticationResult!.AccessToken! })), NotAuthorizedException);
  const stillFine = await anonymous.send(new GetUserCommand({ AccessToken: other.AuthenticationResult!.AccessToken! }));
  assert.equal(stillFine.Username, 'alice');
  const got = await admin.send(new AdminGetUserCommand({ UserPoolId: pool().poolId, Username: 'alice' }));
  assert.equal(got.UserStatus, 'CONFIRMED');
});

test('GetTokensFromRefreshToken rotates the refresh token; replaying the old one is RefreshTokenReuseException and ends the sign-in', async () => {
  const { clientId } = pool();
  const signIn = await anonymous.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId, AuthParameters: { USERNAME: 'alice', PASSWORD: 'Correct-Horse-9' } }));
  const original = signIn.AuthenticationResult!.RefreshToken!;
  const rotated = await anonymous.send(new GetTokensFromRefreshTokenCommand({ ClientId: clientId, RefreshToken: original }));
  const next = rotated.AuthenticationResult!.RefreshToken!;
  assert.ok(next);
  assert.notEqual(next, original);
  await assert.rejects(anonymous.send(new GetTokensFromRefreshTokenCommand({ ClientId: clientId, RefreshToken: original })), RefreshTokenReuseException);
  await assert.rejects(anonymous.send(new GetTokensFromRefreshTokenCommand({ ClientId: clientId, RefreshToken: next })), NotAuthorizedException);
  await assert.rejects(anonymous.send(new GetUserCommand({ AccessToken: rotated.AuthenticationResult!.AccessToken! })), NotAuthorizedException);
});

test('ChangePassword needs the previous password and then only the new one works', async () => {
  await createUser('pat', 'First-Password-1');
  const { clientId } = pool();
  const signIn = await anonymous.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId, AuthParameters: { USERNAME: 'pat', PASSWORD: 'First-Password-1' } }));
  const accessToken = signIn.AuthenticationResult!.AccessToken!;
  await assert.rejects(anonymous.send(new ChangePasswordCommand({ AccessToken: accessToken, PreviousPassword: 'Wrong-Password-1', ProposedPassword: 'Second-Password-2' })), NotAuthorizedException);
  await anonymous.send(new ChangePasswordCommand({ AccessToken: accessToken, PreviousPassword: 'First-Password-1', ProposedPassword: 'Second-Password-2' }));
  await assert.rejects(
    anonymous.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId, AuthParameters: { USERNAME: 'pat', PASSWORD: 'First-Password-1' } })),
    NotAuthorizedException,
  );
  const again = await anonymous.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId, AuthParameters: { USERNAME: 'pat', PASSWORD: 'Second-Password-2' } }));
  assert.ok(again.AuthenticationResult!.AccessToken);
});
