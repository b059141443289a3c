import { createHash } from 'node:crypto';
import { ASSERTED_USER_ISSUER, AuthError, createJwtAuthorizer, USER_ISSUER_CLAIM, WORKLOAD_CLAIM, type JwtAuthorizer, type Principal } from '@gatehouse/auth';
import type { CustomJwtAuthorizerConfig } from '@gatehouse/core';
import { AgentCoreIdentityError, fieldError } from './agentcore-identity-error.ts';
import { subjectOf, type IdentityContext } from './identity-context.ts';
import type { TokenSubject } from './token-minter.ts';

/** One workload identity: AgentCore creates one with each runtime, named like it. */
export interface WorkloadDefinition {
  readonly name: string;
  /** The runtime's inbound authorizer; user tokens are accepted for this workload only if it accepts them. Undefined for SigV4 runtimes. */
  readonly inbound?: CustomJwtAuthorizerConfig | undefined;
  /** Audience of the tokens minted for this workload (the gateway it calls). */
  readonly audience: string;
}

/** Who asks for a workload token: the runtime (in-process) or a SigV4 caller of the AgentCore Identity API. */
export interface WorkloadActor {
  readonly sub: string;
  readonly client_id?: string | undefined;
}

export interface WorkloadToken {
  readonly workloadAccessToken: string;
  readonly expiresIn: number;
}


const NAME = /^[A-Za-z0-9_.-]{3,255}$/;

/**
 * AgentCore Identity's workload access tokens. A token is bound to (workload, user `iss` + `sub`)
 * and is issued for any user token that verifies under that workload's own inbound authorizer —
 * Gatehouse's issuer or any other trusted by discovery URL. Tokens are signed by this Gatehouse's
 * default pool (or the user's own pool), aimed at the workload's audience, and carry `act`.
 */
export class WorkloadIdentities {
  readonly #context: IdentityContext;
  readonly #fetch: typeof fetch;
  readonly #isRevoked: (claims: Record<string, unknown>) => Promise<boolean>;
  #workloads = new Map<string, { definition: WorkloadDefinition; authorizer: JwtAuthorizer | undefined }>();

  constructor(context: IdentityContext, options: { fetch: typeof fetch; isRevoked: (claims: Record<string, unknown>) => Promise<boolean> }) {
    this.#context = context;
    this.#fetch = options.fetch;
    this.#isRevoked = options.isRevoked;
  }

  /** Replaces the set of workloads (one per runtime); called once the runtimes are known. */
  register(definitions: readonly WorkloadDefinition[]): void {
    const next = new Map<string, { definition: WorkloadDefinition; authorizer: JwtAuthorizer | undefined }>();
    for (const definition of definitions) {
      const authorizer = definition.inbound
        ? createJwtAuthorizer(definition.inbound, {
            clock: this.#context.now,
            fetch: this.#fetch,
            logger: this.#context.logger,
            isRevoked: (claims) => this.#isRevoked({ ...claims }),
          })
        : undefined;
      next.set(definition.name, { definition, authorizer });
    }
    const previous = this.#workloads;
    this.#workloads = next;
    for (const entry of previous.values()) entry.authorizer?.close();
  }

  names(): string[] {
    return [...this.#workloads.keys()];
  }

  /** GetWorkloadAccessTokenForJWT: the user token must pass the workload's own inbound authorizer. */
  async forJwt(workloadName: string, userToken: unknown, actor: WorkloadActor): Promise<WorkloadToken> {
    const { definition, principal } = await this.#verifyUserToken(workloadName, userToken);
    return this.#mintForUser(definition, principal, actor);
  }

  /** The user (`iss` + `sub`) of a user token that the workload's own inbound authorizer accepts (CompleteResourceTokenAuth). */
  async verifyUser(workloadName: string, userToken: unknown): Promise<{ iss: string; sub: string }> {
    const { principal } = await this.#verifyUserToken(workloadName, userToken);
    return { iss: principal.issuer ?? '', sub: principal.subject };
  }

  /** Whether a workload identity of this name is registered. */
  has(workloadName: string): boolean {
    return this.#workloads.has(workloadName);
  }

  async #verifyUserToken(workloadName: string, userToken: unknown): Promise<{ definition: WorkloadDefinition; principal: Principal }> {
    const { definition, authorizer } = this.#find(workloadName);
    if (typeof userToken !== 'string' || userToken.length === 0) throw fieldError('userToken', 'is required');
    if (userToken.length > 16_384) throw fieldError('userToken', 'must be at most 16384 characters');
    if (!authorizer) {
      throw new AgentCoreIdentityError('ValidationException', `Workload ${workloadName} has no JWT authorizer (its runtime takes SigV4); use GetWorkloadAccessTokenForUserId.`);
    }
    let principal: Principal;
    try {
      principal = await authorizer.verify(userToken);
    } catch (error) {
      if (error instanceof AuthError) {
        if (error.status === 503) throw new AgentCoreIdentityError('ServiceUnavailableException', `The issuer of workload ${workloadName} could not be reached to verify the user token; retry shortly.`);
        throw new AgentCoreIdentityError('AccessDeniedException', `The user token is not accepted by workload ${workloadName}'s authorizer: ${error.message}`);
      }
      throw error;
    }
    if (principal.claims[WORKLOAD_CLAIM] !== undefined) {
      throw new AgentCoreIdentityError('AccessDeniedException', 'userToken is a workload access token; send the user’s own access token.');
    }
    return { definition, principal };
  }

  /** GetWorkloadAccessTokenForUserId: the caller asserts the user id (a sensitive permission). */
  async forUserId(workloadName: string, userId: unknown, actor: WorkloadActor): Promise<WorkloadToken> {
    const { definition } = this.#find(workloadName);
    if (typeof userId !== 'string' || userId.length === 0 || userId.length > 128) throw fieldError('userId', 'must be 1–128 characters');
    const subject: TokenSubject = { sub: userId, username: userId, groups: [], attributes: {} };
    return this.#mint(definition, { subject, clientId: actor.client_id ?? actor.sub, scope: '', userIssuer: ASSERTED_USER_ISSUER, originJti: randomOrigin(), authTime: undefined, lifetimeSeconds: undefined }, actor);
  }

  /** GetWorkloadAccessToken: the workload acting as itself, for no user. */
  async forWorkload(workloadName: string, actor: WorkloadActor): Promise<WorkloadToken> {
    const { definition } = this.#find(workloadName);
    return this.#mint(definition, { subject: undefined, clientId: definition.name, scope: '', userIssuer: undefined, originJti: randomOrigin(), authTime: undefined, lifetimeSeconds: undefined }, actor);
  }

  close(): void {
    for (const entry of this.#workloads.values()) entry.authorizer?.close();
    this.#workloads.clear();
  }

  #find(workloadName: unknown): { definition: WorkloadDefinition; authorizer: JwtAuthorizer | undefined } {
    if (typeof workloadName !== 'string' || workloadName.length === 0) throw fieldError('workloadName', 'is required');
    if (!NAME.test(workloadName)) throw fieldError('workloadName', 'must be 3–255 characters of letters, digits, _ . -');
    const entry = this.#workloads.get(workloadName);
    if (!entry) {
      const known = this.names();
      throw new AgentCoreIdentityError('ResourceNotFoundException', `No workload identity named ${workloadName}${known.length > 0 ? ` (known: ${known.slice(0, 10).join(', ')})` : ''}.`);
    }
    return entry;
  }

  async #mintForUser(definition: WorkloadDefinition, principal: Principal, actor: WorkloadActor): Promise<WorkloadToken> {
    const claims = principal.claims;
    const issuer = principal.issuer ?? '';
    const ownPool = await this.#ownPool(issuer);
    let subject: TokenSubject;
    if (ownPool) {
      const user = principal.username === undefined ? undefined : await this.#context.users.user(ownPool, principal.username);
      subject = user && user.sub === principal.subject ? { ...(await subjectOf(this.#context, user)), groups: [...principal.groups] } : { sub: principal.subject, username: principal.username ?? principal.subject, groups: [...principal.groups], attributes: {} };
    } else {
      subject = { sub: principal.subject, username: principal.username ?? principal.subject, groups: [...principal.groups], attributes: {} };
    }
    const audience = claims.aud;
    const clientId = principal.clientId ?? (typeof audience === 'string' ? audience : Array.isArray(audience) && typeof audience[0] === 'string' ? audience[0] : issuer);
    const remaining = (principal.expiresAt ?? 0) - Math.floor(this.#context.now() / 1000);
    if (remaining <= 0) throw new AgentCoreIdentityError('AccessDeniedException', 'The user token has expired; the user must refresh it.');
    const origin = typeof claims.origin_jti === 'string' ? claims.origin_jti : typeof claims.jti === 'string' ? claims.jti : digest(principal.token ?? principal.subject);
    const authTime = typeof claims.auth_time === 'number' ? claims.auth_time : typeof claims.iat === 'number' ? claims.iat : undefined;
    return this.#mint(definition, {
      subject, clientId, scope: principal.scopes.join(' '), userIssuer: ownPool ? undefined : issuer, originJti: origin, authTime, lifetimeSeconds: remaining,
      poolId: ownPool,
    }, actor);
  }

  async #mint(
    definition: WorkloadDefinition,
    request: {
      subject: TokenSubject | undefined; clientId: string; scope: string; userIssuer: string | undefined; originJti: string;
      authTime: number | undefined; lifetimeSeconds: number | undefined; poolId?: string | undefined;
    },
    actor: WorkloadActor,
  ): Promise<WorkloadToken> {
    const context = this.#context;
    const poolId = request.poolId ?? context.defaultPoolId;
    const lifetime = Math.min(request.lifetimeSeconds ?? context.exchangedTokenValiditySeconds, context.exchangedTokenValiditySeconds);
    const extraClaims: Record<string, unknown> = { [WORKLOAD_CLAIM]: definition.name };
    if (request.userIssuer !== undefined) extraClaims[USER_ISSUER_CLAIM] = request.userIssuer;
    const act: Record<string, unknown> = { sub: actor.sub };
    if (actor.client_id !== undefined) act.client_id = actor.client_id;
    const access = await context.minter.access({
      poolId,
      issuer: context.issuer(poolId),
      clientId: request.clientId,
      subject: request.subject,
      scope: request.scope,
      authTime: request.authTime ?? Math.floor(context.now() / 1000),
      originJti: request.originJti,
      lifetimeSeconds: lifetime,
      audience: definition.audience,
      act,
      extraClaims,
    });
    return { workloadAccessToken: access.token, expiresIn: access.expiresIn };
  }

  /** The pool id when `issuer` is one of this Gatehouse's own pools. */
  async #ownPool(issuer: string): Promise<string | undefined> {
    const poolId = issuer.slice(issuer.lastIndexOf('/') + 1);
    return await this.#context.users.poolById(poolId) && this.#context.issuer(poolId) === issuer ? poolId : undefined;
  }
}

function randomOrigin(): string {
  return crypto.randomUUID();
}

/** Stable origin id for an external token without `jti`, so revocations of the same token line up. */
function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url').slice(0, 32);
}
