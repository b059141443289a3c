import type { Clock, Logger, SharedStore, StoreSubscription } from '@gatehouse/core';

/** Where a session was last seen in the session directory: on this instance, or on another one (its URL). */
type Known = { readonly kind: 'local'; readonly at: number } | { readonly kind: 'remote'; readonly at: number; readonly url: string; readonly owner: string };

const CHANNEL = 'runtime:placement';
/** A safety net, not the mechanism: even with no message, a placement is read from the store again after this long. */
const MAX_AGE_MS = 10_000;
const MAX_ENTRIES = 50_000;

/**
 * Session placements this instance read from the shared store, kept so that a request to a session
 * whose placement is known makes no store round trip. Every placement change (SessionDirectory.write)
 * is announced on the store's pub/sub channel, and each instance drops its copy of that session.
 * Trusted only while the subscription is live: a dropped or restored connection (messages may have
 * been missed) empties the cache, and a read that overlapped any announcement is not kept. A store
 * without pub/sub (or the embedded one) caches nothing.
 */
export class PlacementCache {
  readonly #store: SharedStore;
  readonly #clock: Clock;
  readonly #entries = new Map<string, Known>();
  readonly #subscription: StoreSubscription | undefined;
  /** Bumped by every announcement and gap: a read that started before the bump is not cached. */
  #generation = 0;

  constructor(store: SharedStore, clock: Clock, logger?: Logger) {
    this.#store = store;
    this.#clock = clock;
    if (store.kind === 'embedded' || !store.subscribe || !store.publish) return;
    this.#subscription = store.subscribe(CHANNEL, {
      onMessage: (key) => {
        this.#generation++;
        this.#entries.delete(key);
      },
      onGap: () => {
        this.#generation++;
        if (this.#entries.size > 0) logger?.debug({ dropped: this.#entries.size }, 'session placement cache emptied: the store subscription reconnected');
        this.#entries.clear();
      },
    });
  }

  /** Taken before a store read; what the read found is kept only if nothing changed meanwhile. */
  mark(): number {
    return this.#generation;
  }

  /** True when the store was recently seen to place this (local) session here. */
  isLocal(key: string): boolean {
    return this.#fresh(key)?.kind === 'local';
  }

  /** The other instance running the session, if recently read and owned by `owner`. */
  remoteUrl(key: string, owner: string): string | undefined {
    const known = this.#fresh(key);
    return known?.kind === 'remote' && known.owner === owner ? known.url : undefined;
  }

  rememberLocal(key: string, mark: number): void {
    this.#remember(key, mark, { kind: 'local', at: this.#clock() });
  }

  rememberRemote(key: string, mark: number, where: { readonly url: string; readonly owner: string }): void {
    this.#remember(key, mark, { kind: 'remote', at: this.#clock(), url: where.url, owner: where.owner });
  }

  forget(key: string): void {
    this.#entries.delete(key);
  }

  /** Tells every instance (this one too) that the session's placement changed. */
  async announce(key: string): Promise<void> {
    this.#generation++;
    this.#entries.delete(key);
    if (this.#subscription) await this.#store.publish!(CHANNEL, key);
  }

  close(): void {
    this.#subscription?.close();
    this.#entries.clear();
  }

  #fresh(key: string): Known | undefined {
    if (!this.#subscription?.live) return undefined;
    const known = this.#entries.get(key);
    if (known && this.#clock() - known.at < MAX_AGE_MS) return known;
    if (known) this.#entries.delete(key);
    return undefined;
  }

  #remember(key: string, mark: number, known: Known): void {
    if (!this.#subscription?.live || mark !== this.#generation) return;
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, known);
  }
}
