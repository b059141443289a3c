import { createHash } from 'node:crypto';
import type { Principal } from './principal.ts';

/**
 * A bounded LRU of tokens already verified, keyed by the token's SHA-256 (so the map never holds
 * a usable credential as a key) and valid until the token's own `exp`.
 */
export class VerifiedTokenCache {
  readonly #limit: number;
  readonly #entries = new Map<string, Principal>();

  constructor(limit: number) {
    this.#limit = limit;
  }

  static keyOf(token: string): string {
    return createHash('sha256').update(token).digest('base64');
  }

  get(key: string): Principal | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry;
  }

  set(key: string, principal: Principal): void {
    if (this.#limit <= 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, principal);
    while (this.#entries.size > this.#limit) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}
