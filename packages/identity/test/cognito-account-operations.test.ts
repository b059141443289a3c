import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AdminCreateUserCommand, AdminGetUserCommand, InitiateAuthCommand, ForgotPasswordCommand,
  ConfirmForgotPasswordCommand, AdminResetUserPasswordCommand, UpdateUserAttributesCommand, AdminUpdateUserAttributesCommand, GetUserAttributeVerificationCodeCommand,
  VerifyUserAttributeCommand, ResendConfirmationCodeCommand, DeleteUserCommand, ListDevicesCommand, GetDeviceCommand, ForgetDeviceCommand,
  AdminInitiateAuthCommand, AdminRespondToAuthChallengeCommand, GetUserCommand, SignUpCommand, ConfirmSignUpCommand, CreateUserPoolCommand,
  CreateUserPoolClientCommand, CodeMismatchException, InvalidPasswordException, NotAuthorizedException, PasswordResetRequiredException,
  InvalidParameterException, AliasExistsException, LimitExceededException, ResourceNotFoundException, UserNotFoundException, type AttributeType,
} from '@aws-sdk/client-cognito-identity-provider';
import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import { adminCreateUser } from '@gatehouse/testing/cognito-users';
import { startWithClientsForFile } from './support/cognito-clients.ts';
import { lastCode, readOutbox } from './support/outbox.ts';
import { login } from './support/hosted-login.ts';

const { running, admin, anonymous } = await startWithClientsForFile();

const poolId = (): string => running.identity.defaultPool.userPoolId;
const web = (): string => running.identity.defaultPool.webClientId;
const PASSWORD = 'Account-Password-1';

async function newUser(username: string, email?: string): Promise<void> {
  await adminCreateUser(admin, { userPoolId: poolId(), username, password: PASSWORD, ...(email ? { attributes: { email, email_verified: 'true' } } : {}) });
}

async function signIn(username: string, password = PASSWORD, clientId = web()) {
  const result = await anonymous.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId, AuthParameters: { USERNAME: username, PASSWORD: password } }));
  return result.AuthenticationResult!;
}

async function attributesOf(username: string): Promise<Record<string, string>> {
  const user = await admin.send(new AdminGetUserCommand({ UserPoolId: poolId(), Username: username }));
  return Object.fromEntries(user.UserAttributes!.map((attribute) => [attribute.Name!, attribute.Value!]));
}

/** Forget this IP's failed-code counter, so a test can show what the code store alone does. */
async function clearCodeThrottle(username: string): Promise<void> {
  for (const ip of ['127.0.0.1', '::ffff:127.0.0.1', '::1']) await running.platform.store.delete(`identity:code-failures:${poolId()}:${username}:${ip}`);
}

test('ForgotPassword puts a code in the outbox; ConfirmForgotPassword with it sets the new password once and ends the old sign-ins', async () => {
  await newUser('fiona', 'fiona@example.test');
  const before = await signIn('fiona');
  const sent = await anonymous.send(new ForgotPasswordCommand({ ClientId: web(), Username: 'fiona' }));
  assert.deepEqual(sent.CodeDeliveryDetails, { Destination: 'f***@e***', DeliveryMedium: 'EMAIL', AttributeName: 'email' });
  const message = readOutbox(running.dataDir).at(-1)!;
  assert.equal(message.to, 'fiona@example.test');
  const code = lastCode(running.dataDir, 'fiona', /password reset/);

  const wrong = code === '000000' ? '000001' : '000000';
  await assert.rejects(anonymous.send(new ConfirmForgotPasswordCommand({ ClientId: web(), Username: 'fiona', ConfirmationCode: wrong, Password: 'Brand-New-Pass-2' })), CodeMismatchException);
  // a weak password is refused before the code is spent
  await assert.rejects(anonymous.send(new ConfirmForgotPasswordCommand({ ClientId: web(), Username: 'fiona', ConfirmationCode: code, Password: 'weak' })), InvalidPasswordException);
  await anonymous.send(new ConfirmForgotPasswordCommand({ ClientId: web(), Username: 'fiona', ConfirmationCode: code, Password: 'Brand-New-Pass-2' }));
  await assert.rejects(anonymous.send(new ConfirmForgotPasswordCommand({ ClientId: web(), Username: 'fiona', ConfirmationCode: code, Password: 'Other-New-Pass-3' })), CodeMismatchException);

  await assert.rejects(signIn('fiona'), NotAuthorizedException);
  assert.ok((await signIn('fiona', 'Brand-New-Pass-2')).AccessToken);
  await assert.rejects(anonymous.send(new InitiateAuthCommand({ AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: web(), AuthParameters: { REFRESH_TOKEN: before.RefreshToken! } })), NotAuthorizedException);
  assert.equal(await running.identity.isRevoked(decodeJwt(before.AccessToken!)), true);
});

test('ForgotPassword for an unknown user looks like a delivery and writes nothing; its confirmation fails like a wrong code', async () => {
  const before = readOutbox(running.dataDir).length;
  const sent = await anonymous.send(new ForgotPasswordCommand({ ClientId: web(), Username: 'nobody-at-all' }));
  assert.equal(sent.CodeDeliveryDetails!.DeliveryMedium, 'EMAIL');
  assert.equal(readOutbox(running.dataDir).length, before);
  await assert.rejects(anonymous.send(new ConfirmForgotPasswordCommand({ ClientId: web(), Username: 'nobody-at-all', ConfirmationCode: '123456', Password: 'Brand-New-Pass-2' })), CodeMismatchException);
});

test('a reset code dies after five wrong guesses, and codes are sent at most five times an hour', async () => {
  await newUser('guessed', 'guessed@example.test');
  await anonymous.send(new ForgotPasswordCommand({ ClientId: web(), Username: 'guessed' }));
  const code = lastCode(running.dataDir, 'guessed');
  for (let attempt = 0; attempt < 5; attempt++) {
    const guess = String((Number(code) + 1 + attempt) % 1_000_000).padStart(6, '0');
    await assert.rejects(anonymous.send(new ConfirmForgotPasswordCommand({ ClientId: web(), Username: 'guessed', ConfirmationCode: guess, Password: 'Brand-New-Pass-2' })), CodeMismatchException);
  }
  await clearCodeThrottle('guessed');
  await assert.rejects(anonymous.send(new ConfirmForgotPasswordCommand({ ClientId: web(), Username: 'guessed', ConfirmationCode: code, Password: 'Brand-New-Pass-2' })), CodeMismatchException);
  assert.ok((await signIn('guessed')).AccessToken, 'the password did not change');

  for (let sent = 1; sent < 5; sent++) await anonymous.send(new ForgotPasswordCommand({ ClientId: web(), Username: 'guessed' }));
  const count = readOutbox(running.dataDir).filter((message) => message.username === 'guessed').length;
  await assert.rejects(anonymous.send(new ForgotPasswordCommand({ ClientId: web(), Username: 'guessed' })), LimitExceededException);
  assert.equal(readOutbox(running.dataDir).filter((message) => message.username === 'guessed').length, count);
});

test('the reset-code guess limit counts every spelling of a name together (case and width fold)', async () => {
  await newUser('spelled', 'spelled@example.test');
  await anonymous.send(new ForgotPasswordCommand({ ClientId: web(), Username: 'spelled' }));
  const code = lastCode(running.dataDir, 'spelled');
  const spellings = ['Spelled', 'SPELLED', 'ｓｐｅｌｌｅｄ', 'sPeLlEd', 'spelleD'];
  for (const [attempt, spelling] of spellings.entries()) {
    const guess = String((Number(code) + 1 + attempt) % 1_000_000).padStart(6, '0');
    await assert.rejects(anonymous.send(new ConfirmForgotPasswordCommand({ ClientId: web(), Username: spelling, ConfirmationCode: guess, Password: 'Brand-New-Pass-2' })), CodeMismatchException, spelling);
  }
  await assert.rejects(
    anonymous.send(new ConfirmForgotPasswordCommand({ ClientId: web(), Username: 'spelled', ConfirmationCode: code, Password: 'Brand-New-Pass-2' })),
    (error: Error) => error.name === 'TooManyFailedAttemptsException',
  );
  assert.ok((await signIn('spelled')).AccessToken, 'the password did not change');
  await clearCodeThrottle('spelled');
});

test('AdminResetUserPassword deactivates the password everywhere until the emailed code sets a new one', async () => {
  await newUser('rita', 'rita@example.test');
  const before = await signIn('rita');
  await admin.send(new AdminResetUserPasswordCommand({ UserPoolId: poolId(), Username: 'rita' }));
  assert.equal((await admin.send(new AdminGetUserCommand({ UserPoolId: poolId(), Username: 'rita' }))).UserStatus, 'RESET_REQUIRED');
  assert.equal(await running.identity.isRevoked(decodeJwt(before.AccessToken!)), true);
  await assert.rejects(signIn('rita'), PasswordResetRequiredException);
  await assert.rejects(signIn('rita', 'Wrong-Password-9'), NotAuthorizedException);

  const verifier = randomBytes(32).toString('base64url');
  const authorize = `${running.baseUrl}/oauth2/authorize?${new URLSearchParams({
    response_type: 'code', client_id: web(), redirect_uri: `${running.baseUrl}/`, scope: 'openid', code_challenge_method: 'S256',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
  })}`;
  const hosted = await login(authorize, 'rita', PASSWORD);
  assert.equal(hosted.status, 400);
  assert.match(hosted.body, /Password reset required/);

  await anonymous.send(new ConfirmForgotPasswordCommand({ ClientId: web(), Username: 'rita', ConfirmationCode: lastCode(running.dataDir, 'rita', /password reset/), Password: 'Rita-New-Pass-4' }));
  assert.equal((await admin.send(new AdminGetUserCommand({ UserPoolId: poolId(), Username: 'rita' }))).UserStatus, 'CONFIRMED');
  assert.ok((await signIn('rita', 'Rita-New-Pass-4')).AccessToken);
});

test('UpdateUserAttributes changes attributes; a new e-mail stays unverified until VerifyUserAttribute with the emailed code', async () => {
  await newUser('ursula', 'ursula@example.test');
  const { AccessToken } = await signIn('ursula');
  const updated = await anonymous.send(new UpdateUserAttributesCommand({
    AccessToken, UserAttributes: [{ Name: 'name', Value: 'Ursula U.' }, { Name: 'email', Value: 'ursula@new.example' }, { Name: 'custom:team', Value: 'blue' }],
  }));
  assert.deepEqual(updated.CodeDeliveryDetailsList, [{ Destination: 'u***@n***', DeliveryMedium: 'EMAIL', AttributeName: 'email' }]);
  const attributes = await attributesOf('ursula');
  assert.equal(attributes.name, 'Ursula U.');
  assert.equal(attributes['custom:team'], 'blue');
  assert.equal(attributes.email, 'ursula@new.example');
  assert.equal(attributes.email_verified, 'false');
  assert.equal(readOutbox(running.dataDir).at(-1)!.to, 'ursula@new.example');

  const code = lastCode(running.dataDir, 'ursula', /email verification/);
  const wrong = code === '000000' ? '000001' : '000000';
  await assert.rejects(anonymous.send(new VerifyUserAttributeCommand({ AccessToken, AttributeName: 'email', Code: wrong })), CodeMismatchException);
  assert.equal((await attributesOf('ursula')).email_verified, 'false');
  // a fresh code replaces the first one
  const resent = await anonymous.send(new GetUserAttributeVerificationCodeCommand({ AccessToken, AttributeName: 'email' }));
  assert.equal(resent.CodeDeliveryDetails!.AttributeName, 'email');
  const fresh = lastCode(running.dataDir, 'ursula', /email verification/);
  await anonymous.send(new VerifyUserAttributeCommand({ AccessToken, AttributeName: 'email', Code: fresh }));
  assert.equal((await attributesOf('ursula')).email_verified, 'true');
  assert.ok((await signIn('ursula@new.example')).AccessToken, 'the verified address is now a sign-in alias');

  const refused: [AttributeType[], RegExp][] = [
    [[{ Name: 'email_verified', Value: 'true' }], /UserAttributes\.0\.Name: email_verified can only be set by an administrator/],
    [[{ Name: 'sub', Value: 'someone-else' }], /UserAttributes\.0\.Name: sub cannot be modified/],
    [[{ Name: 'name', Value: 'ok' }, { Name: 'isAdmin', Value: 'true' }], /UserAttributes\.1\.Name: attribute isAdmin does not exist/],
    // a refused name stops the whole update: the new address is not written and no code is sent for it
    [[{ Name: 'email', Value: 'ursula@elsewhere.example' }, { Name: 'cognito:groups', Value: 'ops-readwrite' }], /UserAttributes\.1\.Name: attribute cognito:groups does not exist/],
    [[{ Name: 'email', Value: 'ursula@elsewhere.example' }, { Name: 'custom:twenty-one-characters', Value: 'x' }], /UserAttributes\.1\.Name: .*custom: followed by 1–20 characters/],
    [[{ Name: 'name', Value: 'one' }, { Name: 'name', Value: 'two' }], /UserAttributes\.1\.Name: attribute name was sent more than once/],
  ];
  const sentBefore = readOutbox(running.dataDir).length;
  for (const [list, message] of refused) {
    await assert.rejects(anonymous.send(new UpdateUserAttributesCommand({ AccessToken, UserAttributes: list })), (error: Error) => error instanceof InvalidParameterException && message.test(error.message));
  }
  const unchanged = await attributesOf('ursula');
  assert.equal(unchanged.name, 'Ursula U.');
  assert.equal(unchanged.isAdmin, undefined);
  assert.equal(unchanged.email, 'ursula@new.example');
  assert.equal(unchanged.email_verified, 'true');
  assert.equal(unchanged['cognito:groups'], undefined);
  assert.equal(readOutbox(running.dataDir).length, sentBefore);
});

test('AdminUpdateUserAttributes may mark an e-mail verified, but not one another user already signs in with', async () => {
  await newUser('owner', 'shared@example.test');
  await newUser('claimant');
  await assert.rejects(
    admin.send(new AdminUpdateUserAttributesCommand({ UserPoolId: poolId(), Username: 'claimant', UserAttributes: [{ Name: 'email', Value: 'shared@example.test' }, { Name: 'email_verified', Value: 'true' }] })),
    AliasExistsException,
  );
  assert.equal((await attributesOf('claimant')).email, undefined);
  const sentBefore = readOutbox(running.dataDir).length;
  await admin.send(new AdminUpdateUserAttributesCommand({ UserPoolId: poolId(), Username: 'claimant', UserAttributes: [{ Name: 'email', Value: 'claimant@example.test' }, { Name: 'email_verified', Value: 'true' }] }));
  assert.equal((await attributesOf('claimant')).email_verified, 'true');
  assert.equal(readOutbox(running.dataDir).length, sentBefore, 'an address the admin marks verified needs no code');
  await admin.send(new AdminUpdateUserAttributesCommand({ UserPoolId: poolId(), Username: 'claimant', UserAttributes: [{ Name: 'email', Value: 'claimant2@example.test' }] }));
  assert.equal((await attributesOf('claimant')).email_verified, 'false');
  assert.equal(readOutbox(running.dataDir).at(-1)!.to, 'claimant2@example.test');
});

test('a code sent to an old address never verifies a new one, and an update over the send limit writes nothing', async () => {
  await newUser('mover', 'mover@example.test');
  const { AccessToken } = await signIn('mover');
  await anonymous.send(new UpdateUserAttributesCommand({ AccessToken, UserAttributes: [{ Name: 'email', Value: 'first@example.test' }] }));
  const oldCode = lastCode(running.dataDir, 'mover', /email verification/);
  await admin.send(new AdminUpdateUserAttributesCommand({ UserPoolId: poolId(), Username: 'mover', UserAttributes: [{ Name: 'email', Value: 'second@example.test' }, { Name: 'email_verified', Value: 'true' }] }));
  await admin.send(new AdminUpdateUserAttributesCommand({ UserPoolId: poolId(), Username: 'mover', UserAttributes: [{ Name: 'email_verified', Value: 'false' }] }));
  await assert.rejects(anonymous.send(new VerifyUserAttributeCommand({ AccessToken, AttributeName: 'email', Code: oldCode })), CodeMismatchException);
  assert.equal((await attributesOf('mover')).email_verified, 'false');

  for (let sent = 1; sent < 5; sent++) await anonymous.send(new UpdateUserAttributesCommand({ AccessToken, UserAttributes: [{ Name: 'email', Value: `hop${sent}@example.test` }] }));
  const pending = lastCode(running.dataDir, 'mover', /email verification/);
  await assert.rejects(anonymous.send(new UpdateUserAttributesCommand({ AccessToken, UserAttributes: [{ Name: 'email', Value: 'victim@example.test' }] })), LimitExceededException);
  assert.equal((await attributesOf('mover')).email, 'hop4@example.test');
  await anonymous.send(new VerifyUserAttributeCommand({ AccessToken, AttributeName: 'email', Code: pending }));
  assert.deepEqual([(await attributesOf('mover')).email, (await attributesOf('mover')).email_verified], ['hop4@example.test', 'true']);
});

test('ForgotPassword is refused for a user who must still replace a temporary password', async () => {
  await admin.send(new AdminCreateUserCommand({ UserPoolId: poolId(), Username: 'temporary', TemporaryPassword: 'Temp-Password-1', MessageAction: 'SUPPRESS' }));
  const before = readOutbox(running.dataDir).length;
  await assert.rejects(anonymous.send(new ForgotPasswordCommand({ ClientId: web(), Username: 'temporary' })), NotAuthorizedException);
  assert.equal(readOutbox(running.dataDir).length, before);
});

test('ResendConfirmationCode replaces the sign-up code; confirmed users are told so', async () => {
  const pool = (await admin.send(new CreateUserPoolCommand({ PoolName: 'self-service' }))).UserPool!;
  const client = (await admin.send(new CreateUserPoolClientCommand({ UserPoolId: pool.Id, ClientName: 'app', ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH'] }))).UserPoolClient!;
  await anonymous.send(new SignUpCommand({ ClientId: client.ClientId, Username: 'selma', Password: PASSWORD, UserAttributes: [{ Name: 'email', Value: 'selma@example.test' }] }));
  const first = lastCode(running.dataDir, 'selma');
  const resent = await anonymous.send(new ResendConfirmationCodeCommand({ ClientId: client.ClientId, Username: 'selma' }));
  assert.deepEqual(resent.CodeDeliveryDetails, { Destination: 's***@e***', DeliveryMedium: 'EMAIL', AttributeName: 'email' });
  const second = lastCode(running.dataDir, 'selma');
  if (first !== second) await assert.rejects(anonymous.send(new ConfirmSignUpCommand({ ClientId: client.ClientId, Username: 'selma', ConfirmationCode: first })), CodeMismatchException);
  await anonymous.send(new ConfirmSignUpCommand({ ClientId: client.ClientId, Username: 'selma', ConfirmationCode: second }));
  assert.ok((await signIn('selma', PASSWORD, client.ClientId)).AccessToken);
  await assert.rejects(anonymous.send(new ResendConfirmationCodeCommand({ ClientId: client.ClientId, Username: 'selma' })), (error: Error) => error instanceof InvalidParameterException && /already confirmed/.test(error.message));
});

test('DeleteUser removes the caller and ends their sign-ins; another user is untouched', async () => {
  await newUser('leaving');
  await newUser('staying');
  const { AccessToken, RefreshToken } = await signIn('leaving');
  await anonymous.send(new DeleteUserCommand({ AccessToken }));
  await assert.rejects(admin.send(new AdminGetUserCommand({ UserPoolId: poolId(), Username: 'leaving' })), UserNotFoundException);
  await assert.rejects(anonymous.send(new GetUserCommand({ AccessToken })), NotAuthorizedException);
  await assert.rejects(anonymous.send(new InitiateAuthCommand({ AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: web(), AuthParameters: { REFRESH_TOKEN: RefreshToken! } })), NotAuthorizedException);
  assert.ok((await signIn('staying')).AccessToken);
});

test('devices: device tracking is off, so ListDevices is empty and GetDevice/ForgetDevice find nothing; all need a valid access token', async () => {
  await newUser('devi');
  const { AccessToken } = await signIn('devi');
  assert.deepEqual((await anonymous.send(new ListDevicesCommand({ AccessToken, Limit: 10 }))).Devices, []);
  const deviceKey = 'local_0f8a7c5e-1111-2222-3333-444455556666';
  await assert.rejects(anonymous.send(new GetDeviceCommand({ AccessToken, DeviceKey: deviceKey })), ResourceNotFoundException);
  await assert.rejects(anonymous.send(new ForgetDeviceCommand({ AccessToken, DeviceKey: deviceKey })), ResourceNotFoundException);
  await assert.rejects(anonymous.send(new ListDevicesCommand({ AccessToken: `${AccessToken!.slice(0, -4)}AAAA` })), NotAuthorizedException);
});

test('AdminRespondToAuthChallenge answers NEW_PASSWORD_REQUIRED for an admin-created user', async () => {
  await admin.send(new AdminCreateUserCommand({ UserPoolId: poolId(), Username: 'newbie', TemporaryPassword: 'Temp-Password-1', MessageAction: 'SUPPRESS' }));
  const challenge = await admin.send(new AdminInitiateAuthCommand({ UserPoolId: poolId(), ClientId: web(), AuthFlow: 'ADMIN_USER_PASSWORD_AUTH', AuthParameters: { USERNAME: 'newbie', PASSWORD: 'Temp-Password-1' } }));
  assert.equal(challenge.ChallengeName, 'NEW_PASSWORD_REQUIRED');
  const answered = await admin.send(new AdminRespondToAuthChallengeCommand({
    UserPoolId: poolId(), ClientId: web(), ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: challenge.Session, ChallengeResponses: { USERNAME: 'newbie', NEW_PASSWORD: 'Newbie-Password-2' },
  }));
  assert.ok(answered.AuthenticationResult!.AccessToken);
  assert.ok((await signIn('newbie', 'Newbie-Password-2')).AccessToken);
});

test('the account operations Cognito serves unsigned need no SigV4, as browsers (Amplify) send them', async () => {
  await newUser('browser-user', 'browser-user@example.test');
  const { AccessToken } = await signIn('browser-user');
  const call = async (operation: string, body: unknown) => {
    const response = await fetch(`${running.baseUrl}/`, {
      method: 'POST', headers: { 'x-amz-target': `AWSCognitoIdentityProviderService.${operation}`, 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  assert.deepEqual(await call('ListDevices', { AccessToken }), { status: 200, body: { Devices: [] } });
  assert.equal((await call('UpdateUserAttributes', { AccessToken, UserAttributes: [{ Name: 'nickname', Value: 'bee' }] })).status, 200);
  assert.equal((await attributesOf('browser-user')).nickname, 'bee');
  assert.equal((await call('ForgotPassword', { ClientId: web(), Username: 'browser-user' })).status, 200);
  assert.deepEqual(await call('AdminResetUserPassword', { UserPoolId: poolId(), Username: 'browser-user' }), {
    status: 400, body: { __type: 'MissingAuthenticationTokenException', message: 'AdminResetUserPassword requires a SigV4-signed request from an admin access key' },
  });
  assert.equal((await admin.send(new AdminGetUserCommand({ UserPoolId: poolId(), Username: 'browser-user' }))).UserStatus, 'CONFIRMED');
});

test('bad input to every account operation names the field; bad access tokens and unknown clients are refused', async () => {
  await newUser('inputs', 'inputs@example.test');
  const { AccessToken } = await signIn('inputs');
  const forged = `${AccessToken!.slice(0, -4)}AAAA`;
  const cases: [() => Promise<unknown>, string, RegExp][] = [
    [() => anonymous.send(new ForgotPasswordCommand({ ClientId: web() } as never)), 'InvalidParameterException', /Missing required parameter Username/],
    [() => anonymous.send(new ForgotPasswordCommand({ ClientId: 'nosuchclient', Username: 'inputs' })), 'ResourceNotFoundException', /nosuchclient/],
    [() => anonymous.send(new ConfirmForgotPasswordCommand({ ClientId: web(), Username: 'inputs', Password: PASSWORD } as never)), 'InvalidParameterException', /Missing required parameter ConfirmationCode/],
    [() => anonymous.send(new ConfirmForgotPasswordCommand({ ClientId: web(), Username: 'inputs', ConfirmationCode: '12 34', Password: PASSWORD })), 'InvalidParameterException', /parameter ConfirmationCode/],
    [() => admin.send(new AdminResetUserPasswordCommand({ UserPoolId: poolId() } as never)), 'InvalidParameterException', /Missing required parameter Username/],
    [() => admin.send(new AdminResetUserPasswordCommand({ UserPoolId: poolId(), Username: 'ghost' })), 'UserNotFoundException', /does not exist/],
    [() => admin.send(new AdminResetUserPasswordCommand({ UserPoolId: 'local_Missing000', Username: 'inputs' })), 'ResourceNotFoundException', /local_Missing000/],
    [() => anonymous.send(new UpdateUserAttributesCommand({ AccessToken } as never)), 'InvalidParameterException', /Missing required parameter UserAttributes/],
    [() => anonymous.send(new UpdateUserAttributesCommand({ AccessToken: forged, UserAttributes: [{ Name: 'name', Value: 'x' }] })), 'NotAuthorizedException', /Invalid Access Token/],
    [() => admin.send(new AdminUpdateUserAttributesCommand({ UserPoolId: poolId(), Username: 'inputs', UserAttributes: [{ Name: 'email_verified', Value: 'yes' }] })), 'InvalidParameterException', /UserAttributes\.0\.Value/],
    [() => admin.send(new AdminUpdateUserAttributesCommand({ UserPoolId: poolId(), Username: 'ghost', UserAttributes: [] })), 'UserNotFoundException', /does not exist/],
    [() => anonymous.send(new GetUserAttributeVerificationCodeCommand({ AccessToken, AttributeName: 'name' })), 'InvalidParameterException', /^AttributeName: /],
    [() => anonymous.send(new GetUserAttributeVerificationCodeCommand({ AccessToken, AttributeName: 'phone_number' })), 'InvalidParameterException', /has no phone_number/],
    // Regression: names every JavaScript object has are not verifiable attributes (no code was to be sent for them).
    [() => anonymous.send(new GetUserAttributeVerificationCodeCommand({ AccessToken, AttributeName: 'toString' })), 'InvalidParameterException', /^AttributeName: only email and phone_number/],
    [() => anonymous.send(new VerifyUserAttributeCommand({ AccessToken, AttributeName: 'constructor', Code: '123456' })), 'InvalidParameterException', /^AttributeName: only email and phone_number/],
    [() => anonymous.send(new GetUserAttributeVerificationCodeCommand({ AccessToken } as never)), 'InvalidParameterException', /Missing required parameter AttributeName/],
    [() => anonymous.send(new VerifyUserAttributeCommand({ AccessToken, AttributeName: 'email' } as never)), 'InvalidParameterException', /Missing required parameter Code/],
    [() => anonymous.send(new VerifyUserAttributeCommand({ AccessToken, AttributeName: 'email', Code: '123456' })), 'CodeMismatchException', /Invalid verification code/],
    [() => anonymous.send(new VerifyUserAttributeCommand({ AccessToken: forged, AttributeName: 'email', Code: '123456' })), 'NotAuthorizedException', /Invalid Access Token/],
    [() => anonymous.send(new ResendConfirmationCodeCommand({ Username: 'inputs' } as never)), 'InvalidParameterException', /Missing required parameter ClientId/],
    [() => anonymous.send(new DeleteUserCommand({} as never)), 'InvalidParameterException', /Missing required parameter AccessToken/],
    [() => anonymous.send(new DeleteUserCommand({ AccessToken: forged })), 'NotAuthorizedException', /Invalid Access Token/],
    [() => anonymous.send(new ListDevicesCommand({ AccessToken, Limit: 100 })), 'InvalidParameterException', /parameter Limit/],
    [() => anonymous.send(new GetDeviceCommand({ AccessToken, DeviceKey: 'not a key' })), 'InvalidParameterException', /parameter DeviceKey/],
    [() => anonymous.send(new ForgetDeviceCommand({ AccessToken } as never)), 'InvalidParameterException', /Missing required parameter DeviceKey/],
    [() => admin.send(new AdminRespondToAuthChallengeCommand({ UserPoolId: poolId(), ClientId: web() } as never)), 'InvalidParameterException', /Missing required parameter ChallengeName/],
    [() => admin.send(new AdminRespondToAuthChallengeCommand({ UserPoolId: poolId(), ClientId: 'nosuchclient', ChallengeName: 'NEW_PASSWORD_REQUIRED' })), 'ResourceNotFoundException', /nosuchclient/],
  ];
  for (const [call, type, message] of cases) {
    await assert.rejects(call(), (error: Error) => {
      assert.equal(error.name, type, error.message);
      assert.match(error.message, message);
      return true;
    });
  }
  assert.equal((await admin.send(new AdminGetUserCommand({ UserPoolId: poolId(), Username: 'inputs' }))).UserStatus, 'CONFIRMED');
  assert.ok((await signIn('inputs')).AccessToken);
});
