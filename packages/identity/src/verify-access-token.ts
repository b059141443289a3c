import { importVerificationKey, verifyJwt, type JwsAlgorithm, type VerificationKey } from '@gatehouse/auth';
import { epochSeconds } from '@gatehouse/core';
import type { IdentityContext } from './identity-context.ts';
import type { PoolRecord } from './user-store.ts';

export interface VerifiedAccessToken {
  readonly pool: PoolRecord;
  readonly claims: Readonly<Record<string, unknown>>;
}

/** Our own tokens are signed RS256 only, and verified without leeway: the issuer and the verifier share one clock. */
const ALGORITHMS: ReadonlySet<JwsAlgorithm> = new Set(['RS256']);

/**
 * Verifies one of our own access tokens with `@gatehouse/auth`'s one JWT check (signature by the pool's published
 * keys, RS256 only, exp, iss, token_use) plus what only identity knows: `iat` present, not revoked. Returns undefined
 * for anything else, so callers pick their own error.
 */
export async function verifyAccessToken(context: IdentityContext, token: string): Promise<VerifiedAccessToken | undefined> {
  const pool = await poolOf(context, token);
  if (pool === undefined) return undefined;
  try {
    const { claims } = await verifyOwnJwt(context, token, { pool, requireTokenUse: 'access' });
    if (claims.token_use !== 'access' || typeof claims.iat !== 'number') return undefined;
    if (typeof claims.origin_jti === 'string' && await context.tokens.isRevokedOrigin(claims.origin_jti)) return undefined;
    return { pool, claims };
  } catch {
    return undefined;
  }
}

/**
 * One of our own JWTs (any kind) from `pool`, checked by `@gatehouse/auth`'s one JWT check against the pool's
 * published keys: RS256 only, no leeway, `iss` the pool's issuer. Throws AuthError.
 */
export async function verifyOwnJwt(
  context: IdentityContext,
  token: string,
  options: { readonly pool: PoolRecord; readonly requireTokenUse: 'access' | false; readonly acceptExpired?: boolean },
): Promise<{ readonly claims: Readonly<Record<string, unknown>> }> {
  const keys = (await context.keys.publicKeys(options.pool.id)).map((jwk) => importVerificationKey({ ...jwk })).filter((key): key is VerificationKey => key !== undefined);
  const rules = { issuer: context.issuer(options.pool.id), nowSeconds: epochSeconds(context.now), toleranceSeconds: 0, requireTokenUse: options.requireTokenUse, acceptExpired: options.acceptExpired, algorithms: ALGORITHMS };
  return verifyJwt(token, keys, rules);
}

/** The pool a token claims to come from (by its unverified `iss`), when that pool exists and is ours. */
export async function poolOf(context: IdentityContext, token: string): Promise<PoolRecord | undefined> {
  if (token.length > 16_384) return undefined;
  const payload = token.split('.')[1];
  let issuer: unknown;
  try {
    issuer = (JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as { iss?: unknown }).iss;
  } catch {
    return undefined;
  }
  if (typeof issuer !== 'string') return undefined;
  const pool = await context.users.poolById(issuer.slice(issuer.lastIndexOf('/') + 1));
  return pool && context.issuer(pool.id) === issuer ? pool : undefined;
}
