import { createJwtAuthorizer } from '@gatehouse/auth';
import type { Clock, CustomJwtAuthorizerConfig, Logger } from '@gatehouse/core';
import type { Caller } from './caller.ts';

/** Verifies one bearer token; throws @gatehouse/auth's `AuthError` (`code`, `status`) when it must be refused. */
export interface InboundAuthorizer {
  verify(token: string): Promise<Caller>;
  close(): void;
}

/**
 * The gateway's inbound check on the shared authorizer (AgentCore customJWTAuthorizer semantics).
 * `allowedAudience` is left to the endpoint's RFC 8707 rule, which also admits tokens minted for the
 * gateway's own URL; everything else (issuer, signature, time, token_use, allowedClients, scopes,
 * custom claims, revocation) is the shared authorizer's.
 */
export function createInboundAuthorizer(
  config: CustomJwtAuthorizerConfig,
  options: { clock: Clock; logger: Logger; isRevoked?: (claims: Record<string, unknown>) => Promise<boolean> },
): InboundAuthorizer {
  const { allowedAudience: _audience, ...rest } = config;
  const authorizer = createJwtAuthorizer(rest, {
    clock: options.clock,
    logger: options.logger,
    ...(options.isRevoked ? { isRevoked: (claims: Readonly<Record<string, unknown>>) => options.isRevoked!({ ...claims }) } : {}),
  });
  return {
    async verify(token) {
      const principal = await authorizer.verify(token);
      return {
        subject: principal.subject,
        issuer: principal.issuer ?? '',
        clientId: principal.clientId,
        username: principal.username ?? principal.subject,
        scopes: principal.scopes,
        groups: principal.groups,
        claims: principal.claims,
        token,
        expiresAt: principal.expiresAt,
      };
    },
    close: () => authorizer.close(),
  };
}
