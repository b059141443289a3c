import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { AuthenticationDetails, CognitoUser, CognitoUserPool, type CognitoUserSession } from 'amazon-cognito-identity-js';
import {
  CognitoIdentityProviderClient, AdminCreateUserCommand, InitiateAuthCommand, RespondToAuthChallengeCommand, NotAuthorizedException,
  InvalidPasswordException, SignUpCommand, ConfirmSignUpCommand, CodeMismatchException, AdminSetUserPasswordCommand, InvalidParameterException,
  AdminInitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { startIdentity, type RunningIdentity } from '@gatehouse/testing/start-identity';
import { readClientSecret } from './support/read-client-secret.ts';
import { DatabaseSync } from 'node:sqlite';
import { createVerifier } from '../src/srp.ts';

let running: RunningIdentity;
let admin: CognitoIdentityProviderClient;
let client: CognitoIdentityProviderClient;
const config = {
  identity: {
    userPools: [{
      poolName: 'default', signUpEnabled: true,
      clients: [
        { clientName: 'web', explicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_ADMIN_USER_PASSWORD_AUTH'] },
        { clientName: 'server', generateSecret: true, explicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'] },
        { clientName: 'srp-only', explicitAuthFlows: ['ALLOW_USER_SRP_AUTH'] },
      ],
    }],
  },
};

before(async () => {
  running = await startIdentity({ config });
  admin = new CognitoIdentityProviderClient({ endpoint: running.baseUrl, region: 'local', credentials: running.adminKey });
  client = new CognitoIdentityProviderClient({ endpoint: running.baseUrl, region: 'local', credentials: { accessKeyId: 'AKIAUNUSED00000000000', secretAccessKey: 'unused' } });
});
after(async () => {
  admin.destroy();
  client.destroy();
  await running.close();
});

const poolId = (): string => running.identity.defaultPool.userPoolId;
const clientId = (name: string): string => running.identity.pool('default')!.clients.find((entry) => entry.clientName === name)!.clientId;

function srpSignIn(username: string, password: string, client = 'web'): Promise<CognitoUserSession> {
  const pool = new CognitoUserPool({ UserPoolId: poolId(), ClientId: clientId(client), endpoint: `${running.baseUrl}/` });
  const user = new CognitoUser({ Username: username, Pool: pool });
  return new Promise((resolve, reject) => {
    user.authenticateUser(new AuthenticationDetails({ Username: username, Password: password }), {
      onSuccess: resolve,
      onFailure: reject,
      newPasswordRequired: () => reject(new Error('unexpected NEW_PASSWORD_REQUIRED')),
    });
  });
}

test('amazon-cognito-identity-js signs in with SRP and gets tokens that verify', async () => {
  await admin.send(new AdminCreateUserCommand({ UserPoolId: poolId(), Username: 'srp-user', MessageAction: 'SUPPRESS' }));
  await admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId(), Username: 'srp-user', Password: 'Srp-Password-42', Permanent: true }));
  const session = await srpSignIn('srp-user', 'Srp-Password-42', 'srp-only');
  const issuer = running.identity.defaultPool.issuer;
  const jwks = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));
  const { payload } = await jwtVerify(session.getAccessToken().getJwtToken(), jwks, { issuer });
  assert.equal(payload.username, 'srp-user');
  assert.equal(payload.client_id, clientId('srp-only'));
});

test('SRP with a wrong password or an unknown user fails with the same NotAuthorizedException', async () => {
  type Failure = { code?: string; name?: string; message: string };
  const failure = (username: string): Promise<Failure> =>
    srpSignIn(username, 'Not-The-Password-1').then(() => assert.fail('signed in with a wrong password'), (error: unknown) => error as Failure);
  const wrong = await failure('srp-user');
  const unknown = await failure('ghost-user');
  assert.equal(wrong.code ?? wrong.name, 'NotAuthorizedException');
  assert.equal(unknown.code ?? unknown.name, 'NotAuthorizedException');
  assert.equal(wrong.message, 'Incorrect username or password.');
  assert.equal(unknown.message, wrong.message);
});

test('regression: a salt whose first byte is 00 (and the next below 0x80) signs in with SRP as any other', async () => {
  // The client reads the salt as a number and drops its leading zero byte; the server used to hash it with it.
  await admin.send(new AdminCreateUserCommand({ UserPoolId: poolId(), Username: 'salty', MessageAction: 'SUPPRESS' }));
  await admin.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId(), Username: 'salty', Password: 'Salty-Password-7', Permanent: true }));
  const { salt, verifier } = createVerifier(poolId().split('_')[1]!, 'salty', 'Salty-Password-7', `0073${'5a'.repeat(14)}`);
  const database = new DatabaseSync(path.join(running.dataDir, 'identity.db'));
  try {
    const changed = database.prepare('UPDATE users SET srp_salt = ?, srp_verifier = ? WHERE username = ?').run(salt, verifier, 'salty');
    assert.equal(changed.changes, 1);
  } finally {
    database.close();
  }
  const session = await srpSignIn('salty', 'Salty-Password-7', 'srp-only');
  assert.equal(session.getAccessToken().payload.username, 'salty');
});

test('a disabled flow is refused with InvalidParameterException naming the flow', async () => {
  await assert.rejects(
    client.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId('srp-only'), AuthParameters: { USERNAME: 'srp-user', PASSWORD: 'Srp-Password-42' } })),
    (error: unknown) => error instanceof InvalidParameterException && error.message === 'USER_PASSWORD_AUTH flow not enabled for this client',
  );
});

test('an admin-created user must set a new password (NEW_PASSWORD_REQUIRED) before getting tokens', async () => {
  await admin.send(new AdminCreateUserCommand({ UserPoolId: poolId(), Username: 'newbie', TemporaryPassword: 'Temporary-Pass-1', MessageAction: 'SUPPRESS' }));
  const first = await client.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId('web'), AuthParameters: { USERNAME: 'newbie', PASSWORD: 'Temporary-Pass-1' } }));
  assert.equal(first.ChallengeName, 'NEW_PASSWORD_REQUIRED');
  assert.equal(first.AuthenticationResult, undefined);
  assert.equal(first.ChallengeParameters!.USER_ID_FOR_SRP, 'newbie');
  await assert.rejects(
    client.send(new RespondToAuthChallengeCommand({ ChallengeName: 'NEW_PASSWORD_REQUIRED', ClientId: clientId('web'), Session: first.Session!, ChallengeResponses: { USERNAME: 'newbie', NEW_PASSWORD: 'short' } })),
    InvalidPasswordException,
  );
  // the failed answer used up the session: a new sign-in is needed
  const second = await client.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId('web'), AuthParameters: { USERNAME: 'newbie', PASSWORD: 'Temporary-Pass-1' } }));
  const done = await client.send(new RespondToAuthChallengeCommand({
    ChallengeName: 'NEW_PASSWORD_REQUIRED', ClientId: clientId('web'), Session: second.Session!,
    ChallengeResponses: { USERNAME: 'newbie', NEW_PASSWORD: 'Brand-New-Pass-2', 'userAttributes.name': 'New Bie' },
  }));
  assert.ok(done.AuthenticationResult!.AccessToken);
  assert.equal(JSON.parse(Buffer.from(done.AuthenticationResult!.IdToken!.split('.')[1]!, 'base64url').toString()).name, 'New Bie');
  await assert.rejects(
    client.send(new RespondToAuthChallengeCommand({ ChallengeName: 'NEW_PASSWORD_REQUIRED', ClientId: clientId('web'), Session: second.Session!, ChallengeResponses: { USERNAME: 'newbie', NEW_PASSWORD: 'Another-Pass-3' } })),
    NotAuthorizedException,
  );
  const session = await srpSignIn('newbie', 'Brand-New-Pass-2');
  assert.equal(session.getIdToken().payload['cognito:username'], 'newbie');
});

test('a client with a secret needs a correct SECRET_HASH', async () => {
  const secret = readClientSecret(running.dataDir, clientId('server'));
  const hash = (username: string): string => createHmac('sha256', secret).update(`${username}${clientId('server')}`).digest('base64');
  const auth = (parameters: Record<string, string>) => client.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId('server'), AuthParameters: parameters }));
  await assert.rejects(auth({ USERNAME: 'srp-user', PASSWORD: 'Srp-Password-42' }), (error: unknown) =>
    error instanceof NotAuthorizedException && error.message === `Client ${clientId('server')} is configured for secret but secret was not received`);
  await assert.rejects(auth({ USERNAME: 'srp-user', PASSWORD: 'Srp-Password-42', SECRET_HASH: hash('someone-else') }), (error: unknown) =>
    error instanceof NotAuthorizedException && error.message === `Unable to verify secret hash for client ${clientId('server')}`);
  const ok = await auth({ USERNAME: 'srp-user', PASSWORD: 'Srp-Password-42', SECRET_HASH: hash('srp-user') });
  const refreshed = await client.send(new InitiateAuthCommand({
    AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: clientId('server'), AuthParameters: { REFRESH_TOKEN: ok.AuthenticationResult!.RefreshToken!, SECRET_HASH: hash('srp-user') },
  }));
  assert.ok(refreshed.AuthenticationResult!.AccessToken);
});

test('SignUp then ConfirmSignUp with the code from the outbox; a wrong code is CodeMismatchException and signs nobody in', async () => {
  const signUp = await client.send(new SignUpCommand({ ClientId: clientId('web'), Username: 'signup-user', Password: 'Sign-Up-Pass-1', UserAttributes: [{ Name: 'email', Value: 'signup@example.test' }] }));
  assert.equal(signUp.UserConfirmed, false);
  await assert.rejects(
    client.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId('web'), AuthParameters: { USERNAME: 'signup-user', PASSWORD: 'Sign-Up-Pass-1' } })),
    (error: Error) => error.name === 'UserNotConfirmedException',
  );
  const outbox = readFileSync(path.join(running.dataDir, 'outbox.log'), 'utf8');
  const code = /confirmation code is (\d{6})/.exec(outbox)![1]!;
  const wrongCode = code === '000000' ? '111111' : '000000';
  await assert.rejects(client.send(new ConfirmSignUpCommand({ ClientId: clientId('web'), Username: 'signup-user', ConfirmationCode: wrongCode })), CodeMismatchException);
  await client.send(new ConfirmSignUpCommand({ ClientId: clientId('web'), Username: 'signup-user', ConfirmationCode: code }));
  const result = await client.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId('web'), AuthParameters: { USERNAME: 'signup-user', PASSWORD: 'Sign-Up-Pass-1' } }));
  assert.ok(result.AuthenticationResult!.IdToken);
  assert.equal(signUp.UserSub, JSON.parse(Buffer.from(result.AuthenticationResult!.IdToken!.split('.')[1]!, 'base64url').toString()).sub);
});

test('AdminInitiateAuth with ADMIN_USER_PASSWORD_AUTH needs SigV4 and the client flow', async () => {
  const result = await admin.send(new AdminInitiateAuthCommand({ UserPoolId: poolId(), ClientId: clientId('web'), AuthFlow: 'ADMIN_USER_PASSWORD_AUTH', AuthParameters: { USERNAME: 'srp-user', PASSWORD: 'Srp-Password-42' } }));
  assert.ok(result.AuthenticationResult!.AccessToken);
  await assert.rejects(
    admin.send(new AdminInitiateAuthCommand({ UserPoolId: poolId(), ClientId: clientId('srp-only'), AuthFlow: 'ADMIN_NO_SRP_AUTH', AuthParameters: { USERNAME: 'srp-user', PASSWORD: 'Srp-Password-42' } })),
    InvalidParameterException,
  );
});

test('an SRP challenge for an unknown user looks like a real one: same fields, stable salt per username', async () => {
  const A = (2n ** 1000n + 12345n).toString(16);
  const start = (username: string) => client.send(new InitiateAuthCommand({ AuthFlow: 'USER_SRP_AUTH', ClientId: clientId('srp-only'), AuthParameters: { USERNAME: username, SRP_A: A } }));
  const ghostOne = await start('ghost-user-2');
  const ghostTwo = await start('ghost-user-2');
  const real = await start('srp-user');
  assert.deepEqual(Object.keys(ghostOne.ChallengeParameters!).sort(), Object.keys(real.ChallengeParameters!).sort());
  assert.equal(ghostOne.ChallengeName, 'PASSWORD_VERIFIER');
  assert.equal(ghostOne.ChallengeParameters!.SALT, ghostTwo.ChallengeParameters!.SALT);
  assert.equal(ghostOne.ChallengeParameters!.SALT!.length, real.ChallengeParameters!.SALT!.length);
  assert.notEqual(ghostOne.ChallengeParameters!.SRP_B, ghostTwo.ChallengeParameters!.SRP_B);
  await assert.rejects(
    client.send(new InitiateAuthCommand({ AuthFlow: 'USER_SRP_AUTH', ClientId: clientId('srp-only'), AuthParameters: { USERNAME: 'srp-user', SRP_A: '0' } })),
    InvalidParameterException,
  );
});
