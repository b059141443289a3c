import { AsyncLocalStorage } from 'node:async_hooks';
import type { StatementSync } from 'node:sqlite';
import { openDatabase, type Database } from '../sqlite.ts';
import { applyMigrations, CREATE_MIGRATIONS_TABLE, MIGRATIONS_TABLE, type Migration, type SqlDatabase, type SqlExecutor, type SqlRow, type SqlValue } from './sql-database.ts';

/** Statements by SQL text, prepared once per connection (the hot paths run the same few thousands of times). */
class StatementCache {
  readonly #database: Database;
  readonly #statements = new Map<string, StatementSync>();
  constructor(database: Database) {
    this.#database = database;
  }
  get(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#database.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }
}

function executor(database: Database, statements: StatementCache): SqlExecutor {
  return {
    engine: 'sqlite',
    many: <T>(sql: string, params: readonly SqlValue[] = []) => Promise.resolve(statements.get(sql).all(...params) as T[]),
    one: <T>(sql: string, params: readonly SqlValue[] = []) => Promise.resolve(statements.get(sql).get(...params) as T | undefined),
    run: (sql: string, params: readonly SqlValue[] = []) => Promise.resolve({ changes: Number(statements.get(sql).run(...params).changes) }),
    exec: (sql: string) => Promise.resolve(database.exec(sql)),
  };
}

/**
 * SQLite through node:sqlite (synchronous, one connection). Statements outside a transaction run at
 * once; a transaction holds the connection until it ends, so statements from other requests wait for
 * it instead of landing inside it (they would be rolled back with it). Statements and transactions
 * started from inside `work` join it (stores compose without passing `tx` around).
 */
export class SqliteDatabase implements SqlDatabase {
  readonly engine = 'sqlite' as const;
  readonly location: string;
  readonly #database: Database;
  readonly #direct: SqlExecutor;
  /** Settles when the transaction in progress (if any) ends; the next one chains on it. */
  #idle: Promise<void> = Promise.resolve();
  #busy = false;
  /** The transaction the current async context runs in: its statements (and nested transactions) join it. */
  readonly #inside = new AsyncLocalStorage<SqlExecutor>();

  constructor(file: string) {
    this.location = file;
    this.#database = openDatabase(file);
    this.#direct = executor(this.#database, new StatementCache(this.#database));
  }

  /** The underlying connection, for settings only this engine has (PRAGMAs). */
  get raw(): Database {
    return this.#database;
  }

  async many<T = SqlRow>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    if (this.#inside.getStore()) return this.#direct.many<T>(sql, params);
    // checked again after every wait, and the statement runs in the same turn: no transaction can slip in between
    while (this.#busy) await this.#idle;
    return this.#direct.many<T>(sql, params);
  }
  async one<T = SqlRow>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    if (this.#inside.getStore()) return this.#direct.one<T>(sql, params);
    // checked again after every wait, and the statement runs in the same turn: no transaction can slip in between
    while (this.#busy) await this.#idle;
    return this.#direct.one<T>(sql, params);
  }
  async run(sql: string, params?: readonly SqlValue[]): Promise<{ readonly changes: number }> {
    if (this.#inside.getStore()) return this.#direct.run(sql, params);
    // checked again after every wait, and the statement runs in the same turn: no transaction can slip in between
    while (this.#busy) await this.#idle;
    return this.#direct.run(sql, params);
  }
  async exec(sql: string): Promise<void> {
    if (this.#inside.getStore()) return this.#direct.exec(sql);
    // checked again after every wait, and the statement runs in the same turn: no transaction can slip in between
    while (this.#busy) await this.#idle;
    return this.#direct.exec(sql);
  }

  async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const outer = this.#inside.getStore();
    if (outer) return work(outer);
    while (this.#busy) await this.#idle;
    this.#busy = true;
    let release!: () => void;
    this.#idle = new Promise((resolve) => (release = resolve));
    try {
      this.#database.exec('BEGIN IMMEDIATE');
      try {
        const result = await this.#inside.run(this.#direct, () => work(this.#direct));
        this.#database.exec('COMMIT');
        return result;
      } catch (error) {
        if (this.#database.isTransaction) this.#database.exec('ROLLBACK');
        throw error;
      }
    } finally {
      this.#busy = false;
      release();
    }
  }

  async migrate(concern: string, migrations: readonly Migration[]): Promise<void> {
    await this.exec(CREATE_MIGRATIONS_TABLE);
    await this.transaction((tx) => applyMigrations(tx, concern, migrations, Date.now()));
  }

  async status(): Promise<{ concern: string; version: number; name: string; appliedAt: number }[]> {
    await this.exec(CREATE_MIGRATIONS_TABLE);
    const rows = await this.many(`SELECT concern, version, name, applied_at FROM ${MIGRATIONS_TABLE} ORDER BY concern, version`);
    return rows.map((row) => ({ concern: String(row.concern), version: Number(row.version), name: String(row.name), appliedAt: Number(row.applied_at) }));
  }

  async close(): Promise<void> {
    while (this.#busy) await this.#idle;
    if (this.#database.isOpen) this.#database.close();
  }
}
