import type { Platform } from '@gatehouse/core';
import { buildRuntime, type RuntimeService } from './create-runtime.ts';
import type { SigV4Key } from '@gatehouse/auth';
import { createSigV4Check } from './sigv4-check.ts';
import type { WorkloadTokenIssuer } from './workload-tokens.ts';
import type { PerimeterSource } from './runtime-registry.ts';

export { RuntimeError } from './runtime-error.ts';
export type { RuntimeErrorCode } from './runtime-error.ts';
export { runtimeArn } from './runtime-registry.ts';
export { PROTOCOL_CONTRACTS } from './runtime-protocols.ts';
export type { ProtocolContract } from './runtime-protocols.ts';
export { probeAgentInSandbox } from './probe-agent.ts';
export type { ProbeAgentOptions } from './probe-agent.ts';
export type { OriginSet, PerimeterSource } from './runtime-registry.ts';
export type { AddedRuntime, RuntimeService } from './create-runtime.ts';
export type { RuntimeStats } from './session-manager.ts';
export type { WorkloadTokenIssuer } from './workload-tokens.ts';

export interface RuntimeDeps {
  /** SigV4 keys (admin keys from identity); needed for runtimes without authorizerConfiguration. */
  lookupAccessKey(accessKeyId: string): Promise<SigV4Key | undefined>;
  /** RFC 8693 exchange at the identity service (client_secret_basic). Absent → only 'passthrough' runtimes give agents a WAT. */
  tokenExchange?: { clientId: string; clientSecret: string; tokenEndpoint: string };
  /**
   * In-process GetWorkloadAccessTokenForJWT (Gatehouse's identity in this process): preferred over
   * `tokenExchange`, and the only way for users of another issuer to get a workload token.
   */
  workloadIdentity?: WorkloadTokenIssuer;
  /** Live client and origin lists per runtime (identity's perimeter settings). */
  perimeter?: PerimeterSource;
  /** Fetch for the authorizers' discovery/JWKS; Gatehouse passes its in-process issuer documents. */
  fetch?: typeof fetch;
  /** Audience for workload access tokens when the runtime config doesn't name one, e.g. `${baseUrl}/mcp`. */
  defaultWorkloadAudience: string;
  isRevoked?(claims: Record<string, unknown>): Promise<boolean>;
  /** This instance's own reachable URL, when several instances share `platform.store`. */
  instanceUrl?: string;
}

/** Optional knobs beyond the wired API (tests and benches). */
export interface RuntimeOptions {
  /** How often idle/lifetime reaping runs; default 5000 ms. */
  readonly reapIntervalMs?: number;
  /** How long close() waits for in-flight requests; default 10 000 ms. */
  readonly drainTimeoutMs?: number;
}

export async function createRuntime(platform: Platform, deps: RuntimeDeps, options: RuntimeOptions = {}): Promise<RuntimeService> {
  return buildRuntime(platform, {
    sigv4: createSigV4Check({ region: platform.config.region, clock: platform.clock, lookupAccessKey: (id) => deps.lookupAccessKey(id) }),
    isRevoked: deps.isRevoked ? (claims) => deps.isRevoked!(claims) : undefined,
    tokenExchange: deps.tokenExchange,
    workloadIdentity: deps.workloadIdentity,
    perimeter: deps.perimeter,
    fetch: deps.fetch,
    defaultWorkloadAudience: deps.defaultWorkloadAudience,
    instanceUrl: deps.instanceUrl,
    ...(options.reapIntervalMs !== undefined ? { reapIntervalMs: options.reapIntervalMs } : {}),
    ...(options.drainTimeoutMs !== undefined ? { drainTimeoutMs: options.drainTimeoutMs } : {}),
  });
}
