import { createHash, randomBytes } from 'node:crypto';
import type { SharedStore } from '@gatehouse/core';
import type { Caller } from './caller.ts';

const SESSION_TTL_SECONDS = 24 * 3600;

export type SessionCheck = 'ok' | 'missing' | 'other-principal';

/**
 * MCP sessions bound to the principal that opened them (issuer + subject), kept in the shared store
 * so any instance can check them. The id is only a handle: every request is still authenticated,
 * and a session opened by one user is refused to every other user. A refreshed token of the same
 * user matches, because the binding is to the user, not to one token.
 */
export class SessionBindings {
  readonly #store: SharedStore;
  readonly #prefix: string;

  constructor(store: SharedStore, gatewayName: string) {
    this.#store = store;
    this.#prefix = `gateway:${gatewayName}:session:`;
  }

  static newId(): string {
    return randomBytes(32).toString('base64url'); // 43 visible ASCII characters, 256 bits
  }

  static #owner(caller: Caller): string {
    return createHash('sha256').update(`${caller.issuer}\u0000${caller.subject}`).digest('base64url');
  }

  async open(id: string, caller: Caller): Promise<void> {
    await this.#store.set(this.#prefix + id, SessionBindings.#owner(caller), SESSION_TTL_SECONDS);
  }

  async check(id: string, caller: Caller): Promise<SessionCheck> {
    const owner = await this.#store.get(this.#prefix + id);
    if (owner === undefined) return 'missing';
    return owner === SessionBindings.#owner(caller) ? 'ok' : 'other-principal';
  }

  async close(id: string): Promise<void> {
    await this.#store.delete(this.#prefix + id);
  }
}
