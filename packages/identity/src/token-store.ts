import { createHash, randomBytes } from 'node:crypto';
import type { SqlDatabase } from '@gatehouse/core';

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
  readonly #database: SqlDatabase;
  readonly #now: () => number;
  #revocations = 0;
  constructor(database: SqlDatabase, now: () => number) {
    this.#database = database;
    this.#now = now;
  }

  async issueRefresh(record: RefreshRecord): Promise<string> {
    const token = randomToken(48);
    await this.#database.run('INSERT INTO refresh_tokens (token_hash, family, pool_id, client_id, username, scope, auth_time, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [hashToken(token), record.family, record.poolId, record.clientId, record.username, record.scope, record.authTime, record.expiresAt]);
    return token;
  }

  async lookupRefresh(token: string): Promise<RefreshLookup> {
    const row = (await this.#database.one('SELECT * FROM refresh_tokens WHERE token_hash = ?', [hashToken(token)])) as Row | undefined;
    if (!row || row.revoked_at !== null || Number(row.expires_at) <= this.#now()) return { state: 'invalid' };
    if (row.used_at !== null) return { state: 'reused', record: toRefresh(row) };
    return { state: 'valid', record: toRefresh(row) };
  }

  /**
   * Marks `token` used and issues its successor in one transaction. A second use of the same token
   * (someone replaying a stolen one) revokes the whole family instead.
   */
  async rotateRefresh(token: string): Promise<{ readonly next: string; readonly record: RefreshRecord } | { readonly reused: true } | undefined> {
    return this.#database.transaction(async () => {
      const lookup = await this.lookupRefresh(token);
      if (lookup.state === 'invalid') return undefined;
      if (lookup.state === 'reused') {
        await this.#revokeFamilyInside(lookup.record.family, lookup.record.expiresAt);
        return { reused: true as const };
      }
      await this.#database.run('UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ?', [this.#now(), hashToken(token)]);
      return { next: await this.issueRefresh(lookup.record), record: lookup.record };
    });
  }

  /** Counts revocations made through this object; callers compare it before and after an operation to know whether to publish. */
  get revocations(): number {
    return this.#revocations;
  }

  async #revokeFamilyInside(family: string, expiresAt: number): Promise<void> {
    this.#revocations++;
    await this.#database.run('UPDATE refresh_tokens SET revoked_at = ? WHERE family = ? AND revoked_at IS NULL', [this.#now(), family]);
    const greatest = this.#database.engine === 'postgres' ? 'GREATEST' : 'MAX';
    await this.#database.run(
      'INSERT INTO revoked_origins (origin_jti, expires_at) VALUES (?, ?) ON CONFLICT (origin_jti) DO UPDATE SET '
        + 'published = CASE WHEN excluded.expires_at > revoked_origins.expires_at THEN 0 ELSE revoked_origins.published END, '
        + `expires_at = ${greatest}(revoked_origins.expires_at, excluded.expires_at)`,
      [family, expiresAt],
    );
  }

  /** Revokes a sign-in: its refresh tokens and (through origin_jti) the access and ID tokens minted from it. */
  async revokeFamily(family: string, expiresAt: number): Promise<void> {
    await this.#database.transaction(() => this.#revokeFamilyInside(family, expiresAt));
  }

  /** GlobalSignOut: every sign-in of the user. */
  async revokeUser(poolId: string, username: string): Promise<void> {
    await this.#database.transaction(async () => {
      const families = (await this.#database.many('SELECT family, MAX(expires_at) AS expires_at FROM refresh_tokens WHERE pool_id = ? AND username = ? AND revoked_at IS NULL GROUP BY family', [poolId, username])) as Row[];
      for (const row of families) await this.#revokeFamilyInside(String(row.family), Number(row.expires_at));
    });
  }

  /** DeleteUserPoolClient: every sign-in made through the client ends with it. */
  async revokeClient(clientId: string): Promise<void> {
    await this.#database.transaction(async () => {
      const families = (await this.#database.many('SELECT family, MAX(expires_at) AS expires_at FROM refresh_tokens WHERE client_id = ? AND revoked_at IS NULL GROUP BY family', [clientId])) as Row[];
      for (const row of families) await this.#revokeFamilyInside(String(row.family), Number(row.expires_at));
    });
  }

  /** On every runtime and gateway request (cached tokens too); the engines prepare it once. */
  async isRevokedOrigin(originJti: string): Promise<boolean> {
    return (await this.#database.one('SELECT 1 AS revoked FROM revoked_origins WHERE origin_jti = ?', [originJti])) !== undefined;
  }

  /** A sign-in without a refresh token (GlobalSignOut must still reach it) is recorded as an empty family. */
  async revokeOrigin(originJti: string, expiresAt: number): Promise<void> {
    this.#revocations++;
    await this.#database.run('INSERT INTO revoked_origins (origin_jti, expires_at) VALUES (?, ?) ON CONFLICT DO NOTHING', [originJti, expiresAt]);
  }

  /** Revocations not yet copied to the shared store, oldest first; expired ones are left out (nothing to refuse any more). */
  async unpublishedRevocations(limit: number): Promise<{ readonly origin: string; readonly expiresAt: number }[]> {
    const rows = (await this.#database.many('SELECT origin_jti, expires_at FROM revoked_origins WHERE published = 0 AND expires_at > ? LIMIT ?', [this.#now(), limit])) as Row[];
    return rows.map((row) => ({ origin: String(row.origin_jti), expiresAt: Number(row.expires_at) }));
  }

  /** Marks one published, unless its expiry grew meanwhile (then the longer one is published next time). */
  async markPublished(origin: string, expiresAt: number): Promise<void> {
    await this.#database.run('UPDATE revoked_origins SET published = 1 WHERE origin_jti = ? AND expires_at = ?', [origin, expiresAt]);
  }

  async saveCode(payload: unknown, ttlMs: number): Promise<string> {
    const code = randomToken(32);
    await this.#database.run('INSERT INTO authorization_codes (code_hash, payload, expires_at) VALUES (?, ?, ?)', [hashToken(code), JSON.stringify(payload), this.#now() + ttlMs]);
    return code;
  }

  /** Single use: the first caller gets the payload, every later one gets `used`. */
  async takeCode(code: string): Promise<{ readonly state: 'ok' | 'used'; readonly payload: unknown } | { readonly state: 'invalid' }> {
    return this.#database.transaction(async () => {
      const row = (await this.#database.one('SELECT * FROM authorization_codes WHERE code_hash = ?', [hashToken(code)])) as Row | undefined;
      if (!row || Number(row.expires_at) <= this.#now()) return { state: 'invalid' as const };
      if (row.used_at !== null) return { state: 'used' as const, payload: JSON.parse(String(row.payload)) as unknown };
      await this.#database.run('UPDATE authorization_codes SET used_at = ? WHERE code_hash = ?', [this.#now(), hashToken(code)]);
      return { state: 'ok' as const, payload: JSON.parse(String(row.payload)) as unknown };
    });
  }

  async createLoginSession(poolId: string, username: string, authTime: number, ttlMs: number): Promise<string> {
    const id = randomToken(32);
    await this.#database.run('INSERT INTO login_sessions (session_hash, pool_id, username, auth_time, expires_at) VALUES (?, ?, ?, ?, ?)', [hashToken(id), poolId, username, authTime, this.#now() + ttlMs]);
    return id;
  }
  async loginSession(id: string): Promise<{ poolId: string; username: string; authTime: number } | undefined> {
    const row = (await this.#database.one('SELECT * FROM login_sessions WHERE session_hash = ?', [hashToken(id)])) as Row | undefined;
    if (!row || Number(row.expires_at) <= this.#now()) return undefined;
    return { poolId: String(row.pool_id), username: String(row.username), authTime: Number(row.auth_time) };
  }
  async deleteLoginSession(id: string): Promise<void> {
    await this.#database.run('DELETE FROM login_sessions WHERE session_hash = ?', [hashToken(id)]);
  }

  /** Drops rows nobody can use any more. */
  async sweep(): Promise<void> {
    const now = this.#now();
    await this.#database.run('DELETE FROM authorization_codes WHERE expires_at <= ?', [now - 60_000]);
    await this.#database.run('DELETE FROM login_sessions WHERE expires_at <= ?', [now]);
    await this.#database.run('DELETE FROM revoked_origins WHERE expires_at <= ?', [now - 86_400_000]);
    await this.#database.run('DELETE FROM refresh_tokens WHERE expires_at <= ?', [now]);
  }
}
