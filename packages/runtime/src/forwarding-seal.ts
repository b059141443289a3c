import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock, SharedStore } from '@gatehouse/core';

const SECRET_KEY = 'runtime:forwarding-secret';
const WINDOW_MS = 120_000;

/**
 * Marks a request as forwarded by another instance of this deployment. The mark is an HMAC of the
 * session id and a timestamp under a secret the instances share through the store, so a client
 * cannot send the header itself to make an instance start a second agent for a session that lives
 * elsewhere. (Forwarded requests are still re-authenticated in full: the mark only says "do not forward again".)
 */
export class ForwardingSeal {
  readonly #store: SharedStore;
  readonly #clock: Clock;
  #secret: Promise<Buffer> | undefined;

  constructor(store: SharedStore, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
  }

  async sign(sessionId: string): Promise<string> {
    const timestamp = String(this.#clock());
    return `${timestamp}.${this.#mac(await this.#key(), sessionId, timestamp)}`;
  }

  /** True only for a fresh mark made by an instance that shares the secret, for this session. */
  async verify(value: string | string[] | undefined, sessionId: string): Promise<boolean> {
    if (typeof value !== 'string') return false;
    const dot = value.indexOf('.');
    if (dot <= 0) return false;
    const timestamp = value.slice(0, dot);
    const age = this.#clock() - Number(timestamp);
    if (!Number.isFinite(age) || Math.abs(age) > WINDOW_MS) return false;
    const expected = Buffer.from(this.#mac(await this.#key(), sessionId, timestamp));
    const given = Buffer.from(value.slice(dot + 1));
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  #mac(key: Buffer, sessionId: string, timestamp: string): string {
    return createHmac('sha256', key).update(`${timestamp}\n${sessionId}`).digest('base64url');
  }

  #key(): Promise<Buffer> {
    this.#secret ??= (async () => {
      await this.#store.setIfAbsent(SECRET_KEY, randomBytes(32).toString('base64url'));
      const shared = await this.#store.get(SECRET_KEY);
      if (!shared) throw new Error('forwarding secret missing from the store');
      return Buffer.from(shared, 'base64url');
    })().catch((error: unknown) => {
      this.#secret = undefined; // a store outage must not poison the cache
      throw error;
    });
    return this.#secret;
  }
}
