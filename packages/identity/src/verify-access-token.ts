import { createLocalJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import type { IdentityContext } from './identity-context.ts';
import type { PoolRecord } from './user-store.ts';

export interface VerifiedAccessToken {
  readonly pool: PoolRecord;
  readonly claims: JWTPayload & Record<string, unknown>;
}

/**
 * Verifies one of our own access tokens (signature by the pool's published keys, RS256 only, exp,
 * iss, token_use, not revoked). Returns undefined for anything else, so callers pick their own error.
 */
export async function verifyAccessToken(context: IdentityContext, token: string): Promise<VerifiedAccessToken | undefined> {
  if (token.length > 16_384) return undefined;
  let issuer: unknown;
  try {
    issuer = decodeJwt(token).iss;
  } catch {
    return undefined;
  }
  if (typeof issuer !== 'string') return undefined;
  const poolId = issuer.slice(issuer.lastIndexOf('/') + 1);
  const pool = await context.users.poolById(poolId);
  if (!pool || context.issuer(pool.id) !== issuer) return undefined;
  try {
    const keys = createLocalJWKSet({ keys: (await context.keys.publicKeys(pool.id)).map((key) => ({ ...key })) });
    const { payload } = await jwtVerify(token, keys, {
      issuer, algorithms: ['RS256'], requiredClaims: ['exp', 'iat', 'sub'], currentDate: new Date(context.now()),
    });
    if (payload.token_use !== 'access') return undefined;
    if (typeof payload.origin_jti === 'string' && await context.tokens.isRevokedOrigin(payload.origin_jti)) return undefined;
    return { pool, claims: payload as JWTPayload & Record<string, unknown> };
  } catch {
    return undefined;
  }
}
