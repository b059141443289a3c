import { CognitoError } from './cognito-error.ts';
import type { Operation } from './cognito-api.ts';
import { parseInput } from './cognito-input.ts';
import {
  createUserPoolClientSchema, createUserPoolSchema, listUserPoolClientsSchema, listUserPoolsSchema, updateUserPoolClientSchema, updateUserPoolSchema, userPoolClientSchema,
  userPoolIdSchema,
} from './management-input.ts';
import { newClientId, newClientSecret, newPoolId } from './bootstrap-pools.ts';
import { PoolNameTakenError, type PoolRecord } from './user-store.ts';
import type { IdentityContext } from './identity-context.ts';
import { clientOf, poolOf } from './resource-lookup.ts';
import { poolSettingsFrom, userPoolDescription, userPoolShape } from './pool-settings.ts';
import { clientSettingsFrom, userPoolClientShape } from './app-client-settings.ts';
import { refuseIfDeclaredClient, refuseIfDeclaredPool } from './declared-resources.ts';
import { pageToken, readPageToken } from './page-token.ts';

async function describePool(context: IdentityContext, pool: PoolRecord): Promise<Record<string, unknown>> {
  const { region, accountId } = context.platform.config;
  return userPoolShape(pool, region, accountId, await context.users.countUsers(pool.id));
}

function nameTaken(error: unknown): never {
  if (error instanceof PoolNameTakenError) {
    throw new CognitoError('InvalidParameterException', `PoolName: ${error.message}; Gatehouse pool names are unique (gatehouse.yaml and the CLI find pools by name)`);
  }
  throw error;
}

/** One page of an in-memory list ordered by a unique name; `after` comes from the previous page's token. */
function pageOf<T>(items: readonly T[], key: (item: T) => string, after: string | undefined, limit: number): { items: T[]; next: string | undefined } {
  const sorted = [...items].sort((left, right) => (key(left) < key(right) ? -1 : key(left) > key(right) ? 1 : 0));
  const rest = after === undefined ? sorted : sorted.filter((item) => key(item) > after);
  const page = rest.slice(0, limit);
  return { items: page, next: rest.length > limit ? pageToken(key(page[page.length - 1]!)) : undefined };
}

/**
 * The user-pool and app-client management operations (SigV4, admin key). Changes are written to
 * identity.db and take effect with the next request. Pools and clients declared in gatehouse.yaml
 * cannot be changed or deleted here (declared-resources.ts).
 */
export const poolOperations: Record<string, Operation> = {
  async CreateUserPool(context, body) {
    const input = parseInput(createUserPoolSchema, body);
    const { PoolName, ...fields } = input;
    const settings = poolSettingsFrom(fields);
    const id = newPoolId(context.platform.config.region);
    let pool: PoolRecord;
    try {
      pool = await context.atomically(async () => {
        const created = await context.users.createPool(id, PoolName, settings);
        await context.keys.ensureKeys(id);
        return created;
      });
    } catch (error) {
      nameTaken(error);
    }
    return { UserPool: await describePool(context, pool) };
  },
  async DescribeUserPool(context, body) {
    const pool = await poolOf(context, parseInput(userPoolIdSchema, body).UserPoolId);
    return { UserPool: await describePool(context, pool) };
  },
  async ListUserPools(context, body) {
    const input = parseInput(listUserPoolsSchema, body);
    const page = pageOf(await context.users.listPools(), (pool) => pool.name, readPageToken(input.NextToken, 'NextToken'), input.MaxResults);
    return { UserPools: page.items.map(userPoolDescription), ...(page.next ? { NextToken: page.next } : {}) };
  },
  async UpdateUserPool(context, body) {
    const input = parseInput(updateUserPoolSchema, body);
    const pool = await poolOf(context, input.UserPoolId);
    refuseIfDeclaredPool(context.platform, pool, 'change');
    const { UserPoolId: _id, PoolName, ...fields } = input;
    const settings = poolSettingsFrom(fields, pool.settings);
    try {
      await context.users.updatePool(pool.id, PoolName ?? pool.name, settings);
    } catch (error) {
      nameTaken(error);
    }
    return {};
  },
  async DeleteUserPool(context, body) {
    const pool = await poolOf(context, parseInput(userPoolIdSchema, body).UserPoolId);
    refuseIfDeclaredPool(context.platform, pool, 'remove');
    if (pool.settings.cognito?.DeletionProtection === 'ACTIVE') {
      throw new CognitoError('InvalidParameterException', 'The user pool cannot be deleted because deletion protection is activated; UpdateUserPool with DeletionProtection INACTIVE first');
    }
    await context.atomically(async () => {
      // its sign-ins end on every instance (the deny-list is shared), not only where the keys are gone
      for (const user of await context.users.listUsers(pool.id, 1_000_000)) await context.tokens.revokeUser(pool.id, user.username);
      await context.users.deletePool(pool.id);
    });
    return {};
  },

  async CreateUserPoolClient(context, body) {
    const input = parseInput(createUserPoolClientSchema, body);
    const pool = await poolOf(context, input.UserPoolId);
    if (await context.users.clientByName(pool.id, input.ClientName)) {
      throw new CognitoError('InvalidParameterException', `ClientName: pool ${pool.id} already has a client named ${input.ClientName}; Gatehouse client names are unique per pool (gatehouse.yaml matches clients by name)`);
    }
    if (input.ClientSecret !== undefined && input.GenerateSecret !== true) throw new CognitoError('InvalidParameterException', 'ClientSecret: needs GenerateSecret true');
    const secret = input.GenerateSecret ? (input.ClientSecret ?? newClientSecret()) : undefined;
    const settings = clientSettingsFrom(input, pool, secret !== undefined);
    const id = newClientId();
    await context.users.upsertClient({ id, poolId: pool.id, name: input.ClientName, secret, settings });
    return { UserPoolClient: userPoolClientShape((await context.users.clientById(id))!, pool, true) };
  },
  async DescribeUserPoolClient(context, body) {
    const input = parseInput(userPoolClientSchema, body);
    const pool = await poolOf(context, input.UserPoolId);
    return { UserPoolClient: userPoolClientShape(await clientOf(context, pool, input.ClientId), pool, true) };
  },
  async ListUserPoolClients(context, body) {
    const input = parseInput(listUserPoolClientsSchema, body);
    const pool = await poolOf(context, input.UserPoolId);
    const page = pageOf(await context.users.listClients(pool.id), (client) => client.name, readPageToken(input.NextToken, 'NextToken'), input.MaxResults ?? 60);
    return {
      UserPoolClients: page.items.map((client) => ({ ClientId: client.id, UserPoolId: client.poolId, ClientName: client.name })),
      ...(page.next ? { NextToken: page.next } : {}),
    };
  },
  async UpdateUserPoolClient(context, body) {
    const input = parseInput(updateUserPoolClientSchema, body);
    const pool = await poolOf(context, input.UserPoolId);
    const client = await clientOf(context, pool, input.ClientId);
    refuseIfDeclaredClient(context.platform, pool, client, 'change');
    const name = input.ClientName ?? client.name;
    const other = await context.users.clientByName(pool.id, name);
    if (other && other.id !== client.id) throw new CognitoError('InvalidParameterException', `ClientName: pool ${pool.id} already has a client named ${name}`);
    await context.users.updateClient(client.id, name, clientSettingsFrom(input, pool, client.secret !== undefined));
    return { UserPoolClient: userPoolClientShape((await context.users.clientById(client.id))!, pool, false) };
  },
  async DeleteUserPoolClient(context, body) {
    const input = parseInput(userPoolClientSchema, body);
    const pool = await poolOf(context, input.UserPoolId);
    const client = await clientOf(context, pool, input.ClientId);
    refuseIfDeclaredClient(context.platform, pool, client, 'remove');
    await context.atomically(async () => {
      await context.tokens.revokeClient(client.id);
      await context.users.deleteClient(client.id);
    });
    return {};
  },
};
