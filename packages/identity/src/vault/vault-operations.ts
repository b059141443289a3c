import { USER_ISSUER_CLAIM, WORKLOAD_CLAIM, ASSERTED_USER_ISSUER } from '@gatehouse/auth';
import { AgentCoreIdentityError, fieldError } from '../agentcore-identity-error.ts';
import type { IdentityContext } from '../identity-context.ts';
import { verifyAccessToken } from '../verify-access-token.ts';
import type { WorkloadIdentities } from '../workload-identities.ts';
import type { TokenVault } from './token-vault.ts';
import type { VaultUser } from './vault-store.ts';

export interface VaultOperationDeps {
  readonly context: IdentityContext;
  readonly workloads: WorkloadIdentities;
  readonly vault: TokenVault;
}

type Input = Record<string, unknown>;

/** The workload and user a workload access token was minted for (this Gatehouse's own signature, unrevoked). */
export async function verifyWorkloadToken(deps: VaultOperationDeps, token: unknown): Promise<{ workload: string; user: VaultUser | undefined }> {
  if (typeof token !== 'string' || token.length === 0) throw fieldError('workloadIdentityToken', 'is required');
  const verified = await verifyAccessToken(deps.context, token);
  const workload = verified?.claims[WORKLOAD_CLAIM];
  if (!verified || typeof workload !== 'string') {
    throw new AgentCoreIdentityError('AccessDeniedException', 'workloadIdentityToken is not a valid, unexpired workload access token of this Gatehouse; get one with GetWorkloadAccessToken*.');
  }
  if (!deps.workloads.has(workload)) throw new AgentCoreIdentityError('ResourceNotFoundException', `Workload identity ${workload} no longer exists.`);
  return { workload, user: userOf(verified.claims) };
}

/** The user a (workload) access token speaks for: `user_iss` (another issuer, or an asserted id) else the token's own `iss`. */
export function userOf(claims: Record<string, unknown>): VaultUser | undefined {
  // tokens minted for the workload alone carry no username
  if (claims.username === undefined || typeof claims.sub !== 'string') return undefined;
  const iss = typeof claims[USER_ISSUER_CLAIM] === 'string' ? (claims[USER_ISSUER_CLAIM] as string) : String(claims.iss);
  return { iss, sub: claims.sub };
}

function providerName(input: Input): string {
  const value = input.resourceCredentialProviderName;
  if (typeof value !== 'string' || !/^[a-zA-Z0-9_-]{1,128}$/.test(value)) throw fieldError('resourceCredentialProviderName', 'must be 1–128 letters, digits, _ or -');
  return value;
}

function scopes(input: Input): string[] {
  const value = input.scopes;
  if (!Array.isArray(value) || value.length > 100 || !value.every((scope) => typeof scope === 'string' && scope.length > 0 && scope.length <= 128 && !/\s/.test(scope))) {
    throw fieldError('scopes', 'must be a list of up to 100 scope strings without spaces');
  }
  return value as string[];
}

function optionalString(input: Input, field: string, max: number): string | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > max) throw fieldError(field, `must be 1–${max} characters`);
  return value;
}

function customParameters(input: Input): Record<string, string> | undefined {
  const value = input.customParameters;
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value) || Object.keys(value).length > 20 || !Object.values(value).every((entry) => typeof entry === 'string' && entry.length <= 2048)) {
    throw fieldError('customParameters', 'must map up to 20 names to strings');
  }
  return value as Record<string, string>;
}

export async function getResourceOauth2Token(deps: VaultOperationDeps, input: Input): Promise<Record<string, unknown>> {
  const { workload, user } = await verifyWorkloadToken(deps, input.workloadIdentityToken);
  const flow = input.oauth2Flow;
  if (flow !== 'USER_FEDERATION' && flow !== 'M2M') throw fieldError('oauth2Flow', 'must be USER_FEDERATION or M2M');
  if (input.forceAuthentication !== undefined && typeof input.forceAuthentication !== 'boolean') throw fieldError('forceAuthentication', 'must be a boolean');
  const answer = await deps.vault.token({
    workload, user, flow, provider: providerName(input), scopes: scopes(input),
    returnUrl: optionalString(input, 'resourceOauth2ReturnUrl', 2048),
    allowedReturnUrls: deps.vault.allowedReturnUrls(workload),
    forceAuthentication: input.forceAuthentication === true,
    sessionUri: optionalString(input, 'sessionUri', 1024),
    customState: optionalString(input, 'customState', 4096),
    customParameters: customParameters(input),
  });
  return { ...answer };
}

export async function getResourceApiKey(deps: VaultOperationDeps, input: Input): Promise<Record<string, unknown>> {
  await verifyWorkloadToken(deps, input.workloadIdentityToken);
  return { apiKey: await deps.vault.apiKey(providerName(input)) };
}

/** CompleteResourceTokenAuth: the user is named by their own token (checked by the workload's authorizer) or, for ForUserId workloads, by id. */
export async function completeResourceTokenAuth(deps: VaultOperationDeps, input: Input): Promise<Record<string, unknown>> {
  const sessionUri = optionalString(input, 'sessionUri', 1024);
  if (!sessionUri) throw fieldError('sessionUri', 'is required');
  const identifier = input.userIdentifier;
  if (!identifier || typeof identifier !== 'object' || Array.isArray(identifier)) throw fieldError('userIdentifier', 'must be {userToken} or {userId}');
  const { userToken, userId } = identifier as Input;
  if ((userToken === undefined) === (userId === undefined)) throw fieldError('userIdentifier', 'must hold exactly one of userToken and userId');
  await deps.vault.complete(sessionUri, async (workload) => {
    if (userToken !== undefined) return deps.workloads.verifyUser(workload, userToken);
    if (typeof userId !== 'string' || userId.length === 0 || userId.length > 128) throw fieldError('userIdentifier.userId', 'must be 1–128 characters');
    return { iss: ASSERTED_USER_ISSUER, sub: userId };
  });
  return {};
}
