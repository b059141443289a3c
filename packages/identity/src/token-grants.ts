import { OAuthError } from './oauth-error.ts';
import { issueTokens, subjectOf, type IdentityContext } from './identity-context.ts';
import type { ClientRecord } from './user-store.ts';
import { checkPkce } from './check-pkce.ts';
import { verifyAccessToken } from './verify-access-token.ts';
import { USER_ISSUER_CLAIM, WORKLOAD_CLAIM } from '@gatehouse/auth';

export interface CodePayload {
  readonly clientId: string;
  readonly poolId: string;
  readonly redirectUri: string;
  readonly scope: string;
  readonly nonce?: string | undefined;
  readonly codeChallenge: string;
  readonly username: string;
  readonly authTime: number;
  readonly family: string;
}

const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

/** RFC 8707: an absolute URI without a fragment. */
function resourceIndicator(form: Record<string, string>): string | undefined {
  const resource = form.resource;
  if (resource === undefined) return undefined;
  if (!URL.canParse(resource) || resource.includes('#')) throw new OAuthError('invalid_target', 'resource must be an absolute URI without a fragment');
  return resource;
}

type TokenResponse = Record<string, string | number>;

function toOAuth(tokens: { AccessToken: string; IdToken: string; RefreshToken?: string; ExpiresIn: number }, withId: boolean): TokenResponse {
  return {
    access_token: tokens.AccessToken,
    ...(withId ? { id_token: tokens.IdToken } : {}),
    ...(tokens.RefreshToken ? { refresh_token: tokens.RefreshToken } : {}),
    token_type: 'Bearer',
    expires_in: tokens.ExpiresIn,
  };
}

function required(form: Record<string, string>, name: string): string {
  const value = form[name];
  if (!value) throw new OAuthError('invalid_request', `${name} is required`);
  return value;
}

export async function authorizationCodeGrant(context: IdentityContext, client: ClientRecord, form: Record<string, string>): Promise<TokenResponse> {
  const code = required(form, 'code');
  const redirectUri = required(form, 'redirect_uri');
  const verifier = required(form, 'code_verifier');
  const taken = await context.tokens.takeCode(code);
  if (taken.state === 'invalid') throw new OAuthError('invalid_grant', 'The authorization code is invalid or expired');
  const payload = taken.payload as CodePayload;
  if (taken.state === 'used') {
    // RFC 6749 §4.1.2: a code used twice was probably stolen; revoke what the first use issued
    await context.tokens.revokeFamily(payload.family, context.now() + 86_400_000);
    throw new OAuthError('invalid_grant', 'The authorization code has already been used');
  }
  if (payload.clientId !== client.id) throw new OAuthError('invalid_grant', 'The authorization code was issued to another client');
  if (payload.redirectUri !== redirectUri) throw new OAuthError('invalid_grant', 'redirect_uri does not match the authorization request');
  if (!checkPkce(payload.codeChallenge, verifier)) throw new OAuthError('invalid_grant', 'code_verifier does not match the code_challenge');
  const pool = (await context.users.poolById(payload.poolId))!;
  const user = await context.users.user(pool.id, payload.username);
  if (!user || !user.enabled) throw new OAuthError('invalid_grant', 'The user is no longer allowed to sign in');
  const tokens = await issueTokens(context, {
    pool, client, user, scope: payload.scope, authTime: payload.authTime, family: payload.family, withRefresh: true,
    nonce: payload.nonce, atHash: true, audience: resourceIndicator(form),
  });
  return toOAuth(tokens, payload.scope.split(' ').includes('openid'));
}

export async function refreshTokenGrant(context: IdentityContext, client: ClientRecord, form: Record<string, string>): Promise<TokenResponse> {
  const token = required(form, 'refresh_token');
  const audience = resourceIndicator(form);
  const lookup = await context.tokens.lookupRefresh(token);
  if (lookup.state === 'invalid' || lookup.record.clientId !== client.id) throw new OAuthError('invalid_grant', 'The refresh token is invalid, expired or revoked');
  const rotated = await context.tokens.rotateRefresh(token);
  if (!rotated) throw new OAuthError('invalid_grant', 'The refresh token is invalid, expired or revoked');
  if ('reused' in rotated) throw new OAuthError('invalid_grant', 'The refresh token was already used; every token of this sign-in is now revoked');
  const pool = (await context.users.poolById(rotated.record.poolId))!;
  const user = await context.users.user(pool.id, rotated.record.username);
  if (!user || !user.enabled) throw new OAuthError('invalid_grant', 'The user is no longer allowed to sign in');
  const tokens = await issueTokens(context, {
    pool, client, user, scope: rotated.record.scope, authTime: rotated.record.authTime, family: rotated.record.family, withRefresh: false, audience,
  });
  return toOAuth({ ...tokens, RefreshToken: rotated.next }, rotated.record.scope.split(' ').includes('openid'));
}

export async function clientCredentialsGrant(context: IdentityContext, client: ClientRecord, form: Record<string, string>): Promise<TokenResponse> {
  if (!client.secret || !client.settings.allowedOAuthFlows.includes('client_credentials')) throw new OAuthError('unauthorized_client', 'This client may not use client_credentials');
  const pool = (await context.users.poolById(client.poolId))!;
  const custom = new Set(pool.settings.resourceServers.flatMap((server) => server.scopes.map((scope) => `${server.identifier}/${scope}`)));
  const allowed = client.settings.allowedOAuthScopes.filter((scope) => custom.has(scope));
  const requested = form.scope ? form.scope.split(' ').filter(Boolean) : allowed;
  const refused = requested.filter((scope) => !allowed.includes(scope));
  if (refused.length > 0) throw new OAuthError('invalid_scope', `Scope not allowed for this client: ${refused.join(' ')}`);
  if (requested.length === 0) throw new OAuthError('invalid_scope', 'client_credentials needs at least one custom scope from a resource server');
  const now = Math.floor(context.now() / 1000);
  const access = await context.minter.access({
    poolId: pool.id, issuer: context.issuer(pool.id), clientId: client.id, subject: undefined, scope: requested.join(' '), authTime: now,
    originJti: crypto.randomUUID(), lifetimeSeconds: client.settings.accessTokenSeconds, audience: resourceIndicator(form),
  });
  return { access_token: access.token, token_type: 'Bearer', expires_in: access.expiresIn };
}

/** RFC 8693: a Gatehouse service client trades a user's access token for one aimed at another audience, with `act`. */
export async function tokenExchangeGrant(context: IdentityContext, client: ClientRecord, form: Record<string, string>): Promise<TokenResponse> {
  if (!client.secret || !client.settings.allowedOAuthFlows.includes('token_exchange')) throw new OAuthError('unauthorized_client', 'This client may not use token exchange');
  const subjectToken = required(form, 'subject_token');
  const subjectType = required(form, 'subject_token_type');
  if (subjectType !== ACCESS_TOKEN_TYPE && subjectType !== JWT_TOKEN_TYPE) throw new OAuthError('invalid_request', `subject_token_type must be ${ACCESS_TOKEN_TYPE}`);
  if (form.actor_token !== undefined) throw new OAuthError('invalid_request', 'actor_token is not supported: the authenticated client is the actor');
  if (form.requested_token_type !== undefined && form.requested_token_type !== ACCESS_TOKEN_TYPE) throw new OAuthError('invalid_request', `requested_token_type must be ${ACCESS_TOKEN_TYPE}`);
  const audience = form.audience ?? resourceIndicator(form);
  if (!audience) throw new OAuthError('invalid_target', 'audience or resource is required');
  if (audience.length > 2048) throw new OAuthError('invalid_target', 'audience is too long');
  const verified = await verifyAccessToken(context, subjectToken);
  if (!verified || verified.pool.id !== client.poolId) throw new OAuthError('invalid_request', 'subject_token is not a valid, unexpired, unrevoked access token of this user pool');
  const claims = verified.claims;
  const subjectScopes = String(claims.scope ?? '').split(' ').filter(Boolean);
  const scopes = form.scope ? form.scope.split(' ').filter(Boolean) : subjectScopes;
  const widened = scopes.filter((scope) => !subjectScopes.includes(scope));
  if (widened.length > 0) throw new OAuthError('invalid_scope', `An exchanged token cannot gain scopes: ${widened.join(' ')}`);
  const remaining = Number(claims.exp) - Math.floor(context.now() / 1000);
  const lifetime = Math.min(remaining, context.exchangedTokenValiditySeconds);
  if (lifetime <= 0) throw new OAuthError('invalid_request', 'subject_token has expired');
  // A user of another issuer (user_iss) is never matched to a local user of the same name.
  const user = typeof claims.username === 'string' && claims[USER_ISSUER_CLAIM] === undefined ? await context.users.user(verified.pool.id, claims.username) : undefined;
  const groups = Array.isArray(claims['cognito:groups']) ? (claims['cognito:groups'] as unknown[]).map(String) : [];
  // a client_credentials subject has no user and stays that way
  const subject = typeof claims.username !== 'string' ? undefined
    : user && user.sub === claims.sub ? { ...(await subjectOf(context, user)), groups }
    : { sub: String(claims.sub), username: claims.username, groups, attributes: {} };
  const act: Record<string, unknown> = { sub: client.name, client_id: client.id };
  if (claims.act && typeof claims.act === 'object') act.act = claims.act;
  // A workload token keeps whom it acts for (an external issuer's user) and for which workload, hop after hop.
  const extraClaims: Record<string, unknown> = {};
  for (const name of [USER_ISSUER_CLAIM, WORKLOAD_CLAIM]) if (typeof claims[name] === 'string') extraClaims[name] = claims[name];
  const access = await context.minter.access({
    poolId: verified.pool.id, issuer: context.issuer(verified.pool.id), clientId: String(claims.client_id), subject, scope: scopes.join(' '),
    authTime: Number(claims.auth_time ?? claims.iat), originJti: String(claims.origin_jti ?? claims.jti), lifetimeSeconds: lifetime, audience, act, extraClaims,
  });
  return { access_token: access.token, issued_token_type: ACCESS_TOKEN_TYPE, token_type: 'Bearer', expires_in: lifetime, scope: scopes.join(' ') };
}
