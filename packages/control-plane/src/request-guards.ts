import { createHash } from 'node:crypto';
import type { ControlPlaneConfig } from '@gatehouse/core';
import { ControlPlaneError } from './control-plane-error.ts';
import type { OperationResult } from './control-plane-context.ts';
import type { ResourceStore } from './resource-store.ts';

/**
 * What the control plane checks around an operation, as AWS does: a per-caller request rate (ThrottlingException),
 * resource counts (ServiceQuotaExceededException) and idempotent `clientToken`s (the same token and input answer the
 * first call's response again; the same token with other input is a ConflictException).
 */

/** A token bucket per caller: `ratePerSecond` refilled, up to `burst` at once. */
export class CallerRateLimiter {
  readonly #rate: number;
  readonly #burst: number;
  readonly #clock: () => number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(options: { readonly ratePerSecond: number; readonly burst: number; readonly clock: () => number }) {
    this.#rate = options.ratePerSecond;
    this.#burst = options.burst;
    this.#clock = options.clock;
  }

  /** Takes one request of the caller's allowance, or throws ThrottlingException. */
  take(caller: string): void {
    const now = this.#clock();
    const bucket = this.#buckets.get(caller) ?? { tokens: this.#burst, at: now };
    bucket.tokens = Math.min(this.#burst, bucket.tokens + ((now - bucket.at) / 1000) * this.#rate);
    bucket.at = now;
    // Callers are admin keys, few; the map is still bounded (the oldest caller is forgotten, i.e. refilled).
    this.#buckets.delete(caller);
    if (this.#buckets.size >= 10_000) this.#buckets.delete(this.#buckets.keys().next().value!);
    this.#buckets.set(caller, bucket);
    if (bucket.tokens < 1) {
      throw new ControlPlaneError('ThrottlingException', `Rate exceeded: more than ${this.#rate} requests per second from ${caller} (gatehouse.yaml controlPlane.requestsPerSecondPerCaller); retry with backoff`);
    }
    bucket.tokens -= 1;
  }
}

type Quotas = ControlPlaneConfig['quotas'];

/** Per operation: which quota a Create counts against, and how many exist now. */
const COUNTED: Readonly<Record<string, { readonly quota: keyof Quotas; readonly what: string; readonly count: (store: ResourceStore, params: Readonly<Record<string, string>>) => Promise<number> }>> = {
  CreateAgentRuntime: { quota: 'agentRuntimes', what: 'agent runtimes', count: async (store) => (await store.list('runtime')).length },
  CreateAgentRuntimeEndpoint: {
    quota: 'endpointsPerRuntime',
    what: 'endpoints on this runtime (DEFAULT included)',
    count: async (store, params) => {
      const id = params.agentRuntimeId ?? '';
      return (await store.list('runtime-endpoint', (await store.byName('runtime', id))?.id ?? id)).length;
    },
  },
  CreateGateway: { quota: 'gateways', what: 'gateways', count: async (store) => (await store.list('gateway')).length },
  CreateGatewayTarget: { quota: 'targetsPerGateway', what: 'targets on this gateway', count: async (store, params) => (await store.list('gateway-target', params.gatewayIdentifier ?? '')).length },
  CreateWorkloadIdentity: { quota: 'workloadIdentities', what: 'workload identities', count: async (store) => (await store.list('workload-identity')).length },
  CreateOauth2CredentialProvider: { quota: 'credentialProviders', what: 'credential providers', count: countProviders },
  CreateApiKeyCredentialProvider: { quota: 'credentialProviders', what: 'credential providers', count: countProviders },
};

async function countProviders(store: ResourceStore): Promise<number> {
  return (await store.list('oauth2-credential-provider')).length + (await store.list('api-key-credential-provider')).length;
}

/** Refuses a Create that would pass its quota. */
export async function checkQuota(store: ResourceStore, quotas: Quotas, operation: string, params: Readonly<Record<string, string>>): Promise<void> {
  const counted = COUNTED[operation];
  if (!counted) return;
  const limit = quotas[counted.quota];
  if ((await counted.count(store, params)) >= limit) {
    throw new ControlPlaneError('ServiceQuotaExceededException', `Quota exceeded: at most ${limit} ${counted.what} (gatehouse.yaml controlPlane.quotas.${counted.quota}); delete one, or raise the quota`);
  }
}

/** How long a clientToken is remembered (AWS: the token makes a request idempotent for a bounded time). */
const TOKEN_TTL_MS = 8 * 60 * 60 * 1000;

interface Remembered {
  readonly fingerprint: string;
  readonly at: number;
  readonly status: number;
  readonly response: unknown;
}

/** JSON with keys sorted, so the same input always has the same fingerprint. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The client tokens of Create and Update calls: kept in the store so every instance on it honours them. */
export class ClientTokens {
  readonly #store: ResourceStore;
  readonly #clock: () => number;

  constructor(store: ResourceStore, clock: () => number) {
    this.#store = store;
    this.#clock = clock;
  }

  static key(operation: string, caller: string, token: string): string {
    return createHash('sha256').update(`${operation}\0${caller}\0${token}`).digest('hex');
  }

  static fingerprint(params: Readonly<Record<string, string>>, body: Readonly<Record<string, unknown>>): string {
    return createHash('sha256').update(canonical({ params, body })).digest('hex');
  }

  /** The first call's result for this token and input; ConflictException for the same token with other input. */
  async replay(key: string, fingerprint: string): Promise<OperationResult | undefined> {
    const remembered = (await this.#store.get<Remembered>('client-token', key))?.body;
    if (!remembered || this.#clock() - remembered.at > TOKEN_TTL_MS) return undefined;
    if (remembered.fingerprint !== fingerprint) {
      throw new ControlPlaneError('ConflictException', 'IdempotentParameterMismatch: this clientToken was already used with different input; use a new clientToken for a new request');
    }
    return { status: remembered.status, body: remembered.response };
  }

  #remembered = 0;

  async remember(key: string, fingerprint: string, result: OperationResult): Promise<void> {
    const now = this.#clock();
    const body: Remembered = { fingerprint, at: now, status: result.status, response: result.body };
    await this.#store.atomically(async () => {
      await this.#store.delete('client-token', key);
      await this.#store.insert('client-token', { id: key, parent: '', name: key, body });
    });
    // The SDKs send a token with every Create/Update: forget expired ones now and then so the store does not grow.
    if (++this.#remembered % 100 === 0) await this.forgetExpired(now);
  }

  /** Removes the tokens remembered longer than their lifetime. */
  async forgetExpired(now = this.#clock()): Promise<void> {
    for (const row of await this.#store.list<Remembered>('client-token')) {
      if (now - row.body.at > TOKEN_TTL_MS) await this.#store.delete('client-token', row.id);
    }
  }
}
