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
  return new CheckedJwtAuthorizer({
    config: checkedConfig,
    // Built once, not per token: the live list when given, else the config's.
    allowedClients: options.allowedClients ?? (checkedConfig.allowedClients ? new Set(checkedConfig.allowedClients) : undefined),
    liveClients: options.allowedClients !== undefined,
    settings,
    clock,
    keys,
    cache: new VerifiedTokenCache(settings.cacheSize),
    isRevoked: options.isRevoked,
  });
}

interface AuthorizerParts {
  readonly config: Readonly<CustomJwtAuthorizerConfig>;
  readonly allowedClients: ClientAllowList | undefined;
  /** The list may change while running: cache hits are checked against it again. */
  readonly liveClients: boolean;
  readonly settings: z.infer<typeof optionsSchema>;
  readonly clock: Clock;
  readonly keys: IssuerKeys;
  readonly cache: VerifiedTokenCache;
  readonly isRevoked: JwtAuthorizerOptions['isRevoked'];
}

/** The verification steps of `createJwtAuthorizer`, one method each; the verified-token cache in front. */
class CheckedJwtAuthorizer implements JwtAuthorizer {
  readonly #parts: AuthorizerParts;

  constructor(parts: AuthorizerParts) {
    this.#parts = parts;
  }

  get discoveryUrl(): string {
    return this.#parts.config.discoveryUrl;
  }

  async verify(token: string): Promise<Principal> {
    if (typeof token !== 'string' || token.length === 0) throw new AuthError('missing', 'A bearer token is required.');
    if (token.length > 16 * 1024) return this.#verifyFresh(token);
    const { cache } = this.#parts;
    const cacheKey = VerifiedTokenCache.keyOf(token);
    const cached = cache.get(cacheKey, token);
    if (cached !== undefined) {
      if (epochSeconds(this.#parts.clock) <= (cached.expiresAt ?? 0) + this.#parts.settings.clockToleranceSeconds) {
        this.#recheckClient(cached);
        // Awaited here, not in a helper: a returned promise would cost the hot path extra microtask turns.
        if (this.#parts.isRevoked) await this.#checkRevoked(cached.claims);
        return cached;
      }
      cache.delete(cacheKey, token);
    }
    const fresh = this.#verifyFresh(token);
    const principal = fresh instanceof Promise ? await fresh : fresh;
    cache.set(cacheKey, token, principal);
    return principal;
  }

  close(): void {
    this.#parts.keys.close();
    this.#parts.cache.clear();
  }

  /** A cache hit: a live allow-list may have dropped the client since the token was cached. */
  #recheckClient(cached: Principal): void {
    const { allowedClients, liveClients } = this.#parts;
    if (!liveClients || !allowedClients) return;
    try {
      checkClient(cached.claims, allowedClients);
    } catch (error) {
      if (error instanceof AuthError) error.verified = { subject: cached.subject, issuer: cached.issuer ?? '', clientId: cached.clientId };
      throw error;
    }
  }

  async #checkRevoked(claims: Readonly<Record<string, unknown>>): Promise<void> {
    if (await this.#parts.isRevoked!(claims)) throw new AuthError('revoked', 'The token has been revoked; sign in again.');
  }

  /**
   * Synchronous when the kid is already known and no deny-list is configured (the hot path): no
   * promise or microtask turn per token. Errors are thrown; `verify` turns them into rejections.
   */
  #verifyFresh(token: string): Principal | Promise<Principal> {
    const parsed = parseJwt(token);
    checkJwtHeader(parsed.header);
    const kid = parsed.header.kid as string;
    const found = this.#parts.keys.peek(kid);
    return found === undefined ? this.#lookupThenVerify(token, parsed, kid) : this.#verifyWithKey(token, parsed, found);
  }

  async #lookupThenVerify(token: string, parsed: ParsedJwt, kid: string): Promise<Principal> {
    const { issuer, result } = await this.#parts.keys.lookup(kid);
    if ('refused' in result) {
      throw result.refused === 'duplicate'
        ? new AuthError('unknown_key', "The issuer publishes header 'kid' more than once; tokens signed with it are refused.")
        : new AuthError('unknown_key', "Header 'kid' names no signing key of the configured issuer.");
    }
    return this.#verifyWithKey(token, parsed, { issuer, key: result.key });
  }

  #verifyWithKey(token: string, parsed: ParsedJwt, signer: { readonly issuer: string; readonly key: VerificationKey }): Principal | Promise<Principal> {
    const { issuer, key } = signer;
    const { payload } = parsed;
    const { config, settings, allowedClients } = this.#parts;
    const rules = { issuer, nowSeconds: epochSeconds(this.#parts.clock), toleranceSeconds: settings.clockToleranceSeconds, requireTokenUse: settings.requireTokenUse, config, allowedClients };
    const exp = verifyParsedJwt(parsed, key, rules);
    if (this.#parts.isRevoked) return this.#checkRevoked(payload).then(() => toPrincipal(payload, issuer, token, exp));
    return toPrincipal(payload, issuer, token, exp);
  }
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
