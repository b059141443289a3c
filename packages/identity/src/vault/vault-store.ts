import { createHash } from 'node:crypto';
import type { SqlDatabase } from '@gatehouse/core';
import type { SecretBox } from '../secret-box.ts';

/** A user as the vault keys them: the issuer and subject of their token (AgentCore keys by `iss` + `sub`). */
export interface VaultUser {
  readonly iss: string;
  readonly sub: string;
}

/** What a stored token is for: one workload, one user (none for M2M), one provider, one set of scopes. */
export interface TokenKey {
  readonly workload: string;
  readonly user: VaultUser | undefined;
  readonly provider: string;
  readonly scopes: readonly string[];
}

export interface StoredToken {
  readonly accessToken: string;
  readonly refreshToken?: string | undefined;
  /** Epoch ms; undefined when the provider did not say. */
  readonly expiresAt?: number | undefined;
}

export type SessionStatus = 'IN_PROGRESS' | 'AWAITING_USER' | 'FAILED';

/** One started user consent (authorization code flow), from the authorization URL to its binding to the user. */
export interface ConsentSession {
  readonly sessionUri: string;
  readonly key: TokenKey & { readonly user: VaultUser };
  readonly authorizationUrl: string;
  readonly codeVerifier: string;
  readonly returnUrl: string;
  readonly customState?: string | undefined;
  readonly status: SessionStatus;
  readonly token?: StoredToken | undefined;
  readonly failure?: string | undefined;
  readonly expiresAt: number;
}

export interface Connection {
  readonly workload: string;
  readonly provider: string;
  readonly scopes: readonly string[];
  readonly expiresAt: number | undefined;
}

/**
 * The vault's two tables, applied as identity's migration 2 (identity-database.ts): in identity.db, or in the
 * shared PostgreSQL database so every instance sees the same connections and consent sessions. Times are epoch ms.
 */
export const VAULT_SCHEMA = `
CREATE TABLE IF NOT EXISTS vault_tokens (
  token_id TEXT PRIMARY KEY, workload TEXT NOT NULL, user_iss TEXT NOT NULL, user_sub TEXT NOT NULL, provider TEXT NOT NULL,
  scopes TEXT NOT NULL, sealed TEXT NOT NULL, expires_at BIGINT, updated_at BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS vault_tokens_user ON vault_tokens (user_iss, user_sub, provider);
CREATE TABLE IF NOT EXISTS vault_sessions (
  session_uri TEXT PRIMARY KEY, state_hash TEXT NOT NULL UNIQUE, token_id TEXT NOT NULL, sealed TEXT NOT NULL, expires_at BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS vault_sessions_token ON vault_sessions (token_id, expires_at);
`;

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

export function normalScopes(scopes: readonly string[]): string[] {
  return [...new Set(scopes)].sort();
}

function tokenId(key: TokenKey): string {
  return sha256(JSON.stringify([key.workload, key.user?.iss ?? '', key.user?.sub ?? '', key.provider, normalScopes(key.scopes)]));
}

/**
 * The token vault's state: tokens and consent sessions, sealed at rest (AES-256-GCM under the identity
 * master key). Each sealed value names the row it belongs to, so a value copied into another user's
 * row does not open. On SQLite (identity.db) or PostgreSQL alike, behind identity's SqlDatabase: the tables
 * come with identity's migrations (`VAULT_SCHEMA`).
 */
export class VaultStore {
  readonly #database: SqlDatabase;
  readonly #box: SecretBox;

  constructor(database: SqlDatabase, box: SecretBox) {
    this.#database = database;
    this.#box = box;
  }

  #seal(id: string, value: unknown): string {
    return this.#box.seal(JSON.stringify({ id, value }));
  }

  #open<T>(id: string, sealed: string): T | undefined {
    try {
      const opened = JSON.parse(this.#box.open(sealed)) as { id: string; value: T };
      return opened.id === id ? opened.value : undefined;
    } catch {
      return undefined;
    }
  }

  async token(key: TokenKey): Promise<StoredToken | undefined> {
    const id = tokenId(key);
    const row = await this.#database.one<{ sealed: string }>('SELECT sealed FROM vault_tokens WHERE token_id = ?', [id]);
    return row && this.#open<StoredToken>(id, row.sealed);
  }

  async putToken(key: TokenKey, token: StoredToken, now: number): Promise<void> {
    const id = tokenId(key);
    await this.#database.run(
      `INSERT INTO vault_tokens (token_id, workload, user_iss, user_sub, provider, scopes, sealed, expires_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (token_id) DO UPDATE SET sealed = excluded.sealed, expires_at = excluded.expires_at, updated_at = excluded.updated_at`,
      [id, key.workload, key.user?.iss ?? '', key.user?.sub ?? '', key.provider, normalScopes(key.scopes).join(' '), this.#seal(id, token), token.expiresAt ?? null, now],
    );
  }

  async deleteToken(key: TokenKey): Promise<void> {
    await this.#database.run('DELETE FROM vault_tokens WHERE token_id = ?', [tokenId(key)]);
  }

  /** Removes a user's tokens (of one provider, or all) and returns them, for revocation at the provider. */
  async takeTokens(user: VaultUser, provider?: string): Promise<{ provider: string; token: StoredToken }[]> {
    return this.#database.transaction(async () => {
      const rows = await (provider === undefined
        ? this.#database.many<{ token_id: string; provider: string; sealed: string }>('SELECT token_id, provider, sealed FROM vault_tokens WHERE user_iss = ? AND user_sub = ?', [user.iss, user.sub])
        : this.#database.many<{ token_id: string; provider: string; sealed: string }>('SELECT token_id, provider, sealed FROM vault_tokens WHERE user_iss = ? AND user_sub = ? AND provider = ?', [user.iss, user.sub, provider]));
      const taken: { provider: string; token: StoredToken }[] = [];
      for (const row of rows) {
        await this.#database.run('DELETE FROM vault_tokens WHERE token_id = ?', [row.token_id]);
        const token = this.#open<StoredToken>(row.token_id, row.sealed);
        if (token) taken.push({ provider: row.provider, token });
      }
      return taken;
    });
  }

  async connections(user: VaultUser): Promise<Connection[]> {
    const rows = await this.#database.many<{ workload: string; provider: string; scopes: string; expires_at: number | null }>(
      'SELECT workload, provider, scopes, expires_at FROM vault_tokens WHERE user_iss = ? AND user_sub = ? ORDER BY provider',
      [user.iss, user.sub],
    );
    return rows.map((row) => ({ workload: row.workload, provider: row.provider, scopes: row.scopes ? row.scopes.split(' ') : [], expiresAt: row.expires_at ?? undefined }));
  }

  async putSession(session: ConsentSession, state: string): Promise<void> {
    await this.#database.run('INSERT INTO vault_sessions (session_uri, state_hash, token_id, sealed, expires_at) VALUES (?, ?, ?, ?, ?)', [
      session.sessionUri, sha256(state), tokenId(session.key), this.#seal(session.sessionUri, session), session.expiresAt,
    ]);
  }

  /** The newest unexpired consent session for exactly this workload, user, provider and scopes (to hand out the same link again). */
  async latestSession(key: TokenKey, now: number): Promise<ConsentSession | undefined> {
    const row = await this.#database.one<{ session_uri: string; sealed: string }>(
      'SELECT session_uri, sealed FROM vault_sessions WHERE token_id = ? AND expires_at > ? ORDER BY expires_at DESC LIMIT 1',
      [tokenId(key), now],
    );
    return row && this.#open<ConsentSession>(row.session_uri, row.sealed);
  }

  async updateSession(session: ConsentSession): Promise<void> {
    await this.#database.run('UPDATE vault_sessions SET sealed = ? WHERE session_uri = ?', [this.#seal(session.sessionUri, session), session.sessionUri]);
  }

  async session(sessionUri: string, now: number): Promise<ConsentSession | undefined> {
    const row = await this.#database.one<{ sealed: string }>('SELECT sealed FROM vault_sessions WHERE session_uri = ? AND expires_at > ?', [sessionUri, now]);
    return row && this.#open<ConsentSession>(sessionUri, row.sealed);
  }

  async sessionByState(state: string, now: number): Promise<ConsentSession | undefined> {
    const row = await this.#database.one<{ session_uri: string; sealed: string }>('SELECT session_uri, sealed FROM vault_sessions WHERE state_hash = ? AND expires_at > ?', [sha256(state), now]);
    return row && this.#open<ConsentSession>(row.session_uri, row.sealed);
  }

  async deleteSession(sessionUri: string): Promise<void> {
    await this.#database.run('DELETE FROM vault_sessions WHERE session_uri = ?', [sessionUri]);
  }

  async sweep(now: number): Promise<void> {
    await this.#database.run('DELETE FROM vault_sessions WHERE expires_at <= ?', [now]);
  }
}
