import { createHash, randomBytes } from 'node:crypto';
import type { SharedStore } from '@gatehouse/core';
import type { Caller } from './caller.ts';

const SESSION_TTL_SECONDS = 24 * 3600;

export type SessionCheck = 'ok' | 'missing' | 'other-principal';

/** What `initialize` told the gateway about the client, kept with the binding. */
export interface SessionTraits {
  /** The client declared `capabilities.elicitation.url` (MCP 2025-11-25 URL-mode elicitation). */
  readonly urlElicitation: boolean;
}

/**
 * How long this instance trusts a binding it has read or written without asking a remote store
 * again. A session ended through another instance is still accepted here for at most this long;
 * one ended here is forgotten at once. The owner is compared on every request, cached or not.
 */
export const SESSION_CACHE_MS = 5_000;
const SESSION_CACHE_ENTRIES = 10_000;

/** Suffix of the stored owner when the client declared URL-mode elicitation. */
const URL_ELICITATION_MARK = ' url';

/**
 * MCP sessions bound to the principal that opened them (issuer + subject), kept in the shared store
 * so any instance can check them. The id is only a handle: every request is still authenticated,
 * and a session opened by one user is refused to every other user. A refreshed token of the same
 * user matches, because the binding is to the user, not to one token.
 */
export class SessionBindings {
  readonly #store: SharedStore;
  readonly #prefix: string;
  readonly #now: () => number;
  /** Stored values by session id, for a remote store only (the embedded store is this process's memory already). */
  readonly #cache: Map<string, { readonly stored: string; readonly until: number }> | undefined;

  constructor(store: SharedStore, gatewayName: string, now: () => number = Date.now) {
    this.#store = store;
    this.#prefix = `gateway:${gatewayName}:session:`;
    this.#now = now;
    this.#cache = store.kind === 'embedded' ? undefined : new Map();
  }

  #remember(id: string, stored: string): void {
    if (!this.#cache) return;
    if (this.#cache.size >= SESSION_CACHE_ENTRIES) this.#cache.clear();
    this.#cache.set(id, { stored, until: this.#now() + SESSION_CACHE_MS });
  }

  /** The stored owner (and traits mark) of a session: from this instance's cache while fresh, else from the store. */
  async #read(id: string): Promise<string | undefined> {
    const cached = this.#cache?.get(id);
    if (cached && cached.until > this.#now()) return cached.stored;
    const stored = await this.#store.get(this.#prefix + id);
    if (stored === undefined) this.#cache?.delete(id);
    else this.#remember(id, stored);
    return stored;
  }

  static newId(): string {
    return randomBytes(32).toString('base64url'); // 43 visible ASCII characters, 256 bits
  }

  static #owner(caller: Caller): string {
    return createHash('sha256').update(`${caller.issuer}\u0000${caller.subject}`).digest('base64url');
  }

  async open(id: string, caller: Caller, traits: SessionTraits = { urlElicitation: false }): Promise<void> {
    const stored = SessionBindings.#owner(caller) + (traits.urlElicitation ? URL_ELICITATION_MARK : '');
    await this.#store.set(this.#prefix + id, stored, SESSION_TTL_SECONDS);
    this.#remember(id, stored);
  }

  async check(id: string, caller: Caller): Promise<SessionCheck> {
    return (await this.inspect(id, caller)).check;
  }

  /** The check, and (for the owner only) what its `initialize` declared. */
  async inspect(id: string, caller: Caller): Promise<{ check: SessionCheck; traits: SessionTraits }> {
    const stored = await this.#read(id);
    if (stored === undefined) return { check: 'missing', traits: { urlElicitation: false } };
    const urlElicitation = stored.endsWith(URL_ELICITATION_MARK);
    const owner = urlElicitation ? stored.slice(0, -URL_ELICITATION_MARK.length) : stored;
    if (owner !== SessionBindings.#owner(caller)) return { check: 'other-principal', traits: { urlElicitation: false } };
    return { check: 'ok', traits: { urlElicitation } };
  }

  async close(id: string): Promise<void> {
    this.#cache?.delete(id);
    await this.#store.delete(this.#prefix + id);
  }
}
