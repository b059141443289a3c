import type { SharedStore } from '@gatehouse/core';
import { RuntimeError } from './runtime-error.ts';
import type { RuntimeEntry } from './runtime-registry.ts';

/** What the shared store keeps per runtime+session, so ownership and placement hold across instances. */
export interface SessionRecord {
  readonly owner: string;
  readonly instance: string;
  readonly instanceUrl?: string;
}

export const OWNER_MISMATCH = 'This session belongs to another principal; use your own session id (or omit it to start a new session).';

/** Where each session runs and who owns it, in the shared store (one record per runtime and session id, kept until maxLifetime). */
export class SessionDirectory {
  readonly #store: SharedStore;
  readonly #mine: (owner: string) => SessionRecord;

  constructor(store: SharedStore, instance: { readonly id: string; readonly url?: string | undefined }) {
    this.#store = store;
    this.#mine = (owner) => ({ owner, instance: instance.id, ...(instance.url ? { instanceUrl: instance.url } : {}) });
  }

  async read(runtime: RuntimeEntry, sessionId: string): Promise<SessionRecord | undefined> {
    const text = await this.#store.get(storeKey(runtime, sessionId));
    return text === undefined ? undefined : (JSON.parse(text) as SessionRecord);
  }

  /** The session's record, creating it (atomically across instances) for a new id; refuses another owner. */
  async claim(runtime: RuntimeEntry, sessionId: string, owner: string): Promise<SessionRecord> {
    const mine = this.#mine(owner);
    if (await this.#store.setIfAbsent(storeKey(runtime, sessionId), JSON.stringify(mine), runtime.config.lifecycleConfiguration.maxLifetime)) return mine;
    const record = await this.read(runtime, sessionId);
    if (!record) return this.claim(runtime, sessionId, owner);
    if (record.owner !== owner) throw new RuntimeError('AccessDeniedException', OWNER_MISMATCH);
    return record;
  }

  /** Takes over placement of an owned session whose previous instance no longer runs it. */
  async write(runtime: RuntimeEntry, sessionId: string, owner: string): Promise<void> {
    await this.#store.set(storeKey(runtime, sessionId), JSON.stringify(this.#mine(owner)), runtime.config.lifecycleConfiguration.maxLifetime);
  }
}

function storeKey(runtime: RuntimeEntry, sessionId: string): string {
  return `gatehouse:runtime:${runtime.name}:session:${sessionId}`;
}
