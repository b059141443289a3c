import type { Server } from 'node:http';
import { createAppServer, closeServer, createLogger, listen, parseConfig, systemClock, type HttpComponent, type Platform, type SharedStore } from '@gatehouse/core';
import { createIdentity, type IdentityService } from '@gatehouse/identity';
import { createRuntime, type RuntimeService } from '@gatehouse/runtime';
import { RedisStore } from '@gatehouse/cluster';

/** One Gatehouse instance as `gatehouse identity` + `gatehouse runtime` would run it, on a shared data dir and Redis. */
export interface Instance {
  readonly url: string;
  readonly identity: IdentityService;
  readonly runtime: RuntimeService;
  readonly store: SharedStore;
  /** Stops listening and closes the components (sessions ended, agent processes stopped). */
  close(): Promise<void>;
}

export interface InstanceOptions {
  readonly port: number;
  readonly dataDir: string;
  /** The public base URL every instance shares (issuers derive from it). */
  readonly baseUrl: string;
  readonly redisUrl: string;
  /** Builds the `runtimes` section once the identity's default pool is known. */
  readonly runtimes: (pool: IdentityService['defaultPool']) => unknown[];
}

export async function startInstance(options: InstanceOptions): Promise<Instance> {
  const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const store = new RedisStore(options.redisUrl, { logger, keyPrefix: 'gatehouse:', maxReconnectDelayMs: 100 });
  await store.connect();
  const components: HttpComponent[] = [];
  const server: Server = createAppServer(components, logger);
  await listen(server, options.port);
  const url = `http://127.0.0.1:${options.port}`;
  const base = parseConfig({}, 'test');
  const basePlatform: Platform = { config: base, dataDir: options.dataDir, baseUrl: options.baseUrl, logger, clock: systemClock, store };
  const identity = await createIdentity(basePlatform);
  const config = parseConfig({ runtimes: options.runtimes(identity.defaultPool) }, 'test runtimes');
  const platform: Platform = { ...basePlatform, config };
  const runtime = await createRuntime(
    platform,
    {
      lookupAccessKey: (id) => identity.lookupAccessKey(id),
      defaultWorkloadAudience: `${options.baseUrl}/mcp`,
      isRevoked: (claims) => identity.isRevoked(claims),
      instanceUrl: url,
    },
    { drainTimeoutMs: 2000 },
  );
  components.push(runtime, identity);
  let closed = false;
  return {
    url,
    identity,
    runtime,
    store,
    async close() {
      if (closed) return;
      closed = true;
      await closeServer(server);
      await runtime.close();
      await identity.close();
      await store.close();
    },
  };
}
