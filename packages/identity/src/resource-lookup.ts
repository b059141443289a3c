import { CognitoError } from './cognito-error.ts';
import type { IdentityContext } from './identity-context.ts';
import type { ClientRecord, PoolRecord, UserRecord } from './user-store.ts';
import type { GroupRecord } from './group-store.ts';

/** The pool, client, user or group a request names, or Cognito's not-found error for it. */
export async function poolOf(context: IdentityContext, poolId: string): Promise<PoolRecord> {
  const pool = await context.users.poolById(poolId);
  if (!pool) throw new CognitoError('ResourceNotFoundException', `User pool ${poolId} does not exist.`);
  return pool;
}

export async function userOf(context: IdentityContext, poolId: string, username: string): Promise<UserRecord> {
  const user = await context.users.user((await poolOf(context, poolId)).id, username);
  if (!user) throw new CognitoError('UserNotFoundException', 'User does not exist.');
  return user;
}

export async function clientOf(context: IdentityContext, pool: PoolRecord, clientId: string): Promise<ClientRecord> {
  const client = await context.users.clientById(clientId);
  if (!client || client.poolId !== pool.id) throw new CognitoError('ResourceNotFoundException', `User pool client ${clientId} does not exist.`);
  return client;
}

export async function groupOf(context: IdentityContext, pool: PoolRecord, name: string): Promise<GroupRecord> {
  const group = await context.groups.group(pool.id, name);
  if (!group) throw new CognitoError('ResourceNotFoundException', `Group ${name} not found.`);
  return group;
}
