import { CognitoError } from './cognito-error.ts';
import type { Operation } from './cognito-api.ts';
import { parseInput } from './cognito-input.ts';
import {
  accessTokenOnlySchema, adminResetUserPasswordSchema, adminUpdateUserAttributesSchema, attributeCodeSchema, confirmForgotPasswordSchema, deviceSchema, forgotPasswordSchema,
  listDevicesSchema, updateUserAttributesSchema, verifyAttributeSchema,
} from './management-input.ts';
import type { IdentityContext } from './identity-context.ts';
import type { ClientRecord, PoolRecord, UserRecord } from './user-store.ts';
import { clientFor } from './auth-flows.ts';
import { checkSecretHash } from './client-secret.ts';
import { CODE_TTL_MS, MAX_CODE_FAILURES, userFromAccessToken } from './user-operations.ts';
import { passwordSecrets } from './user-secrets.ts';
import { deliver } from './outbox.ts';
import { applyAttributeUpdate, deliveryDetails, VERIFIABLE } from './user-attributes.ts';
import { userOf } from './resource-lookup.ts';
import { sixDigitCode, type CodePurpose } from './code-store.ts';
import { usernameKey } from './username-key.ts';

/** A reset code is good for one hour, an attribute code for a day (Cognito's lifetimes). */
const RESET_CODE_TTL_MS = 3600_000;
const SENDS_PER_HOUR = 5;

function hidesUserExistence(pool: PoolRecord, client: ClientRecord): boolean {
  return (client.settings.preventUserExistenceErrors ?? pool.settings.preventUserExistenceErrors) === 'ENABLED';
}

/** Codes are sent at most five times an hour per user and purpose, so the outbox cannot be flooded. */
async function limitSends(context: IdentityContext, poolId: string, username: string, purpose: string): Promise<void> {
  const key = `identity:code-sends:${poolId}:${username}:${purpose}`;
  if (Number((await context.store.get(key)) ?? 0) >= SENDS_PER_HOUR) throw new CognitoError('LimitExceededException', 'Attempt limit exceeded, please try after some time.');
  await context.store.increment(key, 3600);
}

/** The address a code for `user` goes to: the attribute's value, else the e-mail, else the user name (all land in the outbox). */
interface CodeMessage {
  readonly attribute: string;
  readonly subject: string;
  readonly body: string;
}

function send(context: IdentityContext, user: UserRecord, { attribute, subject, body }: CodeMessage): ReturnType<typeof deliveryDetails> {
  const value = user.attributes[attribute];
  deliver(context.platform.dataDir, { to: value ?? user.attributes.email ?? user.username, username: user.username, subject, body }, context.now());
  return deliveryDetails(attribute, value);
}

/** What an unknown user gets when the client hides user existence: the same shape as a real delivery. */
const SIMULATED_DELIVERY = { Destination: 'u***@e***', DeliveryMedium: 'EMAIL', AttributeName: 'email' } as const;

function failedCode(result: 'mismatch' | 'absent' | 'expired'): never {
  if (result === 'expired') throw new CognitoError('ExpiredCodeException', 'Invalid code provided, please request a code again.');
  throw new CognitoError('CodeMismatchException', 'Invalid verification code provided, please try again.');
}

async function sendAttributeCodes(context: IdentityContext, user: UserRecord, attributes: readonly string[]): Promise<ReturnType<typeof deliveryDetails>[]> {
  const details: ReturnType<typeof deliveryDetails>[] = [];
  for (const attribute of attributes) {
    const code = await context.codes.issue(user.poolId, user.username, `verify:${attribute}`, CODE_TTL_MS);
    details.push(send(context, user, { attribute, subject: `Your ${attribute} verification code`, body: `Your verification code is ${code}` }));
  }
  return details;
}

/**
 * Writes an attribute update. The send limit is checked before anything is written, and codes pending for a
 * changed address die with the change in one transaction: a code sent to the old address must never verify the new one.
 */
async function updateAttributes(context: IdentityContext, user: UserRecord, update: ReturnType<typeof applyAttributeUpdate>): Promise<ReturnType<typeof deliveryDetails>[]> {
  for (const attribute of update.needVerification) await limitSends(context, user.poolId, user.username, `verify:${attribute}`);
  await context.atomically(async () => {
    for (const attribute of update.changed) await context.codes.discard(user.poolId, user.username, `verify:${attribute}`);
    await context.users.updateAttributes(user.poolId, user.username, update.attributes);
  });
  return await sendAttributeCodes(context, (await context.users.user(user.poolId, user.username))!, update.needVerification);
}

/** A verified e-mail is a sign-in alias, so two users cannot both hold the same one. */
async function refuseTakenAlias(context: IdentityContext, user: UserRecord, attributes: Readonly<Record<string, string>>): Promise<void> {
  if (attributes.email_verified !== 'true' || !attributes.email) return;
  if (await context.users.verifiedEmailOwner(user.poolId, attributes.email, user.username)) {
    throw new CognitoError('AliasExistsException', 'An account with the given email already exists.');
  }
}

/**
 * Account operations Amplify and the hosted flows call: password reset, attribute changes and
 * verification, confirmation-code resend, self-deletion and devices; unsigned, authenticated by
 * ClientId (+ SecretHash) or an access token, as in Cognito.
 * Codes go to `{dataDir}/outbox.log`, as sign-up codes do.
 */
export const accountOperations: Record<string, Operation> = {
  async ForgotPassword(context, body) {
    const input = parseInput(forgotPasswordSchema, body);
    const { client, pool } = await clientFor(context, input.ClientId);
    checkSecretHash(client, [input.Username], input.SecretHash);
    const user = await context.users.findUser(pool.id, input.Username);
    if (!user) {
      if (hidesUserExistence(pool, client)) return { CodeDeliveryDetails: SIMULATED_DELIVERY };
      throw new CognitoError('UserNotFoundException', 'User does not exist.');
    }
    if (!user.enabled) throw new CognitoError('NotAuthorizedException', 'User is disabled.');
    // as Cognito: a user who never chose a password signs in with the temporary one (NEW_PASSWORD_REQUIRED)
    if (user.status === 'FORCE_CHANGE_PASSWORD') throw new CognitoError('NotAuthorizedException', 'User password cannot be reset in the current state.');
    await limitSends(context, pool.id, user.username, 'reset-password');
    const code = await context.codes.issue(pool.id, user.username, 'reset-password', RESET_CODE_TTL_MS);
    return { CodeDeliveryDetails: send(context, user, { attribute: 'email', subject: 'Your password reset code', body: `Your password reset code is ${code}` }) };
  },
  async ConfirmForgotPassword(context, body, caller) {
    const input = parseInput(confirmForgotPasswordSchema, body);
    const { client, pool } = await clientFor(context, input.ClientId);
    checkSecretHash(client, [input.Username], input.SecretHash);
    // every spelling of a name counts together, as for ConfirmSignUp and sign-in
    const failures = `identity:code-failures:${pool.id}:${usernameKey(input.Username, false)}:${caller.ip}`;
    if (Number((await context.store.get(failures)) ?? 0) >= MAX_CODE_FAILURES) throw new CognitoError('TooManyFailedAttemptsException', 'Too many failed attempts. Wait before trying again.');
    const user = await context.users.findUser(pool.id, input.Username);
    if (!user && !hidesUserExistence(pool, client)) throw new CognitoError('UserNotFoundException', 'User does not exist.');
    // the policy is checked before the code is spent, so a weak password does not cost the user their code
    const secrets = await passwordSecrets(pool.id, user?.username ?? input.Username, input.Password);
    const result = user ? await context.codes.check(pool.id, user.username, 'reset-password', input.ConfirmationCode) : 'absent';
    if (result !== 'ok') {
      if (result !== 'expired') await context.store.increment(failures, 900);
      return failedCode(result);
    }
    if (!user) return failedCode('absent');
    await context.atomically(async () => {
      await context.users.setPassword(pool.id, user.username, { secret: secrets, status: user.status === 'UNCONFIRMED' ? 'UNCONFIRMED' : 'CONFIRMED' });
      // a reset usually follows a lost or stolen password: the sign-ins made with the old one end
      await context.tokens.revokeUser(pool.id, user.username);
    });
    return {};
  },
  async UpdateUserAttributes(context, body) {
    const input = parseInput(updateUserAttributesSchema, body);
    const user = await userFromAccessToken(context, input.AccessToken);
    return { CodeDeliveryDetailsList: await updateAttributes(context, user, applyAttributeUpdate(user, input.UserAttributes, 'user')) };
  },
  async GetUserAttributeVerificationCode(context, body) {
    const input = parseInput(attributeCodeSchema, body);
    const user = await userFromAccessToken(context, input.AccessToken);
    verifiedFlagOf(input.AttributeName);
    if (!Object.hasOwn(user.attributes, input.AttributeName) || !user.attributes[input.AttributeName]) throw new CognitoError('InvalidParameterException', `AttributeName: the user has no ${input.AttributeName}`);
    await limitSends(context, user.poolId, user.username, `verify:${input.AttributeName}`);
    const [details] = await sendAttributeCodes(context, user, [input.AttributeName]);
    return { CodeDeliveryDetails: details };
  },
  async VerifyUserAttribute(context, body) {
    const input = parseInput(verifyAttributeSchema, body);
    const user = await userFromAccessToken(context, input.AccessToken);
    const flag = verifiedFlagOf(input.AttributeName);
    const result = await context.codes.check(user.poolId, user.username, `verify:${input.AttributeName}` as CodePurpose, input.Code);
    if (result !== 'ok') return failedCode(result);
    const attributes = { ...user.attributes, [flag]: 'true' };
    await refuseTakenAlias(context, user, attributes);
    await context.users.updateAttributes(user.poolId, user.username, attributes);
    return {};
  },
  async ResendConfirmationCode(context, body) {
    const input = parseInput(forgotPasswordSchema, body);
    const { client, pool } = await clientFor(context, input.ClientId);
    checkSecretHash(client, [input.Username], input.SecretHash);
    const user = await context.users.user(pool.id, input.Username);
    if (!user) {
      if (hidesUserExistence(pool, client)) return { CodeDeliveryDetails: SIMULATED_DELIVERY };
      throw new CognitoError('UserNotFoundException', 'User does not exist.');
    }
    if (user.status !== 'UNCONFIRMED') throw new CognitoError('InvalidParameterException', 'User is already confirmed.');
    await limitSends(context, pool.id, user.username, 'sign-up');
    const code = sixDigitCode();
    await context.users.setConfirmationCode(pool.id, user.username, `${code}:${context.now() + CODE_TTL_MS}`);
    return { CodeDeliveryDetails: send(context, user, { attribute: 'email', subject: 'Your verification code', body: `Your confirmation code is ${code}` }) };
  },
  async DeleteUser(context, body) {
    const user = await userFromAccessToken(context, parseInput(accessTokenOnlySchema, body).AccessToken);
    await context.atomically(async () => {
      await context.tokens.revokeUser(user.poolId, user.username);
      await context.users.deleteUser(user.poolId, user.username);
    });
    return {};
  },
  // Device tracking is off in every Gatehouse pool (as in a Cognito pool without DeviceConfiguration): no device is ever remembered.
  async ListDevices(context, body) {
    await userFromAccessToken(context, parseInput(listDevicesSchema, body).AccessToken);
    return { Devices: [] };
  },
  async GetDevice(context, body) {
    await userFromAccessToken(context, parseInput(deviceSchema, body).AccessToken);
    throw new CognitoError('ResourceNotFoundException', 'Device does not exist.');
  },
  async ForgetDevice(context, body) {
    await userFromAccessToken(context, parseInput(deviceSchema, body).AccessToken);
    throw new CognitoError('ResourceNotFoundException', 'Device does not exist.');
  },
};

/** The administrator's side of the same (SigV4, admin key). */
export const adminAccountOperations: Record<string, Operation> = {
  async AdminResetUserPassword(context, body) {
    const input = parseInput(adminResetUserPasswordSchema, body);
    const user = await userOf(context, input.UserPoolId, input.Username);
    await context.atomically(async () => {
      await context.users.setStatus(user.poolId, user.username, 'RESET_REQUIRED');
      await context.tokens.revokeUser(user.poolId, user.username);
    });
    const code = await context.codes.issue(user.poolId, user.username, 'reset-password', RESET_CODE_TTL_MS);
    send(context, user, { attribute: 'email', subject: 'Your password reset code', body: `Your password was reset by an administrator. Your password reset code is ${code}` });
    return {};
  },
  async AdminUpdateUserAttributes(context, body) {
    const input = parseInput(adminUpdateUserAttributesSchema, body);
    const user = await userOf(context, input.UserPoolId, input.Username);
    const update = applyAttributeUpdate(user, input.UserAttributes, 'admin');
    await refuseTakenAlias(context, user, update.attributes);
    await updateAttributes(context, user, update);
    return {};
  },
};

/**
 * The `*_verified` attribute of a verifiable one (email, phone_number); own keys only, so `toString` or
 * `constructor` never pass for an attribute.
 */
function verifiedFlagOf(name: string): string {
  if (!Object.hasOwn(VERIFIABLE, name)) throw new CognitoError('InvalidParameterException', `AttributeName: only ${Object.keys(VERIFIABLE).join(' and ')} can be verified`);
  return VERIFIABLE[name]!;
}
