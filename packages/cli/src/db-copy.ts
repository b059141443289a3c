import path from 'node:path';
import { openSqlDatabase, type SqlDatabase, type SqlValue } from '@gatehouse/core';

/** Tables per concern in the order rows must arrive (pools before the clients and users that reference them). */
const TABLES: Record<string, readonly string[]> = {
  identity: [
    'pools', 'clients', 'users', 'groups', 'group_members', 'signing_keys', 'refresh_tokens', 'revoked_origins', 'access_keys',
    'authorization_codes', 'login_sessions', 'meta', 'user_codes', 'perimeter_entries', 'vault_tokens', 'vault_sessions',
  ],
  audit: ['tool_calls'],
  'sandbox-credentials': ['temporary_credentials'],
  'control-plane': ['resources'],
};

/** Identity's sealed columns: opened with the data dir's box (old values: identity-master.key) and sealed again with the target's box. */
const RESEALED: Record<string, string> = { signing_keys: 'private_sealed', access_keys: 'secret_access_key' };

export interface Reseal {
  readonly open: (sealed: string) => string;
  readonly seal: (plain: string) => string;
}

/**
 * Copies one concern's rows from its SQLite file into an empty PostgreSQL database (already migrated), in one
 * transaction. Audit rows get new ids in their order; the sealing-key fingerprint is the target's own.
 */
export async function copyConcern(options: { concern: string; dataDir: string; file: string; target: SqlDatabase; reseal?: Reseal | undefined }): Promise<number> {
  const source = await openSqlDatabase({ file: path.join(options.dataDir, options.file) });
  let copied = 0;
  try {
    await options.target.transaction(async () => {
      for (const table of TABLES[options.concern] ?? []) {
        const present = await options.target.one('SELECT 1 AS present FROM ' + table + ' LIMIT 1');
        if (present && table !== 'meta') throw new Error(`the target already has ${table} rows: copy into an empty database`);
        const rows = await source.many<Record<string, SqlValue>>(`SELECT * FROM ${table}${table === 'tool_calls' ? ' ORDER BY id' : ''}`).catch(() => []);
        for (const row of rows) {
          if (table === 'tool_calls') delete row.id;
          if (table === 'meta' && row.key === 'sealing-key-check') continue;
          const column = RESEALED[table];
          if (column && options.reseal && typeof row[column] === 'string') row[column] = options.reseal.seal(options.reseal.open(row[column]));
          const columns = Object.keys(row);
          const quoted = columns.map((name) => `"${name}"`).join(', ');
          await options.target.run(`INSERT INTO ${table} (${quoted}) VALUES (${columns.map(() => '?').join(', ')})${table === 'meta' ? ' ON CONFLICT DO NOTHING' : ''}`, columns.map((name) => row[name]!));
          copied++;
        }
      }
    });
  } finally {
    await source.close();
  }
  return copied;
}
