import { EmbeddedStore, type Logger, type SharedStore } from '@gatehouse/core';
import { RedisStore, type StoreOperation } from './redis-store.ts';

export interface CreateStoreOptions {
  readonly logger?: Logger | undefined;
  /** Key namespace inside Redis; defaults to `gatehouse:`. Ignored by the embedded store. */
  readonly keyPrefix?: string | undefined;
  /** How long to wait for Redis at start before giving up (ms). */
  readonly connectTimeoutMs?: number | undefined;
  /** Called for every operation refused because Redis was unreachable. */
  readonly onUnavailable?: ((operation: StoreOperation) => void) | undefined;
}

export class StoreUrlError extends Error {
  readonly code = 'StoreUrlInvalid';
  constructor(url: string) {
    super(`store must be "embedded" or a redis:// / rediss:// URL (got "${url.replace(/\/\/[^@/]*@/, '//***@')}")`);
  }
}

/**
 * The one `store:` setting turned into a store: `embedded` for one instance, a Redis URL for several.
 * A Redis store is connected before this resolves, so a wrong URL stops the start with a clear error
 * instead of turning every later request into a 503.
 */
export async function createStore(url: string, options: CreateStoreOptions = {}): Promise<SharedStore> {
  if (url === 'embedded') return new EmbeddedStore();
  if (!/^rediss?:\/\//.test(url)) throw new StoreUrlError(url);
  const store = new RedisStore(url, { logger: options.logger, keyPrefix: options.keyPrefix ?? 'gatehouse:', onUnavailable: options.onUnavailable });
  try {
    await store.connect(options.connectTimeoutMs ?? 5000);
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}
