/** What a loader hands the cache: the token and when it stops being valid. */
export interface ExpiringToken<T> {
  readonly value: T;
  /** Epoch ms at which the token expires. */
  readonly expiresAtMs: number;
  /** Epoch ms it is never handed out at or past, margin or not (e.g. the expiry of the user token it was exchanged for). */
  readonly capAtMs?: number | undefined;
}

export interface TokenCacheOptions {
  readonly now: () => number;
  /** Stop handing a token out this long before it expires, so it never expires in flight. */
  readonly marginMs: number;
  /** Most tokens kept; the oldest entry goes first (default 10 000). */
  readonly maxEntries?: number | undefined;
}

interface Entry<T> {
  readonly value: T;
  readonly usableUntil: number;
}

/**
 * Tokens by key until `margin` before their expiry and never past their cap, at most `maxEntries`.
 * Concurrent `get`s of one key that is not cached share one load (single flight); a failed load is not cached.
 */
export class TokenCache<T> {
  readonly #entries = new Map<string, Entry<T>>();
  readonly #loading = new Map<string, Promise<T>>();
  readonly #now: () => number;
  readonly #marginMs: number;
  readonly #maxEntries: number;

  constructor(options: TokenCacheOptions) {
    this.#now = options.now;
    this.#marginMs = options.marginMs;
    this.#maxEntries = options.maxEntries ?? 10_000;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The cached token of `key`, or the one `load` returns (shared with concurrent callers of the same key). */
  get(key: string, load: () => Promise<ExpiringToken<T>>): Promise<T> {
    const entry = this.#entries.get(key);
    if (entry && entry.usableUntil > this.#now()) return Promise.resolve(entry.value);
    if (entry) this.#entries.delete(key);
    let loading = this.#loading.get(key);
    if (!loading) {
      loading = load()
        .then((token) => this.#remember(key, token))
        .finally(() => this.#loading.delete(key));
      this.#loading.set(key, loading);
    }
    return loading;
  }

  #remember(key: string, token: ExpiringToken<T>): T {
    const usableUntil = Math.min(token.expiresAtMs - this.#marginMs, token.capAtMs ?? Infinity);
    if (usableUntil > this.#now()) {
      this.#entries.delete(key);
      if (this.#entries.size >= this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
      this.#entries.set(key, { value: token.value, usableUntil });
    }
    return token.value;
  }
}
