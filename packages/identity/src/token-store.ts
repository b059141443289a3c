import { createHash, randomBytes } from 'node:crypto';
import type { Database } from '@gatehouse/core';
import type { StatementSync } from 'node:sqlite';
import { inTransaction } from './in-transaction.ts';

export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('base64url');
export const randomToken = (bytes = 32): string => randomBytes(bytes).toString('base64url');

export interface RefreshRecord {
  readonly family: string;
  readonly poolId: string;
  readonly clientId: string;
  readonly username: string;
  readonly scope: string;
  readonly authTime: number;
  readonly expiresAt: number;
}

export type RefreshLookup =
  | { readonly state: 'valid'; readonly record: RefreshRecord }
  | { readonly state: 'reused'; readonly record: RefreshRecord }
  | { readonly state: 'invalid' };

type Row = Record<string, unknown>;

function toRefresh(row: Row): RefreshRecord {
  return {
    family: String(row.family), poolId: String(row.pool_id), clientId: String(row.client_id), username: String(row.username),
    scope: String(row.scope), authTime: Number(row.auth_time), expiresAt: Number(row.expires_at),
  };
}

/**
 * Refresh tokens (stored hashed; a family = one sign-in, its id is the tokens' `origin_jti`), the
 * revoked-family deny-list, single-use authorization codes and hosted-login sessions.
 */
export class TokenStore {
  readonly #database: Database;
  readonly #now: () => number;
  #revocations = 0;
  #revokedOrigin: StatementSync | undefined;
  constructor(database: Database, now: () => number) {
    this.#database = database;
    this.#now = now;
  }

  issueRefresh(record: RefreshRecord): string {
    const token = randomToken(48);
    this.#database
      .prepare('INSERT INTO refresh_tokens (token_hash, family, pool_id, client_id, username, scope, auth_time, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(hashToken(token), record.family, record.poolId, record.clientId, record.username, record.scope, record.authTime, record.expiresAt);
    return token;
  }

  lookupRefresh(token: string): RefreshLookup {
    const row = this.#database.prepare('SELECT * FROM refresh_tokens WHERE token_hash = ?').get(hashToken(token)) as Row | undefined;
    if (!row || row.revoked_at !== null || Number(row.expires_at) <= this.#now()) return { state: 'invalid' };
    if (row.used_at !== null) return { state: 'reused', record: toRefresh(row) };
    return { state: 'valid', record: toRefresh(row) };
  }

  /**
   * Marks `token` used and issues its successor in one transaction. A second use of the same token
   * (someone replaying a stolen one) revokes the whole family instead.
   */
  rotateRefresh(token: string): { readonly next: string; readonly record: RefreshRecord } | { readonly reused: true } | undefined {
    return inTransaction(this.#database, () => {
      const lookup = this.lookupRefresh(token);
      if (lookup.state === 'invalid') return undefined;
      if (lookup.state === 'reused') {
        this.#revokeFamilyInside(lookup.record.family, lookup.record.expiresAt);
        return { reused: true as const };
      }
      this.#database.prepare('UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ?').run(this.#now(), hashToken(token));
      return { next: this.issueRefresh(lookup.record), record: lookup.record };
    });
  }

  /** Counts revocations made through this object; callers compare it before and after an operation to know whether to publish. */
  get revocations(): number {
    return this.#revocations;
  }

  #revokeFamilyInside(family: string, expiresAt: number): void {
    this.#revocations++;
    this.#database.prepare('UPDATE refresh_tokens SET revoked_at = ? WHERE family = ? AND revoked_at IS NULL').run(this.#now(), family);
    this.#database
      .prepare(
        'INSERT INTO revoked_origins (origin_jti, expires_at) VALUES (?, ?) ON CONFLICT(origin_jti) DO UPDATE SET '
          + 'published = CASE WHEN excluded.expires_at > expires_at THEN 0 ELSE published END, expires_at = MAX(expires_at, excluded.expires_at)',
      )
      .run(family, expiresAt);
  }

  /** Revokes a sign-in: its refresh tokens and (through origin_jti) the access and ID tokens minted from it. */
  revokeFamily(family: string, expiresAt: number): void {
    inTransaction(this.#database, () => this.#revokeFamilyInside(family, expiresAt));
  }

  /** GlobalSignOut: every sign-in of the user. */
  revokeUser(poolId: string, username: string): void {
    inTransaction(this.#database, () => {
      const families = this.#database
        .prepare('SELECT family, MAX(expires_at) AS expires_at FROM refresh_tokens WHERE pool_id = ? AND username = ? AND revoked_at IS NULL GROUP BY family')
        .all(poolId, username) as Row[];
      for (const row of families) this.#revokeFamilyInside(String(row.family), Number(row.expires_at));
    });
  }

  /** DeleteUserPoolClient: every sign-in made through the client ends with it. */
  revokeClient(clientId: string): void {
    inTransaction(this.#database, () => {
      const families = this.#database
        .prepare('SELECT family, MAX(expires_at) AS expires_at FROM refresh_tokens WHERE client_id = ? AND revoked_at IS NULL GROUP BY family')
        .all(clientId) as Row[];
      for (const row of families) this.#revokeFamilyInside(String(row.family), Number(row.expires_at));
    });
  }

  /** On every runtime and gateway request (cached tokens too), so its statement is prepared once. */
  isRevokedOrigin(originJti: string): boolean {
    this.#revokedOrigin ??= this.#database.prepare('SELECT 1 FROM revoked_origins WHERE origin_jti = ?');
    return this.#revokedOrigin.get(originJti) !== undefined;
  }

  /** A sign-in without a refresh token (GlobalSignOut must still reach it) is recorded as an empty family. */
  revokeOrigin(originJti: string, expiresAt: number): void {
    this.#revocations++;
    this.#database.prepare('INSERT OR IGNORE INTO revoked_origins (origin_jti, expires_at) VALUES (?, ?)').run(originJti, expiresAt);
  }

  /** Revocations not yet copied to the shared store, oldest first; expired ones are left out (nothing to refuse any more). */
  unpublishedRevocations(limit: number): { readonly origin: string; readonly expiresAt: number }[] {
    const rows = this.#database.prepare('SELECT origin_jti, expires_at FROM revoked_origins WHERE published = 0 AND expires_at > ? LIMIT ?').all(this.#now(), limit) as Row[];
    return rows.map((row) => ({ origin: String(row.origin_jti), expiresAt: Number(row.expires_at) }));
  }

  /** Marks one published, unless its expiry grew meanwhile (then the longer one is published next time). */
  markPublished(origin: string, expiresAt: number): void {
    this.#database.prepare('UPDATE revoked_origins SET published = 1 WHERE origin_jti = ? AND expires_at = ?').run(origin, expiresAt);
  }

  saveCode(payload: unknown, ttlMs: number): string {
    const code = randomToken(32);
    this.#database.prepare('INSERT INTO authorization_codes (code_hash, payload, expires_at) VALUES (?, ?, ?)').run(hashToken(code), JSON.stringify(payload), this.#now() + ttlMs);
    return code;
  }

  /** Single use: the first caller gets the payload, every later one gets `used`. */
  takeCode(code: string): { readonly state: 'ok' | 'used'; readonly payload: unknown } | { readonly state: 'invalid' } {
    return inTransaction(this.#database, () => {
      const row = this.#database.prepare('SELECT * FROM authorization_codes WHERE code_hash = ?').get(hashToken(code)) as Row | undefined;
      if (!row || Number(row.expires_at) <= this.#now()) return { state: 'invalid' as const };
      if (row.used_at !== null) return { state: 'used' as const, payload: JSON.parse(String(row.payload)) as unknown };
      this.#database.prepare('UPDATE authorization_codes SET used_at = ? WHERE code_hash = ?').run(this.#now(), hashToken(code));
      return { state: 'ok' as const, payload: JSON.parse(String(row.payload)) as unknown };
    });
  }

  createLoginSession(poolId: string, username: string, authTime: number, ttlMs: number): string {
    const id = randomToken(32);
    this.#database.prepare('INSERT INTO login_sessions (session_hash, pool_id, username, auth_time, expires_at) VALUES (?, ?, ?, ?, ?)').run(hashToken(id), poolId, username, authTime, this.#now() + ttlMs);
    return id;
  }
  loginSession(id: string): { poolId: string; username: string; authTime: number } | undefined {
    const row = this.#database.prepare('SELECT * FROM login_sessions WHERE session_hash = ?').get(hashToken(id)) as Row | undefined;
    if (!row || Number(row.expires_at) <= this.#now()) return undefined;
    return { poolId: String(row.pool_id), username: String(row.username), authTime: Number(row.auth_time) };
  }
  deleteLoginSession(id: string): void {
    this.#database.prepare('DELETE FROM login_sessions WHERE session_hash = ?').run(hashToken(id));
  }

  /** Drops rows nobody can use any more. */
  sweep(): void {
    const now = this.#now();
    this.#database.prepare('DELETE FROM authorization_codes WHERE expires_at <= ?').run(now - 60_000);
    this.#database.prepare('DELETE FROM login_sessions WHERE expires_at <= ?').run(now);
    this.#database.prepare('DELETE FROM revoked_origins WHERE expires_at <= ?').run(now - 86_400_000);
    this.#database.prepare('DELETE FROM refresh_tokens WHERE expires_at <= ?').run(now);
  }
}
