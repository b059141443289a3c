import { customJwtAuthorizerSchema, epochSeconds, systemClock, type Clock, type CustomJwtAuthorizerConfig, type Logger } from '@gatehouse/core';
import { z } from 'zod';
import { AuthError } from './auth-error.ts';
import { checkClient, clientOf, grantedScopes, type ClientAllowList } from './check-claims.ts';
import { IssuerKeys } from './issuer-keys.ts';
import type { VerificationKey } from './jwk-key.ts';
import { parseJwt, type ParsedJwt } from './parse-jwt.ts';
import type { Principal } from './principal.ts';
import { VerifiedTokenCache } from './verified-token-cache.ts';
import { checkJwtHeader, verifyParsedJwt } from './verify-jwt.ts';

export interface JwtAuthorizerOptions {
  clock?: Clock;
  fetch?: typeof fetch;
  /** Symmetric leeway for exp/nbf/iat; default 60, max 300. */
  clockToleranceSeconds?: number;
  /** Deny-list hook (e.g. by `origin_jti`), consulted on every call including cache hits. */
  isRevoked?: (claims: Readonly<Record<string, unknown>>) => Promise<boolean>;
  /** Minimum time between JWKS reloads caused by unknown kids; default 30. */
  jwksCooldownSeconds?: number;
  /** Keys older than this are refreshed in the background; default 600. */
  jwksMaxAgeSeconds?: number;
  /** Per request to the issuer; default 5000. */
  timeoutMs?: number;
  /** Default 'access'; false accepts any token kind (only for issuers that mark none). */
  requireTokenUse?: 'access' | false;
  /** Verified-token cache entries; default 10 000, 0 disables. */
  cacheSize?: number;
  logger?: Logger;
  /**
   * Replaces the config's `allowedClients` with a list that may change while the server runs (live
   * perimeter settings); consulted on every call, cache hits included.
   */
  allowedClients?: ClientAllowList;
}

export interface JwtAuthorizer {
  verify(token: string): Promise<Principal>;
  readonly discoveryUrl: string;
  close(): void;
}

const optionsSchema = z.object({
  clockToleranceSeconds: z.number().int().min(0).max(300).default(60),
  jwksCooldownSeconds: z.number().min(0).max(3600).default(30),
  jwksMaxAgeSeconds: z.number().min(1).max(86_400).default(600),
  timeoutMs: z.number().int().min(1).max(60_000).default(5000),
  requireTokenUse: z.union([z.literal('access'), z.literal(false)]).default('access'),
  cacheSize: z.number().int().min(0).max(1_000_000).default(10_000),
});

/**
 * AgentCore `customJWTAuthorizer` semantics for any OIDC issuer. Verification order: strict parse →
 * key by `kid` from the configured issuer only → algorithm pinned by that key → signature with
 * node:crypto → time, issuer, token kind (401) → client, audience, scopes, custom claims (403) → revocation.
 */
export function createJwtAuthorizer(config: CustomJwtAuthorizerConfig, options: JwtAuthorizerOptions = {}): JwtAuthorizer {
  const checkedConfig = Object.freeze(customJwtAuthorizerSchema.parse(config));
  // Built once, not per token: the live list when given, else the config's.
  const allowedClients: ClientAllowList | undefined = options.allowedClients ?? (checkedConfig.allowedClients ? new Set(checkedConfig.allowedClients) : undefined);
  const settings = optionsSchema.parse({
    clockToleranceSeconds: options.clockToleranceSeconds,
    jwksCooldownSeconds: options.jwksCooldownSeconds,
    jwksMaxAgeSeconds: options.jwksMaxAgeSeconds,
    timeoutMs: options.timeoutMs,
    requireTokenUse: options.requireTokenUse,
    cacheSize: options.cacheSize,
  });
  const clock = options.clock ?? systemClock;
  const keys = new IssuerKeys({
    discoveryUrl: checkedConfig.discoveryUrl,
    clock,
    fetch: options.fetch ?? globalThis.fetch,
    cooldownMs: settings.jwksCooldownSeconds * 1000,
    maxAgeMs: settings.jwksMaxAgeSeconds * 1000,
    timeoutMs: settings.timeoutMs,
    logger: options.logger,
  });
  const cache = new VerifiedTokenCache(settings.cacheSize);

  async function checkRevoked(claims: Readonly<Record<string, unknown>>): Promise<void> {
    if (options.isRevoked && (await options.isRevoked(claims))) {
      throw new AuthError('revoked', 'The token has been revoked; sign in again.');
    }
  }

  /**
   * Synchronous when the kid is already known and no deny-list is configured (the hot path): no
   * promise or microtask turn per token. Errors are thrown; `verify` turns them into rejections.
   */
  function verifyFresh(token: string): Principal | Promise<Principal> {
    const parsed = parseJwt(token);
    checkJwtHeader(parsed.header);
    const kid = parsed.header.kid as string;
    const found = keys.peek(kid);
    return found === undefined ? lookupThenVerify(token, parsed, kid) : verifyWithKey(token, parsed, found.issuer, found.key);
  }

  async function lookupThenVerify(token: string, parsed: ParsedJwt, kid: string): Promise<Principal> {
    const { issuer, result } = await keys.lookup(kid);
    if ('refused' in result) {
      throw result.refused === 'duplicate'
        ? new AuthError('unknown_key', "The issuer publishes header 'kid' more than once; tokens signed with it are refused.")
        : new AuthError('unknown_key', "Header 'kid' names no signing key of the configured issuer.");
    }
    return verifyWithKey(token, parsed, issuer, result.key);
  }

  function verifyWithKey(token: string, parsed: ParsedJwt, issuer: string, key: VerificationKey): Principal | Promise<Principal> {
    const { payload } = parsed;
    const rules = { issuer, nowSeconds: epochSeconds(clock), toleranceSeconds: settings.clockToleranceSeconds, requireTokenUse: settings.requireTokenUse, config: checkedConfig, allowedClients };
    const exp = verifyParsedJwt(parsed, key, rules);
    if (options.isRevoked) return checkRevoked(payload).then(() => toPrincipal(payload, issuer, token, exp));
    return toPrincipal(payload, issuer, token, exp);
  }

  return {
    discoveryUrl: checkedConfig.discoveryUrl,
    async verify(token: string): Promise<Principal> {
      if (typeof token !== 'string' || token.length === 0) throw new AuthError('missing', 'A bearer token is required.');
      if (token.length > 16 * 1024) return verifyFresh(token);
      const cacheKey = VerifiedTokenCache.keyOf(token);
      const cached = cache.get(cacheKey, token);
      if (cached !== undefined) {
        if (epochSeconds(clock) <= (cached.expiresAt ?? 0) + settings.clockToleranceSeconds) {
          // A live allow-list may have dropped the client since the token was cached.
          if (options.allowedClients) {
            try {
              checkClient(cached.claims, options.allowedClients);
            } catch (error) {
              if (error instanceof AuthError) error.verified = { subject: cached.subject, issuer: cached.issuer ?? '', clientId: cached.clientId };
              throw error;
            }
          }
          if (options.isRevoked) await checkRevoked(cached.claims);
          return cached;
        }
        cache.delete(cacheKey, token);
      }
      const fresh = verifyFresh(token);
      const principal = fresh instanceof Promise ? await fresh : fresh;
      cache.set(cacheKey, token, principal);
      return principal;
    },
    close(): void {
      keys.close();
      cache.clear();
    },
  };
}

const noPermissions: readonly string[] = Object.freeze([]);

/** Cached principals are shared between callers, so nothing reachable from them may be mutated. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

function toPrincipal(payload: Readonly<Record<string, unknown>>, issuer: string, token: string, exp: number): Principal {
  const stringOf = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  const clientId = clientOf(payload);
  const username = stringOf(payload.username) ?? stringOf(payload['cognito:username']) ?? stringOf(payload.preferred_username);
  const groups = Array.isArray(payload['cognito:groups']) ? payload['cognito:groups'].filter((group): group is string => typeof group === 'string') : [];
  const scopes = grantedScopes(payload);
  const principal: { -readonly [K in keyof Principal]: Principal[K] } = {
    method: 'jwt',
    subject: payload.sub as string,
    issuer,
    scopes: Object.freeze(scopes),
    groups: Object.freeze(groups),
    claims: deepFreeze(payload),
    token,
    expiresAt: exp,
    permissions: noPermissions,
  };
  if (clientId !== undefined) principal.clientId = clientId;
  if (username !== undefined) principal.username = username;
  return Object.freeze(principal);
}
