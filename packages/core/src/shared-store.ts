/**
 * State that several instances must agree on (session ownership and routing, rate-limit counters,
 * revoked tokens, MCP session bindings, cached STS credentials). Embedded by default; a Redis
 * implementation makes instances interchangeable behind a round-robin load balancer.
 * Every method may reject with `StoreUnavailableError`; callers fail closed (503), never open.
 */
export interface SharedStore {
  readonly kind: 'embedded' | 'redis';
  get(key: string): Promise<string | undefined>;
  /** Sets a value, optionally expiring after `ttlSeconds`. */
  set(key: string, value: string, ttlSeconds?: number): Promise<void>;
  /** Sets only when absent; true when this call set it (atomic across instances). */
  setIfAbsent(key: string, value: string, ttlSeconds?: number): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Increments a counter that expires `windowSeconds` after its first increment; returns the new count. */
  increment(key: string, windowSeconds: number): Promise<number>;
  /**
   * Takes one of `limit` slots of `key` for `member`, held for `leaseSeconds` unless renewed; true when
   * held (a member that already holds one just renews it, whatever the count). Atomic across instances:
   * a deployment-wide quota (sessions per runtime) that a crashed instance cannot leak for longer than a lease.
   */
  claimSlot(key: string, member: string, limit: number, leaseSeconds: number): Promise<boolean>;
  /** Extends the leases of those members that still hold a slot. */
  renewSlots(key: string, members: readonly string[], leaseSeconds: number): Promise<void>;
  releaseSlot(key: string, member: string): Promise<void>;
  /**
   * Broadcasts `message` to the subscribers of `channel` on every instance (this one included), best
   * effort; absent on the embedded store, where nothing else could be listening.
   */
  publish?(channel: string, message: string): Promise<void>;
  /** Listens on `channel` (see `StoreListener`); absent where `publish` is. */
  subscribe?(channel: string, listener: StoreListener): StoreSubscription;
  /** Round-trips to a remote store (readiness); absent on the embedded store, which is always there. */
  ping?(): Promise<void>;
  close(): Promise<void>;
}

/**
 * What a subscriber hears: each message, and every moment messages may have been missed (the
 * connection dropped, or came back). A cache kept valid by messages drops everything on a gap.
 */
export interface StoreListener {
  onMessage(message: string): void;
  onGap(): void;
}

export interface StoreSubscription {
  /** True while messages are being received: a cache kept valid by them may be trusted only then. */
  readonly live: boolean;
  close(): void;
}

export class StoreUnavailableError extends Error {
  readonly code = 'StoreUnavailable';
  constructor(cause?: unknown) {
    super('The shared state store is unavailable', { cause });
  }
}

interface Entry {
  value: string;
  expiresAt: number | undefined;
}

/** In-process implementation: correct for one instance, and the default. */
export class EmbeddedStore implements SharedStore {
  readonly kind = 'embedded' as const;
  readonly #entries = new Map<string, Entry>();
  readonly #slots = new Map<string, Map<string, number>>();
  readonly #now: () => number;
  #sweeps = 0;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry && entry.expiresAt !== undefined && entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #put(key: string, value: string, ttlSeconds?: number): void {
    this.#entries.set(key, { value, expiresAt: ttlSeconds === undefined ? undefined : this.#now() + ttlSeconds * 1000 });
    if (++this.#sweeps % 1024 === 0) this.#sweep();
  }

  #sweep(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) if (entry.expiresAt !== undefined && entry.expiresAt <= now) this.#entries.delete(key);
  }

  async get(key: string): Promise<string | undefined> {
    return this.#live(key)?.value;
  }
  async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    this.#put(key, value, ttlSeconds);
  }
  async setIfAbsent(key: string, value: string, ttlSeconds?: number): Promise<boolean> {
    if (this.#live(key)) return false;
    this.#put(key, value, ttlSeconds);
    return true;
  }
  async delete(key: string): Promise<void> {
    this.#entries.delete(key);
  }
  async increment(key: string, windowSeconds: number): Promise<number> {
    const entry = this.#live(key);
    if (!entry) {
      this.#put(key, '1', windowSeconds);
      return 1;
    }
    const next = Number(entry.value) + 1;
    entry.value = String(next);
    return next;
  }
  async claimSlot(key: string, member: string, limit: number, leaseSeconds: number): Promise<boolean> {
    const now = this.#now();
    const slots = this.#slots.get(key) ?? new Map<string, number>();
    for (const [holder, expiresAt] of slots) if (expiresAt <= now) slots.delete(holder);
    if (!slots.has(member) && slots.size >= limit) return false;
    slots.set(member, now + leaseSeconds * 1000);
    this.#slots.set(key, slots);
    return true;
  }
  async renewSlots(key: string, members: readonly string[], leaseSeconds: number): Promise<void> {
    const slots = this.#slots.get(key);
    const expiresAt = this.#now() + leaseSeconds * 1000;
    for (const member of members) if (slots?.has(member)) slots.set(member, expiresAt);
  }
  async releaseSlot(key: string, member: string): Promise<void> {
    this.#slots.get(key)?.delete(member);
  }
  async close(): Promise<void> {
    this.#entries.clear();
    this.#slots.clear();
  }
}
