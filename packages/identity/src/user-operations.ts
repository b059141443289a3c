import { CognitoError, INCORRECT_CREDENTIALS } from './cognito-error.ts';
import type { IdentityContext } from './identity-context.ts';
import type { Operation } from './cognito-api.ts';
import {
  accessTokenSchema, changePasswordSchema, confirmSignUpSchema, getTokensFromRefreshSchema, initiateAuthSchema, parseInput, respondSchema, revokeTokenSchema, signUpSchema,
} from './cognito-input.ts';
import { API_SCOPE, clientFor, initiateAuth, respondToAuthChallenge } from './auth-flows.ts';
import { verifyAccessToken } from './verify-access-token.ts';
import { checkSecretHash, constantTimeEqual } from './client-secret.ts';
import { issueTokens } from './identity-context.ts';
import { verifyPassword } from './password-hash.ts';
import { passwordSecrets } from './user-secrets.ts';
import { UsernameTakenError, type UserRecord } from './user-store.ts';
import { deliver } from './outbox.ts';
import { parseUserAttributes } from './user-attributes.ts';
import { usernameKey } from './username-key.ts';
import { sixDigitCode } from './code-store.ts';

export const CODE_TTL_MS = 24 * 3600_000;
export const MAX_CODE_FAILURES = 5;

export function attributeList(user: UserRecord): { Name: string; Value: string }[] {
  return Object.entries(user.attributes).map(([Name, Value]) => ({ Name, Value }));
}

export async function userFromAccessToken(context: IdentityContext, token: string): Promise<UserRecord> {
  const verified = await verifyAccessToken(context, token);
  // a token minted for another audience (resource indicator, token exchange) is not for Cognito's own API
  if (!verified || verified.claims.aud !== undefined) throw new CognitoError('NotAuthorizedException', 'Invalid Access Token');
  const scopes = String(verified.claims.scope ?? '').split(' ');
  if (!scopes.includes(API_SCOPE)) throw new CognitoError('NotAuthorizedException', 'Access Token does not have required scopes');
  const user = await context.users.user(verified.pool.id, String(verified.claims.username));
  if (!user || user.sub !== verified.claims.sub) throw new CognitoError('NotAuthorizedException', 'Invalid Access Token');
  if (!user.enabled) throw new CognitoError('NotAuthorizedException', 'User is disabled.');
  return user;
}

function maskEmail(email: string): string {
  const [local = '', domain = ''] = email.split('@');
  return `${local.slice(0, 1)}***@${domain.slice(0, 1)}***`;
}

/** Operations Cognito serves without SigV4: authenticated by ClientId (+ SECRET_HASH) or an access token. */
export const userOperations: Record<string, Operation> = {
  async InitiateAuth(context, body, caller) {
    return initiateAuth(context, parseInput(initiateAuthSchema, body), { ip: caller.ip, admin: false });
  },
  async RespondToAuthChallenge(context, body, caller) {
    return respondToAuthChallenge(context, parseInput(respondSchema, body), { ip: caller.ip, admin: false });
  },
  async GetUser(context, body) {
    const user = await userFromAccessToken(context, parseInput(accessTokenSchema, body).AccessToken);
    return { Username: user.username, UserAttributes: attributeList(user), MFAOptions: [], UserMFASettingList: [] };
  },
  async GlobalSignOut(context, body) {
    const token = parseInput(accessTokenSchema, body).AccessToken;
    const verified = await verifyAccessToken(context, token);
    const user = await userFromAccessToken(context, token);
    await context.tokens.revokeUser(user.poolId, user.username);
    if (typeof verified?.claims.origin_jti === 'string') await context.tokens.revokeOrigin(verified.claims.origin_jti, Number(verified.claims.exp) * 1000);
    await context.userSignedOut(user.poolId, user.username);
    return {};
  },
  async GetTokensFromRefreshToken(context, body) {
    const input = parseInput(getTokensFromRefreshSchema, body);
    const { client, pool } = await clientFor(context, input.ClientId);
    if (client.secret && !(input.ClientSecret && constantTimeEqual(input.ClientSecret, client.secret))) {
      throw new CognitoError('NotAuthorizedException', `Client ${client.id} is configured for secret but a valid ClientSecret was not received`);
    }
    if (!client.settings.explicitAuthFlows.includes('ALLOW_REFRESH_TOKEN_AUTH')) throw new CognitoError('InvalidParameterException', 'REFRESH_TOKEN_AUTH flow not enabled for this client');
    const lookup = await context.tokens.lookupRefresh(input.RefreshToken);
    if (lookup.state === 'invalid' || lookup.record.clientId !== client.id) throw new CognitoError('NotAuthorizedException', 'Invalid Refresh Token');
    const rotated = await context.tokens.rotateRefresh(input.RefreshToken);
    if (!rotated) throw new CognitoError('NotAuthorizedException', 'Invalid Refresh Token');
    if ('reused' in rotated) throw new CognitoError('RefreshTokenReuseException', 'The refresh token was already used; this sign-in is now revoked');
    const user = await context.users.user(pool.id, rotated.record.username);
    if (!user || !user.enabled) throw new CognitoError('NotAuthorizedException', 'User is disabled.');
    const tokens = await issueTokens(context, {
      pool, client, user, scope: rotated.record.scope, authTime: rotated.record.authTime, family: rotated.record.family, withRefresh: false,
    });
    return { AuthenticationResult: { ...tokens, RefreshToken: rotated.next } };
  },
  async ChangePassword(context, body) {
    const input = parseInput(changePasswordSchema, body);
    const user = await userFromAccessToken(context, input.AccessToken);
    if (!input.PreviousPassword || !user.passwordHash || !(await verifyPassword(input.PreviousPassword, user.passwordHash))) {
      throw new CognitoError('NotAuthorizedException', INCORRECT_CREDENTIALS);
    }
    await context.users.setPassword(user.poolId, user.username, { secret: await passwordSecrets(user.poolId, user.username, input.ProposedPassword), status: 'CONFIRMED' });
    return {};
  },
  async RevokeToken(context, body) {
    const input = parseInput(revokeTokenSchema, body);
    const { client } = await clientFor(context, input.ClientId);
    if (client.secret && !(input.ClientSecret && constantTimeEqual(input.ClientSecret, client.secret))) {
      throw new CognitoError('UnauthorizedException', `Client ${client.id} is configured with a secret: send its ClientSecret`);
    }
    if (input.Token.split('.').length === 3) throw new CognitoError('UnsupportedTokenTypeException', 'Only refresh tokens can be revoked');
    const lookup = await context.tokens.lookupRefresh(input.Token);
    if (lookup.state !== 'invalid') {
      if (lookup.record.clientId !== client.id) throw new CognitoError('UnauthorizedException', 'The refresh token was not issued to this client');
      await context.tokens.revokeFamily(lookup.record.family, lookup.record.expiresAt);
    }
    return {};
  },
  async SignUp(context, body) {
    const input = parseInput(signUpSchema, body);
    const { client, pool } = await clientFor(context, input.ClientId);
    checkSecretHash(client, [input.Username], input.SecretHash);
    if (!pool.settings.signUpEnabled) throw new CognitoError('NotAuthorizedException', 'SignUp is not permitted for this user pool');
    const attributes = parseUserAttributes(input.UserAttributes ?? []);
    // a user proves an address with a code; declaring it verified is not theirs to do
    delete attributes.email_verified;
    delete attributes.phone_number_verified;
    if (attributes.email !== undefined) attributes.email_verified = 'false';
    const secrets = await passwordSecrets(pool.id, input.Username, input.Password);
    const code = sixDigitCode();
    let user: UserRecord;
    try {
      user = await context.users.createUser(pool.id, { username: input.Username, ...secrets, status: 'UNCONFIRMED', attributes, confirmationCode: `${code}:${context.now() + CODE_TTL_MS}` });
    } catch (error) {
      if (error instanceof UsernameTakenError) throw new CognitoError('UsernameExistsException', 'User already exists');
      throw error;
    }
    const destination = attributes.email ?? input.Username;
    deliver(context.platform.dataDir, { to: destination, username: user.username, subject: 'Your verification code', body: `Your confirmation code is ${code}` }, context.now());
    return {
      UserConfirmed: false, UserSub: user.sub,
      CodeDeliveryDetails: { Destination: attributes.email ? maskEmail(attributes.email) : 'outbox', DeliveryMedium: 'EMAIL', AttributeName: 'email' },
    };
  },
  async ConfirmSignUp(context, body, caller) {
    const input = parseInput(confirmSignUpSchema, body);
    const { client, pool } = await clientFor(context, input.ClientId);
    checkSecretHash(client, [input.Username], input.SecretHash);
    const failures = `identity:code-failures:${pool.id}:${usernameKey(input.Username, false)}:${caller.ip}`;
    if (Number((await context.store.get(failures)) ?? 0) >= MAX_CODE_FAILURES) throw new CognitoError('TooManyFailedAttemptsException', 'Too many failed attempts. Wait before trying again.');
    const user = await context.users.user(pool.id, input.Username);
    if (user && user.status !== 'UNCONFIRMED') throw new CognitoError('NotAuthorizedException', `User cannot be confirmed. Current status is ${user.status}`);
    const [code = '', expires = '0'] = (user?.confirmationCode ?? '').split(':');
    if (!user || !constantTimeEqual(code, input.ConfirmationCode)) {
      await context.store.increment(failures, 900);
      throw new CognitoError('CodeMismatchException', 'Invalid verification code provided, please try again.');
    }
    if (Number(expires) <= context.now()) throw new CognitoError('ExpiredCodeException', 'Invalid code provided, please request a code again.');
    await context.users.setStatus(pool.id, user.username, 'CONFIRMED');
    return {};
  },
};
