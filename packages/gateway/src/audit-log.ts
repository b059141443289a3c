import path from 'node:path';
import { openSqlDatabase, type Migration, type SqlDatabase } from '@gatehouse/core';
import type { AuthFailureReason } from '@gatehouse/auth';

/** How a tools/call was decided: allowed (enforced, or only logged in LOG_ONLY mode) or denied; `refused`: the token was refused before any tool was named. */
export type CallDecision = 'allow' | 'log-only' | 'deny';
export type AuditDecision = CallDecision | 'refused';
/** How a tools/call ended: the audit log's and metrics' outcome. */
export type CallOutcome = 'ok' | 'error' | 'timeout' | 'busy' | 'credentials-unavailable' | 'consent-required' | 'denied' | 'not-found' | 'refused';
/** A call's outcome, or for a refused token the reason code (`error`: a failure without one). */
export type AuditOutcome = CallOutcome | AuthFailureReason | 'error';

export interface AuditRecord {
  readonly time: string;
  readonly gateway: string;
  readonly user: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly session: string;
  readonly tool: string;
  readonly target: string;
  readonly decision: AuditDecision;
  /** `refused`: the message was refused before dispatch. */
  readonly outcome: AuditOutcome;
  readonly durationMs: number;
  readonly detail: string;
}

/** How long a row that failed to write waits before the next attempt. */
const RETRY_DELAY_MS = 10;

export interface AuditQuery {
  readonly user?: string;
  readonly tool?: string;
  readonly limit?: number;
}

export interface OpenAuditLogOptions {
  readonly dataDir: string;
  /** The config's `database` (`embedded` = `{dataDir}/audit.db`, or a postgres:// URL). */
  readonly database?: string | undefined;
  readonly onFlushError?: (error: unknown) => void;
}

const COLUMNS = 'time, gateway, "user", issuer, client_id, session, tool, target, decision, outcome, duration_ms, detail';

/** Append-only: a trigger refuses UPDATE and DELETE on both engines, so a compromised caller of the store cannot rewrite history. */
export const AUDIT_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'tool_calls',
    up: (tx) => tx.exec(`CREATE TABLE IF NOT EXISTS tool_calls (
      id ${tx.engine === 'postgres' ? 'BIGSERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT'}, time TEXT NOT NULL, gateway TEXT NOT NULL, "user" TEXT NOT NULL, issuer TEXT NOT NULL,
      client_id TEXT NOT NULL, session TEXT NOT NULL, tool TEXT NOT NULL, target TEXT NOT NULL, decision TEXT NOT NULL,
      outcome TEXT NOT NULL, duration_ms ${tx.engine === 'postgres' ? 'DOUBLE PRECISION' : 'REAL'} NOT NULL, detail TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS tool_calls_user ON tool_calls("user", id);
      CREATE INDEX IF NOT EXISTS tool_calls_tool ON tool_calls(tool, id);`),
  },
  {
    version: 2,
    name: 'append-only',
    up: (tx) =>
      tx.exec(
        tx.engine === 'postgres'
          ? `CREATE OR REPLACE FUNCTION gatehouse_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
             CREATE TRIGGER tool_calls_append_only BEFORE UPDATE OR DELETE ON tool_calls FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_audit_append_only();`
          : `CREATE TRIGGER IF NOT EXISTS tool_calls_no_update BEFORE UPDATE ON tool_calls BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
             CREATE TRIGGER IF NOT EXISTS tool_calls_no_delete BEFORE DELETE ON tool_calls BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;`,
      ),
  },
];

/** One row per tools/call in `{dataDir}/audit.db` or PostgreSQL. Never holds a token or argument values, only who, what, the decision and how it ended. */
export class AuditLog {
  readonly #database: SqlDatabase;
  /** Rows waiting for the next write; rows recorded while one write runs go together in the next (group commit). */
  #pending: { entry: AuditRecord; done: (error?: unknown) => void }[] = [];
  #writing: Promise<void> | undefined;
  #retryScheduled = false;
  /** The newest row's outcome: rows are written in order, so when it settles every earlier one has. */
  #last: Promise<void> = Promise.resolve();
  #closed = false;
  readonly #onFlushError: (error: unknown) => void;

  constructor(database: SqlDatabase, onFlushError: (error: unknown) => void = () => undefined) {
    this.#database = database;
    this.#onFlushError = onFlushError;
  }

  static async open(options: OpenAuditLogOptions): Promise<AuditLog> {
    // SQLite, WAL + NORMAL: a written row survives a process crash (kill -9) and the file never corrupts; only
    // an OS crash / power loss can drop the last rows. FULL cost an fsync (~6 ms) on every tool call.
    const database = await openSqlDatabase({
      database: options.database,
      file: path.join(options.dataDir, 'audit.db'),
      sqlitePragmas: 'PRAGMA synchronous = NORMAL',
      migrations: { concern: 'audit', list: AUDIT_MIGRATIONS },
    });
    return new AuditLog(database, options.onFlushError);
  }

  /**
   * Resolves once the row is committed (issue 8: a `kill -9` loses no acknowledged write, audit included;
   * the gateway answers a tool call after this). If the database refuses (busy, disk full, PostgreSQL
   * down) the promise rejects, the row stays queued and is retried RETRY_DELAY_MS later, by the next
   * call, by `query` and at `close`.
   */
  record(entry: AuditRecord): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('audit log is closed'));
    const written = new Promise<void>((resolve, reject) => this.#pending.push({ entry, done: (error) => (error === undefined ? resolve() : reject(error as Error)) }));
    this.#last = written.catch(() => undefined);
    void this.flush().catch(() => undefined);
    return written;
  }

  /** Writes every queued row, in one transaction; on failure the rows stay queued. */
  async flush(): Promise<void> {
    while (this.#writing) await this.#writing.catch(() => undefined);
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    this.#writing = this.#write(batch);
    try {
      await this.#writing;
    } finally {
      this.#writing = undefined;
    }
  }

  async #write(batch: { entry: AuditRecord; done: (error?: unknown) => void }[]): Promise<void> {
    const insert = `INSERT INTO tool_calls (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
    const values = (entry: AuditRecord): (string | number)[] => [
      entry.time, entry.gateway, entry.user, entry.issuer, entry.clientId, entry.session, entry.tool, entry.target, entry.decision, entry.outcome, entry.durationMs, entry.detail.slice(0, 500),
    ];
    try {
      // a lone row is its own (autocommit) transaction; BEGIN/COMMIT around it would only add two statements
      if (batch.length === 1) await this.#database.run(insert, values(batch[0]!.entry));
      else {
        await this.#database.transaction(async (tx) => {
          for (const { entry } of batch) await tx.run(insert, values(entry));
        });
      }
    } catch (error) {
      this.#pending = [...batch.map(({ entry }) => ({ entry, done: () => undefined })), ...this.#pending];
      for (const { done } of batch) done(error);
      this.#onFlushError(error);
      this.#scheduleRetry();
      throw error;
    }
    for (const { done } of batch) done();
  }

  #scheduleRetry(): void {
    if (this.#retryScheduled || this.#closed) return;
    this.#retryScheduled = true;
    setTimeout(() => {
      this.#retryScheduled = false;
      // the rows stay queued and are retried with the next flush (or at close)
      this.flush().catch(() => undefined);
    }, RETRY_DELAY_MS).unref();
  }

  /** Resolves when every row recorded so far has been written or has failed (callers answer after it). */
  settled(): Promise<void> {
    return this.#last;
  }

  async query(query: AuditQuery = {}): Promise<AuditRecord[]> {
    await this.flush();
    const where: string[] = [];
    const values: string[] = [];
    if (query.user) {
      where.push('"user" = ?');
      values.push(query.user);
    }
    if (query.tool) {
      where.push('tool = ?');
      values.push(query.tool);
    }
    const limit = Math.max(1, Math.min(query.limit ?? 50, 10_000));
    const rows = await this.#database.many<Record<string, string | number>>(
      `SELECT * FROM (SELECT * FROM tool_calls ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${limit}) AS newest ORDER BY id ASC`,
      values,
    );
    return rows.map((row) => ({
      time: String(row.time),
      gateway: String(row.gateway),
      user: String(row.user),
      issuer: String(row.issuer),
      clientId: String(row.client_id),
      session: String(row.session),
      tool: String(row.tool),
      target: String(row.target),
      decision: String(row.decision) as AuditDecision,
      outcome: String(row.outcome) as AuditOutcome,
      durationMs: Number(row.duration_ms),
      detail: String(row.detail),
    }));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush().catch((error: unknown) => this.#onFlushError(error));
    this.#closed = true;
    await this.#database.close();
  }
}
