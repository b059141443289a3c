import type { SharedStore } from '@gatehouse/core';
import type { PlacementCache } from './placement-cache.ts';
import { RuntimeError } from './runtime-error.ts';
import type { RuntimeEntry } from './runtime-registry.ts';

/** What the shared store keeps per runtime+session, so ownership and placement hold across instances. */
export interface SessionRecord {
  readonly owner: string;
  readonly instance: string;
  readonly instanceUrl?: string;
}

export const OWNER_MISMATCH = 'This session belongs to another principal; use your own session id (or omit it to start a new session).';

/**
 * Where each session runs and who owns it, in the shared store (one record per runtime and session id,
 * kept until maxLifetime). Placements read from it are cached (placement-cache.ts) while the store's
 * pub/sub keeps them current: a request to a session whose placement is known reads nothing.
 */
export class SessionDirectory {
  readonly #store: SharedStore;
  readonly #instanceId: string;
  readonly #mine: (owner: string) => SessionRecord;
  readonly #cache: PlacementCache | undefined;

  constructor(store: SharedStore, instance: { readonly id: string; readonly url?: string | undefined }, cache?: PlacementCache) {
    this.#store = store;
    this.#instanceId = instance.id;
    this.#mine = (owner) => ({ owner, instance: instance.id, ...(instance.url ? { instanceUrl: instance.url } : {}) });
    this.#cache = cache;
  }

  async read(runtime: RuntimeEntry, sessionId: string): Promise<SessionRecord | undefined> {
    const text = await this.#store.get(storeKey(runtime, sessionId));
    return text === undefined ? undefined : (JSON.parse(text) as SessionRecord);
  }

  /** False once the store places the session on another instance (a WebSocket there took it over); no read while cached. */
  async placedHere(runtime: RuntimeEntry, sessionId: string): Promise<boolean> {
    const key = storeKey(runtime, sessionId);
    if (this.#cache?.isLocal(key)) return true;
    const mark = this.#cache?.mark() ?? 0;
    const record = await this.read(runtime, sessionId);
    if (record?.instance === this.#instanceId) this.#cache?.rememberLocal(key, mark);
    return !record || record.instance === this.#instanceId;
  }

  /** The URL of the other instance that runs an `owner`'s session, when known without a store read. */
  knownRemote(runtime: RuntimeEntry, sessionId: string, owner: string): string | undefined {
    return this.#cache?.remoteUrl(storeKey(runtime, sessionId), owner);
  }

  /** The session's record, creating it (atomically across instances) for a new id; refuses another owner. */
  async claim(runtime: RuntimeEntry, sessionId: string, owner: string): Promise<SessionRecord> {
    const key = storeKey(runtime, sessionId);
    const mark = this.#cache?.mark() ?? 0;
    const mine = this.#mine(owner);
    if (await this.#store.setIfAbsent(key, JSON.stringify(mine), runtime.config.lifecycleConfiguration.maxLifetime)) return mine;
    const record = await this.read(runtime, sessionId);
    if (!record) return this.claim(runtime, sessionId, owner);
    if (record.owner !== owner) throw new RuntimeError('AccessDeniedException', OWNER_MISMATCH);
    if (record.instance !== this.#instanceId && record.instanceUrl) this.#cache?.rememberRemote(key, mark, { url: record.instanceUrl, owner });
    return record;
  }

  /** Takes over placement of an owned session whose previous instance no longer runs it; every instance hears of it. */
  async write(runtime: RuntimeEntry, sessionId: string, owner: string): Promise<void> {
    const key = storeKey(runtime, sessionId);
    await this.#store.set(key, JSON.stringify(this.#mine(owner)), runtime.config.lifecycleConfiguration.maxLifetime);
    await this.#cache?.announce(key);
  }

  /** This instance no longer runs the session: what it knew of its placement is dropped. */
  forget(runtime: RuntimeEntry, sessionId: string): void {
    this.#cache?.forget(storeKey(runtime, sessionId));
  }

  close(): void {
    this.#cache?.close();
  }
}

function storeKey(runtime: RuntimeEntry, sessionId: string): string {
  return `gatehouse:runtime:${runtime.name}:session:${sessionId}`;
}
