import type { Principal } from './principal.ts';

const KEY_CHARS = 43;

interface Entry {
  readonly token: string;
  readonly principal: Principal;
}

/**
 * A bounded LRU of tokens already verified, valid until the token's own `exp`. The key is the
 * end of the token's signature segment: a signature already is a digest of the whole token under the issuer's
 * key, so hashing the token again with SHA-256 (the largest cost after the signature check in
 * first-sight profiles) adds nothing. A hit also requires the stored token to equal the presented
 * one exactly, so a token that reuses a verified signature with another header or payload misses
 * and goes through full verification (where its signature fails).
 */
export class VerifiedTokenCache {
  readonly #limit: number;
  readonly #entries = new Map<string, Entry>();

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** The signature's last 43 characters (≥ 256 bits of it): enough to tell tokens apart, cheap to hash into a Map. */
  static keyOf(token: string): string {
    return token.length > KEY_CHARS ? token.slice(-KEY_CHARS) : token;
  }

  get(key: string, token: string): Principal | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.token !== token) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.principal;
  }

  set(key: string, token: string, principal: Principal): void {
    if (this.#limit <= 0 || key.length === 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, { token, principal });
    while (this.#entries.size > this.#limit) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }

  /** Forgets `key` only when it holds this very token (a look-alike must not evict the genuine entry). */
  delete(key: string, token: string): void {
    if (this.#entries.get(key)?.token === token) this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}
