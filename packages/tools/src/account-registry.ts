import path from 'node:path';
import type { ToolsConfig } from '@gatehouse/core';
import type { Account } from './account.ts';
import { createSqliteAccountRegistry } from './sqlite-account-registry.ts';
import { createDynamoDbAccountRegistry } from './dynamodb-account-registry.ts';

/** Where member accounts are listed. SQLite by default; DynamoDB (the seeds' table) in production. */
export interface AccountRegistry {
  list(): Promise<readonly Account[]>;
  /** By 12-digit id, or by name (case-insensitive). */
  get(idOrName: string): Promise<Account | undefined>;
  put(account: Account): Promise<void>;
  /** False when no such account. */
  setEnabled(accountId: string, enabled: boolean): Promise<boolean>;
  /** False when no such account. */
  remove(accountId: string): Promise<boolean>;
  close?(): Promise<void>;
}

export async function createAccountRegistry(config: ToolsConfig['registry'], dataDir: string): Promise<AccountRegistry> {
  if (config.backend === 'dynamodb') {
    return createDynamoDbAccountRegistry({
      tableName: config.tableName,
      ...(config.endpoint !== undefined ? { endpoint: config.endpoint } : {}),
      ...(config.region !== undefined ? { region: config.region } : {}),
    });
  }
  return createSqliteAccountRegistry(path.join(dataDir, 'accounts.db'));
}

/** Finds an account by id or name among `accounts` (case-insensitive names). */
export function findAccount(accounts: readonly Account[], idOrName: string): Account | undefined {
  const wanted = idOrName.trim();
  if (/^\d{12}$/.test(wanted)) return accounts.find((account) => account.accountId === wanted);
  const lower = wanted.toLowerCase();
  return accounts.find((account) => account.name.toLowerCase() === lower);
}
