import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import {
  applyMigrations, CREATE_MIGRATIONS_TABLE, DatabaseStartError, DatabaseUnavailableError, MIGRATIONS_TABLE,
  type Migration, type SqlDatabase, type SqlExecutor, type SqlRow, type SqlValue,
} from './sql-database.ts';

/** Serialization failure and deadlock: PostgreSQL aborted the transaction so that another could win; running it again is correct. */
const RETRYABLE = new Set(['40001', '40P01']);
const MAX_ATTEMPTS = 12;
/**
 * A unique violation inside a SERIALIZABLE transaction that looked first ("is the name free?") is the same race
 * reported another way (PostgreSQL's docs advise retrying 23505 too): run again, the look now sees the winner.
 * A few times only, so a plain duplicate still fails fast.
 */
const UNIQUE_VIOLATION = '23505';
const UNIQUE_RETRIES = 3;
/** Errors that mean "the server is not there right now" rather than "this statement is wrong". */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006']);
/** One lock id for every concern's migrations: instances starting together migrate one after the other. */
const MIGRATION_LOCK = 4_242_001;
const INT8_OID = 20;

const translated = new Map<string, string>();
/** `?` → `$1, $2…`, leaving question marks inside quoted strings and identifiers alone. */
export function numberPlaceholders(sql: string): string {
  let cached = translated.get(sql);
  if (cached !== undefined) return cached;
  let index = 0;
  let quote: string | undefined;
  let out = '';
  for (const char of sql) {
    if (quote) {
      if (char === quote) quote = undefined;
    } else if (char === "'" || char === '"') {
      quote = char;
    } else if (char === '?') {
      out += `$${++index}`;
      continue;
    }
    out += char;
  }
  cached = out;
  if (translated.size < 5000) translated.set(sql, cached);
  return cached;
}

export function isUnavailable(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
  return typeof message === 'string' && /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(message);
}

/** Connection failures become DatabaseUnavailableError (callers answer 503); anything else passes unchanged. */
function classify(error: unknown, location: string): unknown {
  if (error instanceof DatabaseUnavailableError || !isUnavailable(error)) return error;
  return new DatabaseUnavailableError(`PostgreSQL at ${location} is unavailable; retry shortly`, { cause: error });
}

type Queryable = pg.Pool | pg.PoolClient;

function executor(target: Queryable, location: string): SqlExecutor {
  const query = async <T>(sql: string, params: readonly SqlValue[]): Promise<pg.QueryResult<T & pg.QueryResultRow>> => {
    try {
      return await target.query<T & pg.QueryResultRow>(numberPlaceholders(sql), params as unknown[]);
    } catch (error) {
      throw classify(error, location);
    }
  };
  return {
    engine: 'postgres',
    many: async <T>(sql: string, params: readonly SqlValue[] = []) => (await query<T>(sql, params)).rows,
    one: async <T>(sql: string, params: readonly SqlValue[] = []) => (await query<T>(sql, params)).rows[0],
    run: async (sql: string, params: readonly SqlValue[] = []) => ({ changes: (await query(sql, params)).rowCount ?? 0 }),
    exec: async (sql: string) => {
      await query(sql, []);
    },
  };
}

/** The URL as shown in messages: no password, no query string. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.username ? `${decodeURIComponent(parsed.username)}@` : ''}${parsed.host}${parsed.pathname}`;
  } catch {
    return 'the configured database URL';
  }
}

/** PostgreSQL through a `pg` pool. Every instance of a deployment points at the same database. */
export class PostgresDatabase implements SqlDatabase {
  readonly engine = 'postgres' as const;
  readonly location: string;
  readonly #pool: pg.Pool;
  readonly #direct: SqlExecutor;
  /** The transaction the current async context runs in: its statements (and nested transactions) join it. */
  readonly #inside = new AsyncLocalStorage<SqlExecutor>();

  constructor(url: string, options: { readonly max?: number | undefined } = {}) {
    this.location = describeUrl(url);
    const parseInt8 = (value: string): number => Number(value);
    this.#pool = new pg.Pool({
      connectionString: url, max: options.max ?? 10, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30_000,
      // BIGINT columns hold millisecond times and counts, all below 2^53: read them as numbers as SQLite does
      types: { getTypeParser: ((oid: number, format?: string) => (oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser },
    });
    // An idle connection dropped by a server restart must not crash the process; the next query reconnects.
    this.#pool.on('error', () => undefined);
    this.#direct = executor(this.#pool, this.location);
  }

  get #target(): SqlExecutor {
    return this.#inside.getStore() ?? this.#direct;
  }
  many<T = SqlRow>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.#target.many<T>(sql, params);
  }
  one<T = SqlRow>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    return this.#target.one<T>(sql, params);
  }
  run(sql: string, params?: readonly SqlValue[]): Promise<{ readonly changes: number }> {
    return this.#target.run(sql, params);
  }
  exec(sql: string): Promise<void> {
    return this.#target.exec(sql);
  }

  async #connect(): Promise<pg.PoolClient> {
    try {
      return await this.#pool.connect();
    } catch (error) {
      throw classify(error, this.location);
    }
  }

  async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const outer = this.#inside.getStore();
    if (outer) return work(outer);
    let uniqueRetries = 0;
    for (let attempt = 1; ; attempt++) {
      const client = await this.#connect();
      let broken = false;
      try {
        await client.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
        const tx = executor(client, this.location);
        const result = await this.#inside.run(tx, () => work(tx));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        broken = isUnavailable(error) || isUnavailable((error as { cause?: unknown }).cause);
        if (!broken) await client.query('ROLLBACK').catch(() => (broken = true));
        const code = String((error as { code?: unknown }).code);
        if ((RETRYABLE.has(code) && attempt < MAX_ATTEMPTS) || (code === UNIQUE_VIOLATION && uniqueRetries++ < UNIQUE_RETRIES && attempt < MAX_ATTEMPTS)) {
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
          continue;
        }
        throw classify(error, this.location);
      } finally {
        client.release(broken);
      }
    }
  }

  /** Under a session advisory lock, so instances starting together apply each migration once. */
  async migrate(concern: string, migrations: readonly Migration[]): Promise<void> {
    const client = await this.#connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      try {
        await client.query(CREATE_MIGRATIONS_TABLE);
        await client.query('BEGIN');
        try {
          await applyMigrations(executor(client, this.location), concern, migrations, Date.now());
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
      }
    } catch (error) {
      throw explainStartError(error, this.location);
    } finally {
      client.release();
    }
  }

  async status(): Promise<{ concern: string; version: number; name: string; appliedAt: number }[]> {
    await this.exec(CREATE_MIGRATIONS_TABLE);
    const rows = await this.many(`SELECT concern, version, name, applied_at FROM ${MIGRATIONS_TABLE} ORDER BY concern, version`);
    return rows.map((row) => ({ concern: String(row.concern), version: Number(row.version), name: String(row.name), appliedAt: Number(row.applied_at) }));
  }

  /** Connects once and fails with a message naming the cause (see explainStartError). */
  async check(): Promise<void> {
    try {
      await this.#pool.query('SELECT 1');
    } catch (error) {
      throw explainStartError(error, this.location);
    }
  }

  close(): Promise<void> {
    return this.#pool.end();
  }
}

/** What went wrong when first talking to PostgreSQL, in words an operator can act on. */
export function explainStartError(error: unknown, location: string): Error {
  if (error instanceof DatabaseStartError) return error;
  const cause = (error as { cause?: unknown }).cause ?? error;
  const { code, message } = (cause ?? {}) as { code?: unknown; message?: unknown };
  const url = safeUrl(location);
  const user = url?.username ? decodeURIComponent(url.username) : 'the configured user';
  const database = url?.pathname.slice(1) || 'the configured database';
  const hints: Record<string, string> = {
    ECONNREFUSED: `cannot reach PostgreSQL at ${location}: connection refused (is the server running and listening on that host and port?)`,
    ENOTFOUND: `cannot reach PostgreSQL at ${location}: host ${url?.hostname ?? ''} not found (check the host name in the database URL)`,
    ETIMEDOUT: `cannot reach PostgreSQL at ${location}: connection timed out (firewall, or wrong host?)`,
    EHOSTUNREACH: `cannot reach PostgreSQL at ${location}: host unreachable`,
    '28P01': `PostgreSQL at ${location} refused the password for user ${user} (check the password in the database URL or GATEHOUSE_DATABASE_URL)`,
    '28000': `PostgreSQL at ${location} refused user ${user} (no such role, or pg_hba.conf does not allow it from this host)`,
    '3D000': `database ${database} does not exist on ${location} (create it: createdb -O ${user} ${database})`,
    '42501': `user ${user} lacks the privileges Gatehouse needs on ${location} (it creates and alters its tables: GRANT CREATE, USAGE ON SCHEMA public TO ${user}; or make it the database owner)`,
  };
  // 3F000: without USAGE on schema public, PostgreSQL reports that no schema is selected to create in
  hints['3F000'] = hints['42501']!;
  const hint = typeof code === 'string' ? hints[code] : undefined;
  if (hint) return new DatabaseStartError(hint, { cause });
  if (/timeout exceeded when trying to connect/i.test(String(message))) return new DatabaseStartError(hints.ETIMEDOUT!, { cause });
  return new DatabaseStartError(`PostgreSQL at ${location} refused to start Gatehouse: ${typeof message === 'string' ? message : String(cause)}`, { cause });
}

function safeUrl(location: string): URL | undefined {
  return URL.canParse(location) ? new URL(location) : undefined;
}
