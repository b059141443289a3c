import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DatabaseStartError, type SqlDatabase } from './sql-database.ts';
import { SqliteDatabase } from './sqlite-engine.ts';
import { PostgresDatabase } from './postgres-engine.ts';

const OWNER_ONLY = 0o600;

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

function restrict(file: string): void {
  for (const suffix of ['', '-wal', '-shm']) if (existsSync(file + suffix)) chmodSync(file + suffix, OWNER_ONLY);
}

/**
 * With `ownerOnly`, the file is created empty with mode 0600 before SQLite opens it (SQLite gives its -wal
 * and -shm files the database file's mode), and files left by older versions with a wider mode are narrowed.
 */
function openSqlite(file: string, ownerOnly: boolean): SqliteDatabase {
  if (ownerOnly && file !== ':memory:') {
    if (!existsSync(file)) {
      mkdirSync(path.dirname(file), { recursive: true });
      try {
        writeFileSync(file, '', { mode: OWNER_ONLY, flag: 'wx' });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    restrict(file);
  }
  const database = new SqliteDatabase(file);
  if (ownerOnly && file !== ':memory:') restrict(file);
  return database;
}
