import { StoreUnavailableError, type Logger, type SharedStore } from '@gatehouse/core';
import type { TokenStore } from './token-store.ts';

const KEY_PREFIX = 'identity:revoked-origin:';
/** Kept past the tokens' expiry by this much, so verifiers that allow clock leeway still refuse them. */
const LEEWAY_SECONDS = 300;
const BATCH = 500;

/**
 * Copies revocations (sign-outs, revoked refresh tokens, refresh-token reuse) from the identity
 * database to the shared store, so runtime and gateway instances that do not share the data dir
 * refuse those tokens too. The database stays the source of truth and the outbox: a row is marked
 * published only after the store accepted it, so a revocation made while Redis was down, by the CLI
 * in another process, or just before a crash is published by the next pass (every second).
 * With the embedded store every instance reads the database itself and nothing is copied.
 */
export class RevocationPublisher {
  readonly #tokens: TokenStore;
  readonly #store: SharedStore;
  readonly #now: () => number;
  readonly #logger: Logger;
  #running: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #failing = false;

  constructor(tokens: TokenStore, store: SharedStore, now: () => number, logger: Logger) {
    this.#tokens = tokens;
    this.#store = store;
    this.#now = now;
    this.#logger = logger;
  }

  get shared(): boolean {
    return this.#store.kind !== 'embedded';
  }

  /** Publishes every pending revocation; rejects with `StoreUnavailableError` when the store is down (they stay pending). */
  publish(): Promise<void> {
    if (!this.shared) return Promise.resolve();
    // One pass at a time; a caller arriving during a pass waits for it and then runs its own,
    // so a revocation committed just before the call is always covered when the call resolves.
    const previous = this.#running ?? Promise.resolve();
    const pass = previous.catch(() => undefined).then(() => this.#pass());
    this.#running = pass;
    void pass.finally(() => {
      if (this.#running === pass) this.#running = undefined;
    }).catch(() => undefined);
    return pass;
  }

  /** True when another identity instance published this sign-in as revoked. Rejects (fail closed) when the store is down. */
  async isRevoked(origin: string): Promise<boolean> {
    if (!this.shared) return false;
    return (await this.#store.get(KEY_PREFIX + origin)) !== undefined;
  }

  start(intervalMs = 1000): void {
    if (!this.shared || this.#timer) return;
    this.#timer = setInterval(() => {
      this.publish().then(
        () => {
          if (this.#failing) this.#logger.info('pending revocations published to the shared store');
          this.#failing = false;
        },
        (error: unknown) => {
          if (!this.#failing) this.#logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'revocations not yet published: the shared store is unavailable; retrying');
          this.#failing = true;
        },
      );
    }, intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  async #pass(): Promise<void> {
    for (;;) {
      const batch = await this.#tokens.unpublishedRevocations(BATCH);
      if (batch.length === 0) return;
      for (const { origin, expiresAt } of batch) {
        const ttl = Math.max(1, Math.ceil((expiresAt - this.#now()) / 1000)) + LEEWAY_SECONDS;
        try {
          await this.#store.set(KEY_PREFIX + origin, '1', ttl);
        } catch (error) {
          throw error instanceof StoreUnavailableError ? error : new StoreUnavailableError(error);
        }
        await this.#tokens.markPublished(origin, expiresAt);
      }
      if (batch.length < BATCH) return;
    }
  }
}
