import type { Platform } from '@gatehouse/core';
import { DEFAULT_GROUPS, poolConfigs, SERVICE_CLIENTS } from './bootstrap-pools.ts';
import { CognitoError } from './cognito-error.ts';
import type { ClientRecord, PoolRecord } from './user-store.ts';

/**
 * Pools, clients and groups declared in gatehouse.yaml (or Gatehouse's built-in default pool) are
 * applied again at every start. The management API therefore refuses to change or delete them —
 * a change would be silently undone by the next start — and names where to make it instead.
 */
function where(platform: Platform): string {
  return platform.config.identity?.userPools?.length ? 'gatehouse.yaml (identity.userPools)' : "Gatehouse's built-in default configuration (declare identity.userPools in gatehouse.yaml to manage it)";
}

function declaredPoolIndex(platform: Platform, pool: PoolRecord): number {
  return poolConfigs(platform).findIndex((config) => config.poolName === pool.name);
}

export function refuseIfDeclaredPool(platform: Platform, pool: PoolRecord, action: string): void {
  if (declaredPoolIndex(platform, pool) < 0) return;
  throw new CognitoError('InvalidParameterException', `User pool ${pool.id} (${pool.name}) is declared in ${where(platform)}, which is applied at every start; ${action} it there, not through the API.`);
}

export function refuseIfDeclaredClient(platform: Platform, pool: PoolRecord, client: ClientRecord, action: string): void {
  const index = declaredPoolIndex(platform, pool);
  if (index < 0) return;
  if (Object.values(SERVICE_CLIENTS).includes(client.name as never)) {
    throw new CognitoError('InvalidParameterException', `App client ${client.id} (${client.name}) is Gatehouse's own service client for token exchange; it cannot be changed or deleted.`);
  }
  if (poolConfigs(platform)[index]!.clients.some((config) => config.clientName === client.name)) {
    throw new CognitoError('InvalidParameterException', `App client ${client.id} (${client.name}) is declared in ${where(platform)}, which is applied at every start; ${action} it there, not through the API.`);
  }
}

export function refuseIfDeclaredGroup(platform: Platform, pool: PoolRecord, groupName: string, action: string): void {
  const index = declaredPoolIndex(platform, pool);
  if (index < 0) return;
  const groups = [...(index === 0 ? DEFAULT_GROUPS : []), ...poolConfigs(platform)[index]!.groups];
  if (!groups.some((group) => group.groupName === groupName)) return;
  throw new CognitoError('InvalidParameterException', `Group ${groupName} of pool ${pool.id} is declared in ${where(platform)} and re-created at every start; ${action} it there, not through the API.`);
}
