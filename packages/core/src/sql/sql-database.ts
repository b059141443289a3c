/** A value bound to a `?` placeholder. Booleans are not bound: store 0/1 so both engines read the same. */
export type SqlValue = string | number | bigint | null | Uint8Array;

export type SqlRow = Record<string, unknown>;

export type SqlEngine = 'sqlite' | 'postgres';

/**
 * What a store runs its SQL through. Statements use `?` placeholders on both engines (PostgreSQL's are
 * numbered for it); write SQL both accept (`ON CONFLICT … DO …`, quoted reserved names such as `"user"`),
 * and branch on `engine` for the few places they differ (JSON access, `GREATEST` vs `MAX`).
 * Integers that may exceed 2^31 (millisecond times) are BIGINT columns; PostgreSQL returns them as
 * strings, so read numbers with `Number(row.column)`.
 */
export interface SqlExecutor {
  readonly engine: SqlEngine;
  many<T = SqlRow>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  one<T = SqlRow>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** A write; `changes` counts the rows it touched. */
  run(sql: string, params?: readonly SqlValue[]): Promise<{ readonly changes: number }>;
  /** Several `;`-separated statements without parameters (schema changes). */
  exec(sql: string): Promise<void>;
}

export interface Migration {
  /** 1, 2, 3… in the order they apply; never renumbered once released. */
  readonly version: number;
  readonly name: string;
  readonly up: (tx: SqlExecutor) => Promise<void>;
}

export interface SqlDatabase extends SqlExecutor {
  /**
   * Runs `work` in one transaction: all of it is written, or none of it. On SQLite it is BEGIN IMMEDIATE
   * (one writer at a time); on PostgreSQL it is SERIALIZABLE and retried when PostgreSQL reports a
   * serialization conflict, so `work` must not have effects outside the database that cannot repeat.
   * Statements and transactions started through this object from inside `work` (in the same async
   * context) join the transaction, so stores compose: `db.transaction(() => users.create(…))`.
   */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Applies the migrations of one concern (`identity`, `audit`, …) not yet applied, under a lock; see `applyMigrations`. */
  migrate(concern: string, migrations: readonly Migration[]): Promise<void>;
  /** The versions applied per concern. */
  status(): Promise<{ concern: string; version: number; name: string; appliedAt: number }[]>;
  /** Where the data lives, for messages (`/data/identity.db`, `postgres://db.example:5432/gatehouse`); never a password. */
  readonly location: string;
  close(): Promise<void>;
}

/** The database was reached but refused the work for a reason an operator must fix, or could not be reached at start. */
export class DatabaseStartError extends Error {
  readonly code = 'DatabaseStartError';
}

/** The database cannot be reached right now (PostgreSQL down or restarting); the request fails closed and a retry may work. */
export class DatabaseUnavailableError extends Error {
  readonly code = 'DatabaseUnavailable';
}

/** The database holds a schema newer than this build knows: started against a database an upgraded instance migrated. */
export class SchemaTooNewError extends DatabaseStartError {}

export const MIGRATIONS_TABLE = 'schema_migrations';

/** True when a write broke a UNIQUE or PRIMARY KEY constraint (two callers raced for the same name). */
export function isUniqueViolation(error: unknown): boolean {
  const { code, errcode } = (error ?? {}) as { code?: unknown; errcode?: unknown };
  return code === '23505' || errcode === 2067 || errcode === 1555;
}

/**
 * The shared half of `migrate`: inside a transaction the caller holds a lock for, reads what is applied,
 * refuses a newer schema, applies the rest in order.
 */
export async function applyMigrations(tx: SqlExecutor, concern: string, migrations: readonly Migration[], now: number): Promise<void> {
  const applied = await tx.many<{ version: unknown }>(`SELECT version FROM ${MIGRATIONS_TABLE} WHERE concern = ?`, [concern]);
  const versions = new Set(applied.map((row) => Number(row.version)));
  const known = migrations.reduce((max, migration) => Math.max(max, migration.version), 0);
  const newest = Math.max(0, ...versions);
  if (newest > known) {
    throw new SchemaTooNewError(
      `the ${concern} schema in the database is at version ${newest}, newer than this build knows (${known}); an upgraded Gatehouse migrated it. Run that version (or newer) of Gatehouse, or restore a backup taken before the upgrade`,
    );
  }
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    if (versions.has(migration.version)) continue;
    await migration.up(tx);
    await tx.run(`INSERT INTO ${MIGRATIONS_TABLE} (concern, version, name, applied_at) VALUES (?, ?, ?, ?)`, [concern, migration.version, migration.name, now]);
  }
}

export const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
  concern TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, applied_at BIGINT NOT NULL, PRIMARY KEY (concern, version))`;
