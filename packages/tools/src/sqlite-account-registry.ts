import { openDatabase, type Database } from '@gatehouse/core';
import { parseAccount, type Account } from './account.ts';
import type { AccountRegistry } from './account-registry.ts';

interface AccountRow {
  account_id: string;
  name: string;
  environment: string;
  role_name: string;
  external_id: string | null;
  region: string | null;
  enabled: number;
}

/** node:sqlite's extended result code for a UNIQUE constraint (a PRIMARY KEY one is 1555). */
const SQLITE_CONSTRAINT_UNIQUE = 2067;

function fromRow(row: AccountRow): Account {
  return {
    accountId: row.account_id,
    name: row.name,
    environment: row.environment,
    roleName: row.role_name,
    enabled: row.enabled === 1,
    ...(row.external_id !== null ? { externalId: row.external_id } : {}),
    ...(row.region !== null ? { region: row.region } : {}),
  };
}

/** The embedded registry: one table in `{dataDir}/accounts.db`, columns named as the seeds' DynamoDB attributes. */
export function createSqliteAccountRegistry(file: string): AccountRegistry {
  const database: Database = openDatabase(file);
  database.exec(`CREATE TABLE IF NOT EXISTS accounts (
    account_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_lower TEXT NOT NULL UNIQUE,
    environment TEXT NOT NULL DEFAULT '',
    role_name TEXT NOT NULL,
    external_id TEXT,
    region TEXT,
    enabled INTEGER NOT NULL DEFAULT 1
  )`);
  const selectAll = database.prepare('SELECT * FROM accounts ORDER BY name_lower');
  const selectId = database.prepare('SELECT * FROM accounts WHERE account_id = ?');
  const selectName = database.prepare('SELECT * FROM accounts WHERE name_lower = ?');
  const upsert = database.prepare(`INSERT INTO accounts (account_id, name, name_lower, environment, role_name, external_id, region, enabled)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT(account_id) DO UPDATE SET name = excluded.name, name_lower = excluded.name_lower, environment = excluded.environment,
      role_name = excluded.role_name, external_id = excluded.external_id, region = excluded.region, enabled = excluded.enabled`);
  const updateEnabled = database.prepare('UPDATE accounts SET enabled = ? WHERE account_id = ?');
  const deleteId = database.prepare('DELETE FROM accounts WHERE account_id = ?');

  return {
    async list() {
      return (selectAll.all() as unknown as AccountRow[]).map(fromRow);
    },
    async get(idOrName) {
      const wanted = idOrName.trim();
      const row = (/^\d{12}$/.test(wanted) ? selectId.get(wanted) : selectName.get(wanted.toLowerCase())) as AccountRow | undefined;
      return row ? fromRow(row) : undefined;
    },
    async put(input) {
      const account = parseAccount(input);
      try {
        upsert.run(account.accountId, account.name, account.name.toLowerCase(), account.environment, account.roleName,
          account.externalId ?? null, account.region ?? null, account.enabled ? 1 : 0);
      } catch (error) {
        // A unique violation (SQLITE_CONSTRAINT_UNIQUE) can only be name_lower's: the primary key is upserted.
        if ((error as { errcode?: unknown }).errcode === SQLITE_CONSTRAINT_UNIQUE) {
          throw new Error(`Another account is already named "${account.name}" (names are case-insensitive)`, { cause: error });
        }
        throw error;
      }
    },
    async setEnabled(accountId, enabled) {
      return Number(updateEnabled.run(enabled ? 1 : 0, accountId).changes) > 0;
    },
    async remove(accountId) {
      return Number(deleteId.run(accountId).changes) > 0;
    },
    async close() {
      if (database.isOpen) database.close();
    },
  };
}
