import type { Logger } from '@gatehouse/core';
import type { AgentEndpoint } from './agent-endpoint.ts';
import type { RuntimeEntry } from './runtime-registry.ts';

interface Pool {
  readonly ready: AgentEndpoint[];
  starting: number;
  /** After a failed pre-start, wait before trying again so a broken agent does not spin. */
  retryAfter: number;
}

export interface WarmPoolOptions {
  /** The one seam that starts an agent process (agent-endpoint.ts `spawnAgent`, through SessionManager). */
  readonly spawn: (runtime: RuntimeEntry) => Promise<AgentEndpoint>;
  readonly clock: () => number;
  readonly logger: Logger;
}

const RETRY_AFTER_MS = 5000;

/**
 * `limits.warmPoolSize` agent processes per command runtime, started and answering /ping before a
 * session needs one, so a new session skips the cold start.
 */
export class WarmPools {
  readonly #options: WarmPoolOptions;
  readonly #pools = new Map<string, Pool>();
  #closed = false;

  constructor(options: WarmPoolOptions) {
    this.#options = options;
  }

  get names(): IterableIterator<string> {
    return this.#pools.keys();
  }

  has(name: string): boolean {
    return this.#pools.has(name);
  }

  add(runtime: RuntimeEntry): void {
    this.#pools.set(runtime.name, { ready: [], starting: 0, retryAfter: 0 });
    this.#refill(runtime);
  }

  /** Processes of the pool that are running or starting (metrics). */
  processes(name: string): number {
    const pool = this.#pools.get(name);
    return pool ? pool.ready.filter((endpoint) => !endpoint.exited).length + pool.starting : 0;
  }

  /** A pre-started process, or a freshly spawned one when none is ready; the pool refills behind it. */
  async take(runtime: RuntimeEntry): Promise<AgentEndpoint> {
    const pool = this.#pools.get(runtime.name);
    while (pool && pool.ready.length > 0) {
      const endpoint = pool.ready.shift()!;
      if (!endpoint.exited) {
        this.#refill(runtime);
        return endpoint;
      }
    }
    const endpoint = await this.#options.spawn(runtime);
    this.#refill(runtime);
    return endpoint;
  }

  /** Forgets a runtime's pool; the promises of its processes' stops. */
  remove(name: string): Promise<void>[] {
    const pool = this.#pools.get(name);
    this.#pools.delete(name);
    return pool ? pool.ready.splice(0).map((endpoint) => endpoint.stop()) : [];
  }

  close(): Promise<void>[] {
    this.#closed = true;
    return [...this.#pools.keys()].flatMap((name) => this.remove(name));
  }

  #refill(runtime: RuntimeEntry): void {
    const pool = this.#pools.get(runtime.name);
    if (!pool || this.#closed || this.#options.clock() < pool.retryAfter) return;
    while (pool.ready.length + pool.starting < runtime.config.limits.warmPoolSize) {
      pool.starting++;
      this.#options.spawn(runtime).then(
        (endpoint) => this.#joined(pool, endpoint, runtime.name),
        (error: unknown) => {
          pool.starting--;
          pool.retryAfter = this.#options.clock() + RETRY_AFTER_MS;
          this.#options.logger.warn({ runtime: runtime.name, err: error instanceof Error ? error.message : String(error) }, 'could not pre-start a warm agent process');
        },
      );
    }
  }

  #joined(pool: Pool, endpoint: AgentEndpoint, name: string): void {
    pool.starting--;
    // Closed, or the runtime was removed while this process started: it has no pool to join.
    if (this.#closed || this.#pools.get(name) !== pool) return void endpoint.stop();
    endpoint.onExit(() => {
      const index = pool.ready.indexOf(endpoint);
      if (index >= 0) pool.ready.splice(index, 1);
    });
    pool.ready.push(endpoint);
  }
}
