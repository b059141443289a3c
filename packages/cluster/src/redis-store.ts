import { Redis } from 'ioredis';
import { CallTimeoutError, StoreUnavailableError, redactText, type Logger, type SharedStore, type StoreListener, type StoreSubscription } from '@gatehouse/core';

export interface RedisStoreOptions {
  readonly logger?: Logger | undefined;
  /** Prepended to every key, so several deployments (or tests) can share one Redis. */
  readonly keyPrefix?: string | undefined;
  /** How long one command may take before the store counts as unavailable (ms). */
  readonly commandTimeoutMs?: number | undefined;
  /** Longest pause between reconnection attempts while Redis is down (ms). */
  readonly maxReconnectDelayMs?: number | undefined;
  /** Called for every operation refused because Redis was unreachable (feeds `gatehouse_store_unavailable_total`). */
  readonly onUnavailable?: ((operation: StoreOperation) => void) | undefined;
}

export type StoreOperation = 'get' | 'set' | 'setIfAbsent' | 'delete' | 'increment' | 'claimSlot' | 'renewSlots' | 'releaseSlot' | 'ping' | 'publish';

/**
 * Increments a windowed counter and starts its window on the first increment, in one atomic step:
 * INCR followed by a separate EXPIRE could leave a counter without expiry (a permanent rate limit)
 * if the client died in between. A key that somehow has no TTL gets one here too.
 */
const INCREMENT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 or redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return count
`;

/**
 * A slot set is a sorted set scored by lease expiry, on Redis's own clock (TIME), so instances whose
 * clocks differ agree on what has expired. Claiming drops expired leases, then adds the member if it
 * holds a slot already or the set is below the limit, in one atomic step. The set itself expires with
 * its longest lease, so a runtime nobody uses leaves nothing behind.
 */
const CLAIM_SLOT_SCRIPT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local lease = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
if redis.call('PTTL', KEYS[1]) < lease then redis.call('PEXPIRE', KEYS[1], lease) end
return 1
`;

const RENEW_SLOTS_SCRIPT = `
local time = redis.call('TIME')
local expires = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) + tonumber(ARGV[1])
for index = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', expires, ARGV[index]) end
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 1
`;

/** `SharedStore` on Redis or Valkey. Fails closed: while Redis is unreachable, every call rejects with `StoreUnavailableError` at once. */
export class RedisStore implements SharedStore {
  readonly kind = 'redis' as const;
  readonly #client: Redis;
  readonly #logger: Logger | undefined;
  readonly #where: string;
  readonly #onUnavailable: ((operation: StoreOperation) => void) | undefined;
  readonly #channelPrefix: string;
  /** The second connection that pub/sub needs (a subscribed Redis connection runs no other commands), opened on first subscribe. */
  #subscriber: Redis | undefined;
  readonly #listeners = new Map<string, Set<StoreListener>>();
  #subscriberLive = false;
  #available = false;
  #closed = false;

  constructor(url: string, options: RedisStoreOptions = {}) {
    this.#logger = options.logger;
    this.#where = describeUrl(url);
    this.#onUnavailable = options.onUnavailable;
    this.#channelPrefix = options.keyPrefix ?? '';
    const maxDelay = options.maxReconnectDelayMs ?? 1000;
    this.#client = new Redis(url, {
      lazyConnect: true,
      // Commands issued while disconnected fail now instead of queueing: a request that needs shared
      // state gets a 503 in milliseconds rather than hanging until Redis returns.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs ?? 2000,
      connectTimeout: 2000,
      // Keep trying for ever (never give up): recovery after an outage needs no restart.
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), maxDelay),
      ...(options.keyPrefix ? { keyPrefix: options.keyPrefix } : {}),
    });
    this.#client.on('ready', () => {
      if (!this.#available) this.#logger?.info({ store: this.#where }, 'shared store available');
      this.#available = true;
    });
    this.#client.on('close', () => {
      if (this.#available && !this.#closed) this.#logger?.warn({ store: this.#where }, 'shared store unavailable; requests that need it fail with 503 until it returns');
      this.#available = false;
    });
    // Without a listener, ioredis would print every failed reconnection to stderr; the transitions above are what an operator needs.
    this.#client.on('error', (error: Error) => {
      this.#logger?.debug({ store: this.#where, reason: redactText(error.message) }, 'shared store connection error');
    });
  }

  /** Connects once, waiting at most `timeoutMs`; rejects with `StoreUnavailableError` naming the address when Redis cannot be reached. */
  async connect(timeoutMs = 5000): Promise<void> {
    if (this.#client.status === 'ready') return;
    let timer: NodeJS.Timeout | undefined;
    const ready = new Promise<void>((resolve) => this.#client.once('ready', () => resolve()));
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreUnavailableError(new CallTimeoutError(`Redis at ${this.#where} did not answer within ${timeoutMs} ms; check the store URL and that Redis is running`, { timeoutMs }))), timeoutMs);
    });
    // With lazyConnect the first connect() may reject (refused); the retry strategy keeps going, so wait for 'ready'.
    this.#client.connect().catch(() => undefined);
    try {
      await Promise.race([ready, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** True while the connection is up: what a readiness endpoint reports. */
  get available(): boolean {
    return this.#available && this.#client.status === 'ready';
  }

  /** Round-trips to Redis; rejects with `StoreUnavailableError` when it does not answer. */
  async ping(): Promise<void> {
    await this.#run('ping', () => this.#client.ping());
  }

  async get(key: string): Promise<string | undefined> {
    const value = await this.#run('get', () => this.#client.get(key));
    return value ?? undefined;
  }

  async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    if (ttlSeconds === undefined) {
      await this.#run('set', () => this.#client.set(key, value));
      return;
    }
    const milliseconds = toMilliseconds(ttlSeconds);
    await this.#run('set', () => this.#client.set(key, value, 'PX', milliseconds));
  }

  async setIfAbsent(key: string, value: string, ttlSeconds?: number): Promise<boolean> {
    const milliseconds = ttlSeconds === undefined ? undefined : toMilliseconds(ttlSeconds);
    const reply = milliseconds === undefined
      ? await this.#run('setIfAbsent', () => this.#client.set(key, value, 'NX'))
      : await this.#run('setIfAbsent', () => this.#client.set(key, value, 'PX', milliseconds, 'NX'));
    return reply === 'OK';
  }

  async delete(key: string): Promise<void> {
    await this.#run('delete', () => this.#client.del(key));
  }

  async increment(key: string, windowSeconds: number): Promise<number> {
    const milliseconds = toMilliseconds(windowSeconds);
    const count = await this.#run('increment', () => this.#client.eval(INCREMENT_SCRIPT, 1, key, String(milliseconds)));
    return Number(count);
  }

  async publish(channel: string, message: string): Promise<void> {
    // ioredis prefixes keys, not channels: the prefix is added here so deployments sharing a Redis stay apart.
    await this.#run('publish', () => this.#client.publish(this.#channelPrefix + channel, message));
  }

  subscribe(channel: string, listener: StoreListener): StoreSubscription {
    const subscriber = this.#subscriber ?? this.#openSubscriber();
    const name = this.#channelPrefix + channel;
    let listeners = this.#listeners.get(name);
    if (!listeners) {
      listeners = new Set();
      this.#listeners.set(name, listeners);
      if (subscriber.status === 'ready') void subscriber.subscribe(name).catch(() => subscriber.disconnect(true));
    }
    listeners.add(listener);
    const live = (): boolean => this.#subscriberLive && !this.#closed;
    return {
      get live() {
        return live();
      },
      close: () => listeners.delete(listener),
    };
  }

  /**
   * Subscribes on every (re)connection, then reports a gap: whatever was published while the
   * connection was down is lost, so listeners drop what they cached. A drop reports a gap at once.
   */
  #openSubscriber(): Redis {
    const subscriber = this.#client.duplicate({ lazyConnect: true, enableOfflineQueue: true, autoResubscribe: false });
    this.#subscriber = subscriber;
    const gap = (): void => {
      for (const listeners of this.#listeners.values()) for (const listener of listeners) listener.onGap();
    };
    subscriber.on('ready', () => {
      const channels = [...this.#listeners.keys()];
      void (channels.length > 0 ? subscriber.subscribe(...channels) : Promise.resolve()).then(
        () => {
          this.#subscriberLive = true;
          gap();
        },
        () => subscriber.disconnect(true),
      );
    });
    subscriber.on('close', () => {
      this.#subscriberLive = false;
      gap();
    });
    subscriber.on('error', () => undefined);
    subscriber.on('message', (channel: string, message: string) => {
      for (const listener of this.#listeners.get(channel) ?? []) listener.onMessage(message);
    });
    subscriber.connect().catch(() => undefined);
    return subscriber;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#subscriber?.disconnect();
    if (this.#client.status === 'ready') {
      await this.#client.quit().catch(() => this.#client.disconnect());
    } else this.#client.disconnect();
  }

  async claimSlot(key: string, member: string, limit: number, leaseSeconds: number): Promise<boolean> {
    const lease = toMilliseconds(leaseSeconds);
    const held = await this.#run('claimSlot', () => this.#client.eval(CLAIM_SLOT_SCRIPT, 1, key, member, String(limit), String(lease)));
    return Number(held) === 1;
  }

  async renewSlots(key: string, members: readonly string[], leaseSeconds: number): Promise<void> {
    if (members.length === 0) return;
    const lease = toMilliseconds(leaseSeconds);
    await this.#run('renewSlots', () => this.#client.eval(RENEW_SLOTS_SCRIPT, 1, key, String(lease), ...members));
  }

  async releaseSlot(key: string, member: string): Promise<void> {
    await this.#run('releaseSlot', () => this.#client.zrem(key, member));
  }

  async #run<T>(operation: StoreOperation, command: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new StoreUnavailableError(new Error('The store was closed'));
    try {
      return await command();
    } catch (error) {
      this.#onUnavailable?.(operation);
      throw new StoreUnavailableError(error);
    }
  }
}

function toMilliseconds(seconds: number): number {
  if (!Number.isFinite(seconds) || seconds <= 0) throw new RangeError(`A TTL must be a positive number of seconds (got ${seconds})`);
  return Math.max(1, Math.ceil(seconds * 1000));
}

/** host:port/db without credentials, for logs and error messages. */
function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return 'the configured Redis URL';
  }
}
