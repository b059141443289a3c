import type { UserStore, PoolRecord } from './user-store.ts';
import { SERVICE_CLIENTS } from './bootstrap-pools.ts';

export interface PoolSummary {
  userPoolId: string;
  issuer: string;
  discoveryUrl: string;
  clients: { clientName: string; clientId: string }[];
}

/** The pools' ids, clients and service-client secrets as they were when identity started, read once. */
export interface PoolDirectory {
  readonly summaries: ReadonlyMap<string, PoolSummary>;
  /** Keyed `{poolName}\n{clientName}`: service clients are made at bootstrap and their secrets never change. */
  readonly serviceClients: ReadonlyMap<string, { clientId: string; clientSecret: string }>;
  /** The first pool's `web` client, else its first client that is not a service client. */
  readonly webClientId: string;
}

export async function readPoolDirectory(users: UserStore, pools: readonly PoolRecord[], issuer: (poolId: string) => string): Promise<PoolDirectory> {
  const summaries = new Map<string, PoolSummary>();
  for (const pool of await users.listPools()) {
    summaries.set(pool.name, {
      userPoolId: pool.id,
      issuer: issuer(pool.id),
      discoveryUrl: `${issuer(pool.id)}/.well-known/openid-configuration`,
      clients: (await users.listClients(pool.id)).map((client) => ({ clientName: client.name, clientId: client.id })),
    });
  }
  const serviceClients = new Map<string, { clientId: string; clientSecret: string }>();
  for (const pool of pools) {
    for (const name of Object.values(SERVICE_CLIENTS)) {
      const client = await users.clientByName(pool.id, name);
      if (client?.secret) serviceClients.set(`${pool.name}\n${name}`, { clientId: client.id, clientSecret: client.secret });
    }
  }
  const firstPool = pools[0]!;
  const webClient = (await users.clientByName(firstPool.id, 'web')) ?? (await users.listClients(firstPool.id)).find((client) => !Object.values(SERVICE_CLIENTS).includes(client.name as never));
  return { summaries, serviceClients, webClientId: webClient?.id ?? '' };
}
