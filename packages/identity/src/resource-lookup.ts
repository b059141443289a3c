import { CognitoError } from './cognito-error.ts';
import type { IdentityContext } from './identity-context.ts';
import type { ClientRecord, PoolRecord, UserRecord } from './user-store.ts';
import type { GroupRecord } from './group-store.ts';

/** The pool, client, user or group a request names, or Cognito's not-found error for it. */
export function poolOf(context: IdentityContext, poolId: string): PoolRecord {
  const pool = context.users.poolById(poolId);
  if (!pool) throw new CognitoError('ResourceNotFoundException', `User pool ${poolId} does not exist.`);
  return pool;
}

export function userOf(context: IdentityContext, poolId: string, username: string): UserRecord {
  const user = context.users.user(poolOf(context, poolId).id, username);
  if (!user) throw new CognitoError('UserNotFoundException', 'User does not exist.');
  return user;
}

export function clientOf(context: IdentityContext, pool: PoolRecord, clientId: string): ClientRecord {
  const client = context.users.clientById(clientId);
  if (!client || client.poolId !== pool.id) throw new CognitoError('ResourceNotFoundException', `User pool client ${clientId} does not exist.`);
  return client;
}

export function groupOf(context: IdentityContext, pool: PoolRecord, name: string): GroupRecord {
  const group = context.groups.group(pool.id, name);
  if (!group) throw new CognitoError('ResourceNotFoundException', `Group ${name} not found.`);
  return group;
}
