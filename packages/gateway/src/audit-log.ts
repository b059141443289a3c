import path from 'node:path';
import { openDatabase, transaction, type Database } from '@gatehouse/core';

export interface AuditRecord {
  readonly time: string;
  readonly gateway: string;
  readonly user: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly session: string;
  readonly tool: string;
  readonly target: string;
  /** allow | deny | log-only-deny */
  readonly decision: string;
  /** ok | error | denied | credentials-unavailable | timeout | busy | refused (the message was refused before dispatch) */
  readonly outcome: string;
  readonly durationMs: number;
  readonly detail: string;
}

/** How long a row may wait in memory before it is written: bounds what a process crash can lose. */
const FLUSH_DELAY_MS = 10;

export interface AuditQuery {
  readonly user?: string;
  readonly tool?: string;
  readonly limit?: number;
}

/** One row per tools/call in `{dataDir}/audit.db`. Never holds a token or argument values, only who, what, the decision and how it ended. */
export class AuditLog {
  readonly #database: Database;
  readonly #insert: ReturnType<Database['prepare']>;
  /** Rows recorded in this turn of the event loop, written together in one transaction right after it. */
  #pending: AuditRecord[] = [];
  #flushScheduled = false;
  #closed = false;
  readonly #onFlushError: (error: unknown) => void;

  constructor(database: Database, onFlushError: (error: unknown) => void = () => undefined) {
    this.#database = database;
    this.#onFlushError = onFlushError;
    database.exec(`CREATE TABLE IF NOT EXISTS tool_calls (
      id INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, gateway TEXT NOT NULL, user TEXT NOT NULL, issuer TEXT NOT NULL,
      client_id TEXT NOT NULL, session TEXT NOT NULL, tool TEXT NOT NULL, target TEXT NOT NULL, decision TEXT NOT NULL,
      outcome TEXT NOT NULL, duration_ms REAL NOT NULL, detail TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS tool_calls_user ON tool_calls(user, id);
      CREATE INDEX IF NOT EXISTS tool_calls_tool ON tool_calls(tool, id);`);
    this.#insert = database.prepare(
      'INSERT INTO tool_calls (time, gateway, user, issuer, client_id, session, tool, target, decision, outcome, duration_ms, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
  }

  static open(dataDir: string, onFlushError?: (error: unknown) => void): AuditLog {
    const database = openDatabase(path.join(dataDir, 'audit.db'));
    // WAL + NORMAL: a written row survives a process crash (kill -9) and the file never corrupts; only
    // an OS crash / power loss can drop the last rows. FULL cost an fsync (~6 ms) on every tool call.
    database.exec('PRAGMA synchronous = NORMAL');
    return new AuditLog(database, onFlushError);
  }

  /**
   * Writes the row before the tool call is answered (issue 8: a `kill -9` loses no acknowledged
   * write, audit included). With WAL + synchronous=NORMAL a commit is a write(2), not an fsync, so
   * this costs tens of microseconds. If SQLite refuses (busy, disk full) the row stays queued and is
   * retried FLUSH_DELAY_MS later, by the next call, by `query` and at `close`.
   */
  record(entry: AuditRecord): void {
    if (this.#closed) throw new Error('audit log is closed');
    this.#pending.push(entry);
    try {
      this.flush();
    } catch (error) {
      this.#onFlushError(error);
      if (this.#flushScheduled) return;
      this.#flushScheduled = true;
      setTimeout(() => this.#flushQueued(), FLUSH_DELAY_MS);
    }
  }

  #flushQueued(): void {
    this.#flushScheduled = false;
    try {
      this.flush();
    } catch (error) {
      // the rows stay queued and are retried with the next flush (or at close)
      this.#onFlushError(error);
    }
  }

  /** Writes every queued row now, in one transaction; on failure the rows stay queued. */
  flush(): void {
    if (this.#pending.length === 0) return;
    const rows = this.#pending;
    const write = (): void => {
      for (const entry of rows) {
        this.#insert.run(entry.time, entry.gateway, entry.user, entry.issuer, entry.clientId, entry.session, entry.tool, entry.target, entry.decision, entry.outcome, entry.durationMs, entry.detail.slice(0, 500));
      }
    };
    // a lone row is its own (autocommit) transaction; BEGIN/COMMIT around it would only add two statements
    if (rows.length === 1) write();
    else transaction(this.#database, write);
    this.#pending = [];
  }

  query(query: AuditQuery = {}): AuditRecord[] {
    this.flush();
    const where: string[] = [];
    const values: string[] = [];
    if (query.user) {
      where.push('user = ?');
      values.push(query.user);
    }
    if (query.tool) {
      where.push('tool = ?');
      values.push(query.tool);
    }
    const limit = Math.max(1, Math.min(query.limit ?? 50, 10_000));
    const rows = this.#database
      .prepare(`SELECT * FROM (SELECT * FROM tool_calls ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${limit}) ORDER BY id ASC`)
      .all(...values) as Record<string, string | number>[];
    return rows.map((row) => ({
      time: String(row.time),
      gateway: String(row.gateway),
      user: String(row.user),
      issuer: String(row.issuer),
      clientId: String(row.client_id),
      session: String(row.session),
      tool: String(row.tool),
      target: String(row.target),
      decision: String(row.decision),
      outcome: String(row.outcome),
      durationMs: Number(row.duration_ms),
      detail: String(row.detail),
    }));
  }

  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    this.#database.close();
  }
}
