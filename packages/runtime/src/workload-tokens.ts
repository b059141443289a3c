import { hash } from 'node:crypto';
import { requestToken, TokenCache, TokenRequestError } from '@gatehouse/auth';
import type { Clock, Logger } from '@gatehouse/core';
import { redactText } from '@gatehouse/core';
import { RuntimeError } from './runtime-error.ts';
import type { RuntimeEntry } from './runtime-registry.ts';
import type { Caller } from './inbound-auth.ts';

export interface TokenExchangeSettings {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly tokenEndpoint: string;
}

/**
 * AgentCore Identity's GetWorkloadAccessTokenForJWT in this process (Gatehouse's identity): any
 * issuer the workload's inbound authorizer trusts, no HTTP hop. Rejects with an error whose `code`
 * is an AgentCore name (`ServiceUnavailableException`, `AccessDeniedException`, …).
 */
export interface WorkloadTokenIssuer {
  workloadTokenForJwt(workloadName: string, userToken: string): Promise<{ workloadAccessToken: string; expiresIn: number }>;
}

export interface WorkloadTokenSources {
  /** Preferred: in-process minting for the runtime's own workload identity. */
  readonly issuer?: WorkloadTokenIssuer | undefined;
  /** Fallback: RFC 8693 exchange over HTTP (only tokens of Gatehouse's own pools). */
  readonly exchange?: TokenExchangeSettings | undefined;
}

export interface WorkloadTokensOptions {
  readonly sources: WorkloadTokenSources;
  /** The audience of runtimes that name none (`workloadIdentity.audience`). */
  readonly defaultAudience: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The configured runtimes: warned about at start when their agents would get no token. */
  readonly runtimes: readonly RuntimeEntry[];
}

const MAX_CACHED = 10_000;
/** Stop handing out a cached token this long before it expires, so the agent has time to use it (never past the user token it is for). */
const EXPIRY_MARGIN_MS = 60_000;

/**
 * Workload access tokens for agents, bound to (workload, user `iss` + `sub`): minted in-process by
 * the identity's workload identities (any trusted issuer), else by RFC 8693 exchange at the
 * identity's token endpoint; cached per user and audience until shortly before expiry (cacheKey).
 * A caller whose token the runtime accepted is never answered 401 for want of a workload token: an
 * unreachable identity is 503 (retry). Passthrough of the user's own token only when the runtime opts in.
 */
export class WorkloadTokens {
  readonly #issuer: WorkloadTokenIssuer | undefined;
  readonly #exchange: TokenExchangeSettings | undefined;
  readonly #defaultAudience: string;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #cache: TokenCache<string>;

  constructor(options: WorkloadTokensOptions) {
    const { sources, logger } = options;
    this.#issuer = sources.issuer;
    this.#exchange = sources.exchange;
    this.#defaultAudience = options.defaultAudience;
    this.#clock = options.clock;
    this.#logger = logger;
    this.#cache = new TokenCache({ now: options.clock, marginMs: EXPIRY_MARGIN_MS, maxEntries: MAX_CACHED });
    for (const runtime of options.runtimes) {
      if (runtime.method !== 'OAuth') continue;
      if (runtime.config.workloadIdentity.mode === 'passthrough') {
        logger.warn({ runtime: runtime.name }, "workloadIdentity.mode is 'passthrough': the agent receives the user's own access token (use only with issuers that cannot exchange tokens)");
      } else if (!sources.issuer && !sources.exchange) {
        logger.warn({ runtime: runtime.name }, 'no token exchange is configured: agents of this runtime get no workload access token');
      }
    }
  }

  async forCaller(runtime: RuntimeEntry, caller: Caller): Promise<string | undefined> {
    if (caller.bearer === undefined) return undefined;
    if (runtime.config.workloadIdentity.mode === 'passthrough') return caller.bearer;
    if (!this.#issuer && !this.#exchange) return undefined;
    const audience = runtime.config.workloadIdentity.audience ?? this.#defaultAudience;
    const key = cacheKey(runtime, audience, caller);
    return this.#cache.get(key, async () => {
      const minted = this.#issuer ? await this.#mintInProcess(this.#issuer, runtime, caller) : await this.#mint(this.#exchange!, caller, audience);
      const expiresAt = caller.principal.expiresAt;
      // never handed out past the user's own token
      return { value: minted.token, expiresAtMs: this.#clock() + minted.expiresIn * 1000, capAtMs: expiresAt === undefined ? undefined : expiresAt * 1000 };
    });
  }

  async #mintInProcess(issuer: WorkloadTokenIssuer, runtime: RuntimeEntry, caller: Caller): Promise<{ token: string; expiresIn: number }> {
    try {
      const result = await issuer.workloadTokenForJwt(runtime.name, caller.bearer!);
      return { token: result.workloadAccessToken, expiresIn: result.expiresIn };
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      const message = error instanceof Error ? error.message : String(error);
      if (code === 'AccessDeniedException') {
        this.#logger.info({ reason: message, subject: caller.label, runtime: runtime.name }, 'workload access token refused');
        throw new RuntimeError('AccessDeniedException', `No workload access token for this caller: ${message}`);
      }
      if (code === 'ValidationException' || code === 'ResourceNotFoundException') {
        this.#logger.error({ reason: message, runtime: runtime.name }, 'workload identity misconfigured');
        throw new RuntimeError('InternalServerException', `The workload identity of runtime ${runtime.name} cannot mint tokens (${message}); the agent was not called.`);
      }
      this.#logger.warn({ err: redactText(message), runtime: runtime.name }, 'workload access token not minted: identity unavailable');
      throw new RuntimeError('ServiceUnavailableException', 'The identity service could not mint a workload access token right now; the agent was not called. Retry shortly.');
    }
  }

  async #mint(exchange: TokenExchangeSettings, caller: Caller, audience: string): Promise<{ token: string; expiresIn: number }> {
    try {
      const issued = await requestToken({
        ...exchange,
        grantType: 'urn:ietf:params:oauth:grant-type:token-exchange',
        parameters: { subject_token: caller.bearer!, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', audience },
        timeoutMs: 5000,
      });
      return { token: issued.accessToken, expiresIn: issued.expiresIn ?? 300 };
    } catch (error) {
      throw this.#exchangeFailure(error instanceof TokenRequestError ? error : new TokenRequestError('unreachable', 'token exchange failed', { cause: error }), caller);
    }
  }

  /** One token-request failure → the runtime's answer: retry (503), the caller's token to refresh (401), or ours to fix (500). */
  #exchangeFailure(error: TokenRequestError, caller: Caller): RuntimeError {
    if (error.kind === 'unreachable') {
      this.#logger.error({ err: redactText(error.message) }, 'token exchange failed');
      return new RuntimeError('ServiceUnavailableException', 'Could not reach the identity service to mint a workload access token; the agent was not called. Retry shortly.');
    }
    const reason = error.error ?? `status ${error.status ?? 0}`;
    // A 400 about the subject token means the caller's token was refused by its issuer (expired
    // within our clock leeway, or revoked): that is the caller's to fix, so 401 lets clients refresh.
    if (error.kind === 'refused' && error.status === 400 && (reason === 'invalid_request' || reason === 'invalid_grant')) {
      this.#logger.info({ reason, subject: caller.label }, 'token exchange refused the caller’s token');
      return new RuntimeError('UnauthorizedException', 'Your access token was not accepted for a workload token (expired or revoked): refresh it or sign in again.', {
        headers: { 'www-authenticate': 'Bearer error="invalid_token", error_description="token expired or revoked"' },
      });
    }
    this.#logger.error({ status: error.status, reason, kind: error.kind, subject: caller.label }, 'token exchange refused');
    return new RuntimeError('InternalServerException', `The identity service refused to mint a workload access token (${error.kind === 'insecure_endpoint' ? 'insecure token endpoint' : reason.slice(0, 64)}); the agent was not called.`);
  }
}

/**
 * A workload token is the user's (`iss` + `sub`) for one runtime and audience, and it carries what
 * it was minted from: the user's sign-in (`origin_jti`, which a revocation names), client and scopes.
 * So it is reused for every token of that user, client, scopes and sign-in — a refreshed access token
 * too — but never for another user, and never past a revocation: a revoked sign-in's tokens are
 * refused before this point, and the next sign-in has another origin, hence a fresh mint. A token
 * without `origin_jti` is its own origin (its `jti`, else its hash), as the identity treats it.
 */
export function cacheKey(runtime: RuntimeEntry, audience: string, caller: Caller): string {
  const { principal } = caller;
  const claims = principal.claims;
  const origin = typeof claims.origin_jti === 'string' ? claims.origin_jti : typeof claims.jti === 'string' ? `jti:${claims.jti}` : `sha256:${hash('sha256', caller.bearer!, 'base64url')}`;
  return JSON.stringify([runtime.name, audience, principal.issuer ?? '', principal.subject, principal.clientId ?? '', principal.scopes, origin]);
}
