import type { SharedStore } from '@gatehouse/core';
import { RuntimeError } from './runtime-error.ts';
import type { RuntimeEntry } from './runtime-registry.ts';

/**
 * Per-principal request budget per runtime, counted in the shared store so that every instance
 * behind a load balancer draws from the same budget (fixed one-minute windows).
 */
export class RateLimiter {
  readonly #store: SharedStore;

  constructor(store: SharedStore) {
    this.#store = store;
  }

  async check(runtime: RuntimeEntry, owner: string): Promise<void> {
    const limit = runtime.config.limits.requestsPerMinutePerPrincipal;
    const count = await this.#store.increment(`gatehouse:runtime:${runtime.name}:rate:${owner}`, 60);
    if (count > limit) {
      throw new RuntimeError('ThrottlingException', `Rate exceeded: more than ${limit} requests per minute for this caller on ${runtime.name} (limits.requestsPerMinutePerPrincipal). Retry after a short wait; an operator raises it with runtimes[].limits.requestsPerMinutePerPrincipal in gatehouse.yaml.`);
    }
  }
}
