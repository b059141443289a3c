import { createHash } from 'node:crypto';
import type { Database } from '@gatehouse/core';
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

const SCHEMA = `
CREATE TABLE IF NOT EXISTS vault_tokens (
  token_id TEXT PRIMARY KEY, workload TEXT NOT NULL, user_iss TEXT NOT NULL, user_sub TEXT NOT NULL, provider TEXT NOT NULL,
  scopes TEXT NOT NULL, sealed TEXT NOT NULL, expires_at INTEGER, updated_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS vault_tokens_user ON vault_tokens (user_iss, user_sub, provider);
CREATE TABLE IF NOT EXISTS vault_sessions (
  session_uri TEXT PRIMARY KEY, state_hash TEXT NOT NULL UNIQUE, token_id TEXT NOT NULL, sealed TEXT NOT NULL, expires_at INTEGER NOT NULL);
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
 * row does not open. Kept to these methods so a PostgreSQL implementation is a drop-in.
 */
export class VaultStore {
  readonly #database: Database;
  readonly #box: SecretBox;

  constructor(database: Database, box: SecretBox) {
    this.#database = database;
    this.#box = box;
    database.exec(SCHEMA);
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

  token(key: TokenKey): StoredToken | undefined {
    const id = tokenId(key);
    const row = this.#database.prepare('SELECT sealed FROM vault_tokens WHERE token_id = ?').get(id) as { sealed: string } | undefined;
    return row && this.#open<StoredToken>(id, row.sealed);
  }

  putToken(key: TokenKey, token: StoredToken, now: number): void {
    const id = tokenId(key);
    this.#database
      .prepare(`INSERT INTO vault_tokens (token_id, workload, user_iss, user_sub, provider, scopes, sealed, expires_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (token_id) DO UPDATE SET sealed = excluded.sealed, expires_at = excluded.expires_at, updated_at = excluded.updated_at`)
      .run(id, key.workload, key.user?.iss ?? '', key.user?.sub ?? '', key.provider, normalScopes(key.scopes).join(' '), this.#seal(id, token), token.expiresAt ?? null, now);
  }

  deleteToken(key: TokenKey): void {
    this.#database.prepare('DELETE FROM vault_tokens WHERE token_id = ?').run(tokenId(key));
  }

  /** Removes a user's tokens (of one provider, or all) and returns them, for revocation at the provider. */
  takeTokens(user: VaultUser, provider?: string): { provider: string; token: StoredToken }[] {
    const rows = (provider === undefined
      ? this.#database.prepare('SELECT token_id, provider, sealed FROM vault_tokens WHERE user_iss = ? AND user_sub = ?').all(user.iss, user.sub)
      : this.#database.prepare('SELECT token_id, provider, sealed FROM vault_tokens WHERE user_iss = ? AND user_sub = ? AND provider = ?').all(user.iss, user.sub, provider)) as { token_id: string; provider: string; sealed: string }[];
    const taken: { provider: string; token: StoredToken }[] = [];
    for (const row of rows) {
      this.#database.prepare('DELETE FROM vault_tokens WHERE token_id = ?').run(row.token_id);
      const token = this.#open<StoredToken>(row.token_id, row.sealed);
      if (token) taken.push({ provider: row.provider, token });
    }
    return taken;
  }

  connections(user: VaultUser): Connection[] {
    const rows = this.#database.prepare('SELECT workload, provider, scopes, expires_at FROM vault_tokens WHERE user_iss = ? AND user_sub = ? ORDER BY provider').all(user.iss, user.sub) as {
      workload: string; provider: string; scopes: string; expires_at: number | null;
    }[];
    return rows.map((row) => ({ workload: row.workload, provider: row.provider, scopes: row.scopes ? row.scopes.split(' ') : [], expiresAt: row.expires_at ?? undefined }));
  }

  putSession(session: ConsentSession, state: string): void {
    this.#database
      .prepare('INSERT INTO vault_sessions (session_uri, state_hash, token_id, sealed, expires_at) VALUES (?, ?, ?, ?, ?)')
      .run(session.sessionUri, sha256(state), tokenId(session.key), this.#seal(session.sessionUri, session), session.expiresAt);
  }

  /** The newest unexpired consent session for exactly this workload, user, provider and scopes (to hand out the same link again). */
  latestSession(key: TokenKey, now: number): ConsentSession | undefined {
    const row = this.#database
      .prepare('SELECT session_uri, sealed FROM vault_sessions WHERE token_id = ? AND expires_at > ? ORDER BY expires_at DESC LIMIT 1')
      .get(tokenId(key), now) as { session_uri: string; sealed: string } | undefined;
    return row && this.#open<ConsentSession>(row.session_uri, row.sealed);
  }

  updateSession(session: ConsentSession): void {
    this.#database.prepare('UPDATE vault_sessions SET sealed = ? WHERE session_uri = ?').run(this.#seal(session.sessionUri, session), session.sessionUri);
  }

  session(sessionUri: string, now: number): ConsentSession | undefined {
    const row = this.#database.prepare('SELECT sealed FROM vault_sessions WHERE session_uri = ? AND expires_at > ?').get(sessionUri, now) as { sealed: string } | undefined;
    return row && this.#open<ConsentSession>(sessionUri, row.sealed);
  }

  sessionByState(state: string, now: number): ConsentSession | undefined {
    const row = this.#database.prepare('SELECT session_uri, sealed FROM vault_sessions WHERE state_hash = ? AND expires_at > ?').get(sha256(state), now) as { session_uri: string; sealed: string } | undefined;
    return row && this.#open<ConsentSession>(row.session_uri, row.sealed);
  }

  deleteSession(sessionUri: string): void {
    this.#database.prepare('DELETE FROM vault_sessions WHERE session_uri = ?').run(sessionUri);
  }

  sweep(now: number): void {
    this.#database.prepare('DELETE FROM vault_sessions WHERE expires_at <= ?').run(now);
  }
}
