import { createHmac, randomBytes } from 'node:crypto';
import { CognitoError, INCORRECT_CREDENTIALS } from './cognito-error.ts';
import { issueTokens, type IdentityContext, type IssuedTokens } from './identity-context.ts';
import type { ClientRecord, PoolRecord, UserRecord } from './user-store.ts';
import { checkSecretHash, constantTimeEqual } from './client-secret.ts';
import { DUMMY_HASH, verifyPassword } from './password-hash.ts';
import { isValidClientPublic, parseSrpTimestamp, startServer, verifyPasswordClaim } from './srp.ts';
import { passwordSecrets, poolSuffix } from './user-secrets.ts';
import { randomToken } from './token-store.ts';
import { mergeAttributes, parseUserAttributes } from './user-attributes.ts';
import { usernameKey } from './username-key.ts';

export const API_SCOPE = 'aws.cognito.signin.user.admin';
const CHALLENGE_TTL_SECONDS = 180;
const MAX_FAILURES = 5;
const FAILURE_WINDOW_SECONDS = 900;
const SRP_CLOCK_SKEW_MS = 5 * 60_000;

export type AuthResponse =
  | { readonly AuthenticationResult: IssuedTokens; readonly ChallengeParameters: Record<string, never> }
  | { readonly ChallengeName: string; readonly Session: string; readonly ChallengeParameters: Record<string, string> };

interface ChallengeSession {
  readonly kind: 'PASSWORD_VERIFIER' | 'NEW_PASSWORD_REQUIRED';
  readonly poolId: string;
  readonly clientId: string;
  readonly username: string;
  readonly known: boolean;
  readonly srp?: { serverPublic: string; serverSecret: string; clientPublic: string; secretBlock: string; salt: string; verifier: string };
}

export interface CallerInfo {
  readonly ip: string;
  readonly admin: boolean;
}

const FLOW_PERMISSION: Record<string, string> = {
  USER_PASSWORD_AUTH: 'ALLOW_USER_PASSWORD_AUTH',
  ADMIN_USER_PASSWORD_AUTH: 'ALLOW_ADMIN_USER_PASSWORD_AUTH',
  ADMIN_NO_SRP_AUTH: 'ALLOW_ADMIN_USER_PASSWORD_AUTH',
  REFRESH_TOKEN_AUTH: 'ALLOW_REFRESH_TOKEN_AUTH',
  REFRESH_TOKEN: 'ALLOW_REFRESH_TOKEN_AUTH',
  USER_SRP_AUTH: 'ALLOW_USER_SRP_AUTH',
};
const ADMIN_ONLY = new Set(['ADMIN_USER_PASSWORD_AUTH', 'ADMIN_NO_SRP_AUTH']);

export async function clientFor(context: IdentityContext, clientId: string, poolId?: string): Promise<{ client: ClientRecord; pool: PoolRecord }> {
  const client = await context.users.clientById(clientId);
  if (!client || (poolId !== undefined && client.poolId !== poolId)) throw new CognitoError('ResourceNotFoundException', `User pool client ${clientId} does not exist.`);
  const pool = (await context.users.poolById(client.poolId))!;
  return { client, pool };
}

function param(parameters: Record<string, string> | undefined, name: string): string {
  const value = parameters?.[name];
  if (value === undefined || value === '') throw new CognitoError('InvalidParameterException', `Missing required parameter ${name}`);
  return value;
}

function failureKey(poolId: string, username: string, ip: string): string {
  // always case- and width-folded, so `Admin`, `ADMIN` and `ａｄｍｉｎ` share one count whatever the pool's setting
  return `identity:failures:${poolId}:${usernameKey(username, false)}:${ip}`;
}

async function checkThrottle(context: IdentityContext, poolId: string, username: string, ip: string): Promise<void> {
  const count = Number((await context.store.get(failureKey(poolId, username, ip))) ?? 0);
  if (count >= MAX_FAILURES) throw new CognitoError('TooManyRequestsException', 'Password attempts exceeded. Wait 15 minutes before trying again.');
}

/** One password attempt: against which pool (and app client, when there is one), for which name, from where. */
interface SignInAttempt {
  readonly pool: PoolRecord;
  readonly client?: ClientRecord | undefined;
  readonly username: string;
  readonly ip: string;
}

async function recordFailure(context: IdentityContext, { pool, client, username, ip }: SignInAttempt, known: boolean): Promise<never> {
  await context.store.increment(failureKey(pool.id, username, ip), FAILURE_WINDOW_SECONDS);
  // a client's own PreventUserExistenceErrors (management API) wins over the pool's
  if (!known && (client?.settings.preventUserExistenceErrors ?? pool.settings.preventUserExistenceErrors) === 'LEGACY') throw new CognitoError('UserNotFoundException', 'User does not exist.');
  throw new CognitoError('NotAuthorizedException', INCORRECT_CREDENTIALS);
}

async function newChallenge(context: IdentityContext, session: ChallengeSession): Promise<string> {
  const id = randomToken(48);
  await context.store.set(`identity:challenge:${id}`, JSON.stringify(session), CHALLENGE_TTL_SECONDS);
  return id;
}

/** Single use: a challenge session answers once, right or wrong. */
async function takeChallenge(context: IdentityContext, id: string | undefined, kind: ChallengeSession['kind'], clientId: string): Promise<ChallengeSession> {
  const expired = new CognitoError('NotAuthorizedException', 'Invalid session for the user, session is expired.');
  if (!id) throw new CognitoError('InvalidParameterException', 'Missing required parameter Session');
  const key = `identity:challenge:${id}`;
  const raw = await context.store.get(key);
  if (!raw) throw expired;
  await context.store.delete(key);
  const session = JSON.parse(raw) as ChallengeSession;
  if (session.kind !== kind || session.clientId !== clientId) throw expired;
  return session;
}

/** After the password is proven: account state decides between tokens and a challenge. */
async function completeSignIn(context: IdentityContext, { pool, client, ip }: SignInAttempt & { client: ClientRecord }, user: UserRecord): Promise<AuthResponse> {
  await context.store.delete(failureKey(pool.id, user.username, ip));
  if (!user.enabled) throw new CognitoError('NotAuthorizedException', 'User is disabled.');
  if (user.status === 'UNCONFIRMED') throw new CognitoError('UserNotConfirmedException', 'User is not confirmed.');
  if (user.status === 'RESET_REQUIRED') throw new CognitoError('PasswordResetRequiredException', 'Password reset required for the user');
  if (user.status === 'FORCE_CHANGE_PASSWORD') {
    const session = await newChallenge(context, { kind: 'NEW_PASSWORD_REQUIRED', poolId: pool.id, clientId: client.id, username: user.username, known: true });
    const attributes = Object.fromEntries(Object.entries(user.attributes).filter(([name]) => name !== 'sub'));
    return {
      ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: session,
      ChallengeParameters: { USER_ID_FOR_SRP: user.username, requiredAttributes: '[]', userAttributes: JSON.stringify(attributes) },
    };
  }
  const tokens = await issueTokens(context, { pool, client, user, scope: API_SCOPE, authTime: Math.floor(context.now() / 1000), withRefresh: true });
  return { AuthenticationResult: tokens, ChallengeParameters: {} };
}

export async function initiateAuth(
  context: IdentityContext,
  input: { AuthFlow: string; ClientId: string; AuthParameters?: Record<string, string> | undefined; UserPoolId?: string | undefined },
  caller: CallerInfo,
): Promise<AuthResponse> {
  const { client, pool } = await clientFor(context, input.ClientId, input.UserPoolId);
  const flow = input.AuthFlow;
  const permission = FLOW_PERMISSION[flow];
  if (!permission || (ADMIN_ONLY.has(flow) && !caller.admin) || (!caller.admin && flow.startsWith('ADMIN_'))) {
    throw new CognitoError('InvalidParameterException', `Unsupported AuthFlow ${flow} for this operation`);
  }
  if (!client.settings.explicitAuthFlows.includes(permission)) throw new CognitoError('InvalidParameterException', `${flow.replace('ADMIN_NO_SRP_AUTH', 'ADMIN_USER_PASSWORD_AUTH')} flow not enabled for this client`);
  const parameters = input.AuthParameters;

  if (flow === 'REFRESH_TOKEN_AUTH' || flow === 'REFRESH_TOKEN') return refreshFlow(context, pool, client, parameters);

  const username = param(parameters, 'USERNAME');
  await checkThrottle(context, pool.id, username, caller.ip);
  const user = await context.users.findUser(pool.id, username);
  checkSecretHash(client, user ? [username, user.username] : [username], parameters?.SECRET_HASH);

  const attempt = { pool, client, username, ip: caller.ip };
  if (flow === 'USER_SRP_AUTH') return srpStart(context, attempt, user, param(parameters, 'SRP_A'));

  const password = param(parameters, 'PASSWORD');
  const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
  if (!user || !ok) return recordFailure(context, attempt, user !== undefined);
  return completeSignIn(context, attempt, user);
}

async function refreshFlow(context: IdentityContext, pool: PoolRecord, client: ClientRecord, parameters: Record<string, string> | undefined): Promise<AuthResponse> {
  const token = param(parameters, 'REFRESH_TOKEN');
  const lookup = await context.tokens.lookupRefresh(token);
  if (lookup.state === 'reused') {
    // a rotated-away token presented again: treat as stolen and end that sign-in
    await context.tokens.revokeFamily(lookup.record.family, lookup.record.expiresAt);
    throw new CognitoError('NotAuthorizedException', 'Refresh Token has been revoked');
  }
  if (lookup.state === 'invalid' || lookup.record.clientId !== client.id) throw new CognitoError('NotAuthorizedException', 'Invalid Refresh Token');
  const user = await context.users.user(pool.id, lookup.record.username);
  if (!user) throw new CognitoError('NotAuthorizedException', 'Invalid Refresh Token');
  checkSecretHash(client, [user.username, user.sub, parameters?.USERNAME ?? user.username], parameters?.SECRET_HASH);
  if (!user.enabled) throw new CognitoError('NotAuthorizedException', 'User is disabled.');
  const tokens = await issueTokens(context, {
    pool, client, user, scope: lookup.record.scope, authTime: lookup.record.authTime, family: lookup.record.family, withRefresh: false,
  });
  return { AuthenticationResult: tokens, ChallengeParameters: {} };
}

async function srpStart(context: IdentityContext, { pool, client, username }: SignInAttempt & { client: ClientRecord }, user: UserRecord | undefined, clientPublic: string): Promise<AuthResponse> {
  if (!isValidClientPublic(clientPublic)) throw new CognitoError('InvalidParameterException', 'SRP_A is not a valid SRP public value');
  const userId = user?.username ?? username;
  // an unknown user gets a challenge that looks the same, costs the same and can never be answered (no user enumeration)
  const real = user?.srpVerifier && user.srpSalt ? { salt: user.srpSalt, verifier: user.srpVerifier } : undefined;
  const { salt, verifier } = real ?? await decoySrp(context, pool.id, userId);
  const step = startServer(verifier);
  const secretBlock = randomBytes(64).toString('base64');
  const session = await newChallenge(context, {
    kind: 'PASSWORD_VERIFIER', poolId: pool.id, clientId: client.id, username: userId, known: real !== undefined,
    srp: { ...step, clientPublic, secretBlock, salt, verifier },
  });
  return {
    ChallengeName: 'PASSWORD_VERIFIER', Session: session,
    ChallengeParameters: { SALT: salt, SRP_B: step.serverPublic, SECRET_BLOCK: secretBlock, USER_ID_FOR_SRP: userId, USERNAME: userId },
  };
}

export async function respondToAuthChallenge(
  context: IdentityContext,
  input: { ChallengeName: string; ClientId: string; Session?: string | undefined; ChallengeResponses?: Record<string, string> | undefined; UserPoolId?: string | undefined },
  caller: CallerInfo,
): Promise<AuthResponse> {
  const { client, pool } = await clientFor(context, input.ClientId, input.UserPoolId);
  const responses = input.ChallengeResponses;
  if (input.ChallengeName === 'PASSWORD_VERIFIER') {
    const session = await takeChallenge(context, input.Session, 'PASSWORD_VERIFIER', client.id);
    const srp = session.srp!;
    await checkThrottle(context, pool.id, session.username, caller.ip);
    const user = await context.users.user(pool.id, session.username);
    checkSecretHash(client, [session.username, param(responses, 'USERNAME')], responses?.SECRET_HASH);
    const secretBlock = param(responses, 'PASSWORD_CLAIM_SECRET_BLOCK');
    const timestamp = param(responses, 'TIMESTAMP');
    const signature = param(responses, 'PASSWORD_CLAIM_SIGNATURE');
    const when = parseSrpTimestamp(timestamp);
    if (when === undefined || Math.abs(when - context.now()) > SRP_CLOCK_SKEW_MS) throw new CognitoError('NotAuthorizedException', 'TIMESTAMP is malformed or too far from the server time.');
    const ok = session.known && user !== undefined && user.srpVerifier === srp.verifier && constantTimeEqual(secretBlock, srp.secretBlock) &&
      verifyPasswordClaim({ poolSuffix: poolSuffix(pool.id), userIdForSrp: session.username, verifierHex: srp.verifier }, srp, { clientPublic: srp.clientPublic, secretBlock, timestamp, signature });
    const attempt = { pool, client, username: session.username, ip: caller.ip };
    if (!ok || !user) return recordFailure(context, attempt, session.known);
    return completeSignIn(context, attempt, user);
  }
  if (input.ChallengeName === 'NEW_PASSWORD_REQUIRED') {
    const newPassword = param(responses, 'NEW_PASSWORD');
    const session = await takeChallenge(context, input.Session, 'NEW_PASSWORD_REQUIRED', client.id);
    const user = await context.users.user(pool.id, session.username);
    if (!user || user.status !== 'FORCE_CHANGE_PASSWORD') throw new CognitoError('NotAuthorizedException', 'Invalid session for the user.');
    checkSecretHash(client, [user.username, responses?.USERNAME ?? user.username], responses?.SECRET_HASH);
    const attributes = challengeAttributes(user, responses ?? {});
    const secrets = await passwordSecrets(pool.id, user.username, newPassword);
    await context.users.setPassword(pool.id, user.username, { secret: secrets, status: 'CONFIRMED', attributes });
    return completeSignIn(context, { pool, client, username: user.username, ip: caller.ip }, (await context.users.user(pool.id, user.username))!);
  }
  throw new CognitoError('InvalidParameterException', `Unsupported ChallengeName ${input.ChallengeName}`);
}

/** `userAttributes.<name>` answers to NEW_PASSWORD_REQUIRED: the same names and rules as UpdateUserAttributes. */
function challengeAttributes(user: UserRecord, responses: Record<string, string>): Record<string, string> {
  const changes = Object.entries(responses)
    .filter(([key]) => key.startsWith('userAttributes.'))
    .map(([key, value]) => ({ Name: key.slice('userAttributes.'.length), Value: value }));
  return mergeAttributes(user.attributes, parseUserAttributes(changes, { by: 'user', locate: (_, name) => `ChallengeResponses.userAttributes.${name}` }));
}

/**
 * The hosted login page's password check: same throttle, same uniform failure as InitiateAuth.
 * Returns the user; account state (disabled, unconfirmed, must change password) is the caller's to decide.
 */
export async function checkPassword(context: IdentityContext, pool: PoolRecord, { username, password, ip }: { username: string; password: string; ip: string }): Promise<UserRecord> {
  await checkThrottle(context, pool.id, username, ip);
  const user = await context.users.findUser(pool.id, username);
  const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
  if (!user || !ok) return recordFailure(context, { pool, username, ip }, user !== undefined);
  await context.store.delete(failureKey(pool.id, user.username, ip));
  // the password was deactivated by AdminResetUserPassword: only the emailed code restores access
  if (user.status === 'RESET_REQUIRED') throw new CognitoError('PasswordResetRequiredException', 'Password reset required for the user');
  return user;
}

/**
 * Salt and verifier for a user that does not exist: stable per username (a repeated probe sees the same salt,
 * as with a real user) and as cheap as a lookup, derived from a per-installation key.
 */
async function decoySrp(context: IdentityContext, poolId: string, username: string): Promise<{ salt: string; verifier: string }> {
  const key = await context.users.metaOrCreate('srp-decoy-key', () => randomBytes(32).toString('hex'));
  const derive = (label: string, length: number): string => {
    let out = '';
    for (let block = 0; out.length < length * 2; block++) out += createHmac('sha256', key).update(`${label}|${block}|${poolId}|${username}`).digest('hex');
    return out.slice(0, length * 2);
  };
  return { salt: derive('salt', 16), verifier: derive('verifier', 380).replace(/^0+/, '') || '1' };
}
