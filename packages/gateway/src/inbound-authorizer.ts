import { AuthError, USER_ISSUER_CLAIM, WORKLOAD_CLAIM, createJwtAuthorizer, type ClientAllowList, type Principal } from '@gatehouse/auth';
import type { Clock, CustomJwtAuthorizerConfig, Logger } from '@gatehouse/core';
import type { Caller } from './caller.ts';

/** Verifies one bearer token; throws @gatehouse/auth's `AuthError` (`code`, `status`) when it must be refused. */
export interface InboundAuthorizer {
  verify(token: string): Promise<Caller>;
  close(): void;
}

export interface InboundAuthorizerOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly isRevoked?: ((claims: Record<string, unknown>) => Promise<boolean>) | undefined;
  /** Fetch for discovery/JWKS: Gatehouse's own issuer documents are answered in-process. */
  readonly fetch?: typeof fetch | undefined;
  /** Live replacement of `allowedClients` (perimeter settings). */
  readonly allowedClients?: ClientAllowList | undefined;
  /**
   * Discovery URL of the issuer of workload access tokens (Gatehouse's identity). When the gateway
   * trusts another issuer, workload tokens are still accepted — as the user they carry, and only
   * when that user comes from the issuer this gateway trusts.
   */
  readonly workloadDiscoveryUrl?: string | undefined;
}

const DISCOVERY_SUFFIX = '/.well-known/openid-configuration';

/**
 * The gateway's inbound check on the shared authorizer (AgentCore customJWTAuthorizer semantics).
 * `allowedAudience` is left to the endpoint's RFC 8707 rule, which also admits tokens minted for the
 * gateway's own URL; everything else (issuer, signature, time, token_use, allowedClients, scopes,
 * custom claims, revocation) is the shared authorizer's. The caller is the user a token acts for:
 * for a workload access token of a user of another issuer, that issuer (`user_iss`) and `sub`.
 */
export function createInboundAuthorizer(config: CustomJwtAuthorizerConfig, options: InboundAuthorizerOptions): InboundAuthorizer {
  const { allowedAudience: _audience, ...rest } = config;
  const shared = {
    clock: options.clock,
    logger: options.logger,
    ...(options.isRevoked ? { isRevoked: (claims: Readonly<Record<string, unknown>>) => options.isRevoked!({ ...claims }) } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.allowedClients ? { allowedClients: options.allowedClients } : {}),
  };
  const trustedIssuer = issuerOf(config.discoveryUrl);
  const authorizer = createJwtAuthorizer(rest, shared);
  // Only needed when the gateway trusts another issuer than the one that signs workload tokens.
  const workloadIssuer = options.workloadDiscoveryUrl !== undefined && options.workloadDiscoveryUrl !== config.discoveryUrl ? issuerOf(options.workloadDiscoveryUrl) : undefined;
  const workloadAuthorizer = workloadIssuer !== undefined ? createJwtAuthorizer({ ...rest, discoveryUrl: options.workloadDiscoveryUrl! }, shared) : undefined;

  const toCaller = (principal: Principal, token: string, viaWorkloadIssuer: boolean): Caller => {
    const userIssuer = principal.claims[USER_ISSUER_CLAIM];
    const issuer = typeof userIssuer === 'string' ? userIssuer : (principal.issuer ?? '');
    // A plain token of the trusted issuer was checked by the authorizer; a workload token names its user's issuer, which must be the trusted one.
    if ((viaWorkloadIssuer || typeof userIssuer === 'string') && issuer !== trustedIssuer) {
      throw new AuthError('wrong_issuer', `This workload access token acts for a user of ${JSON.stringify(issuer.slice(0, 200))}, an issuer this gateway does not trust (its discoveryUrl names ${trustedIssuer}).`, { status: 403 });
    }
    return {
      subject: principal.subject,
      issuer,
      clientId: principal.clientId,
      username: principal.username ?? principal.subject,
      scopes: principal.scopes,
      groups: principal.groups,
      claims: principal.claims,
      token,
      expiresAt: principal.expiresAt,
    };
  };

  return {
    async verify(token) {
      if (workloadAuthorizer && unverifiedIssuer(token) === workloadIssuer) {
        const principal = await workloadAuthorizer.verify(token);
        // From Gatehouse's issuer this gateway accepts workload tokens only, never its own users' tokens.
        if (typeof principal.claims[WORKLOAD_CLAIM] !== 'string') throw new AuthError('wrong_issuer', "Claim 'iss' does not match the configured issuer.", { claim: 'iss' });
        return toCaller(principal, token, true);
      }
      return toCaller(await authorizer.verify(token), token, false);
    },
    close: () => {
      authorizer.close();
      workloadAuthorizer?.close();
    },
  };
}

/** OIDC Discovery §4.3: the document lives at `{issuer}/.well-known/openid-configuration`, and the issuer must match. */
function issuerOf(discoveryUrl: string): string {
  return discoveryUrl.endsWith(DISCOVERY_SUFFIX) ? discoveryUrl.slice(0, -DISCOVERY_SUFFIX.length) : discoveryUrl;
}

/** Routing only (which verifier to ask): the chosen verifier checks everything, including `iss`. */
function unverifiedIssuer(token: string): string | undefined {
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first < 0 || second < 0 || second - first > 16_384) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(token.slice(first + 1, second), 'base64url').toString('utf8')) as { iss?: unknown };
    return typeof payload.iss === 'string' ? payload.iss : undefined;
  } catch {
    return undefined;
  }
}
