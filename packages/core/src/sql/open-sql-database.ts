import { preparePrivateFile, restrictPrivateFile } from '../private-database.ts';
import { DatabaseStartError, type Migration, type SqlDatabase } from './sql-database.ts';
import { SqliteDatabase } from './sqlite-engine.ts';
import { PostgresDatabase } from './postgres-engine.ts';

export interface OpenSqlDatabaseOptions {
  /** The config's `database`: `embedded` (or undefined) for SQLite, else a `postgres://` URL. */
  readonly database?: string | undefined;
  /** The SQLite file of this concern (`{dataDir}/identity.db`); unused with PostgreSQL. */
  readonly file: string;
  /** Create the SQLite file (and its -wal/-shm) readable by the owner only: it holds key material or secrets. */
  readonly ownerOnly?: boolean;
  /** Extra PRAGMAs for the SQLite file (e.g. `PRAGMA synchronous = NORMAL`); ignored on PostgreSQL. */
  readonly sqlitePragmas?: string;
  /** PostgreSQL pool size (default 10). */
  readonly poolSize?: number;
  /** The concern's migrations, applied before the database is handed out (closed again if they fail). */
  readonly migrations?: { readonly concern: string; readonly list: readonly Migration[] };
}

/** Whether the config asks for PostgreSQL. */
export function usesPostgres(database: string | undefined): database is string {
  return database !== undefined && database !== 'embedded';
}

/**
 * Opens the durable store of one concern: its SQLite file by default, or the shared PostgreSQL database.
 * A PostgreSQL that cannot be used fails here with a DatabaseStartError naming why (bad URL, refused
 * password, unreachable server…); missing privileges surface from the first `migrate`.
 */
export async function openSqlDatabase(options: OpenSqlDatabaseOptions): Promise<SqlDatabase> {
  const database = await openEngine(options);
  if (!options.migrations) return database;
  try {
    await database.migrate(options.migrations.concern, options.migrations.list);
  } catch (error) {
    await database.close().catch(() => undefined);
    throw error;
  }
  return database;
}

async function openEngine(options: OpenSqlDatabaseOptions): Promise<SqlDatabase> {
  if (!usesPostgres(options.database)) {
    const sqlite = openSqlite(options.file, options.ownerOnly ?? false);
    if (options.sqlitePragmas) sqlite.raw.exec(options.sqlitePragmas);
    return sqlite;
  }
  if (!URL.canParse(options.database) || !/^postgres(ql)?:$/.test(new URL(options.database).protocol) || !new URL(options.database).hostname) {
    throw new DatabaseStartError('the database URL is not valid: expected postgres://USER:PASSWORD@HOST:5432/DATABASE (set `database:` in gatehouse.yaml or GATEHOUSE_DATABASE_URL)');
  }
  const database = new PostgresDatabase(options.database, { max: options.poolSize });
  try {
    await database.check();
  } catch (error) {
    await database.close().catch(() => undefined);
    throw error;
  }
  return database;
}

/** With `ownerOnly`, the file is made private (0600, core/src/private-database.ts) before and after SQLite opens it. */
function openSqlite(file: string, ownerOnly: boolean): SqliteDatabase {
  if (ownerOnly && file !== ':memory:') preparePrivateFile(file);
  const database = new SqliteDatabase(file);
  if (ownerOnly && file !== ':memory:') restrictPrivateFile(file);
  return database;
}
