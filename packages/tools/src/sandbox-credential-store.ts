import { randomBytes } from 'node:crypto';
import { openDatabase, type Database } from '@gatehouse/core';
import type { RoleKind } from './sandbox-roles.ts';

/** The user a chain of sandbox credentials acts for (carried as source identity and session tags). */
export interface SessionUser {
  readonly sub: string;
  readonly username: string;
  readonly groups: readonly string[];
}

export interface TemporaryCredential {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** Epoch seconds. */
  readonly expiresAt: number;
  readonly accountId: string;
  readonly roleName: string;
  readonly roleKind: RoleKind;
  readonly sessionName: string;
  readonly user: SessionUser;
}

interface CredentialRow {
  access_key_id: string;
  secret_access_key: string;
  session_token: string;
  expires_at: number;
  account_id: string;
  role_name: string;
  role_kind: string;
  session_name: string;
  user_sub: string;
  username: string;
  groups_json: string;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function accessKeyId(): string {
  const bytes = randomBytes(16);
  return `ASIA${Array.from(bytes, (byte) => ALPHABET[byte % 32]).join('')}`;
}

/** Temporary credentials issued by the sandbox STS, in `{dataDir}/sandbox.db`, bound to user, account and role. */
export class SandboxCredentialStore {
  readonly #database: Database;
  readonly #insert;
  readonly #select;
  readonly #purge;

  constructor(file: string) {
    this.#database = openDatabase(file);
    this.#database.exec(`CREATE TABLE IF NOT EXISTS temporary_credentials (
      access_key_id TEXT PRIMARY KEY,
      secret_access_key TEXT NOT NULL,
      session_token TEXT NOT NULL,
      expires_at INTEGER NOT NULL,
      account_id TEXT NOT NULL,
      role_name TEXT NOT NULL,
      role_kind TEXT NOT NULL,
      session_name TEXT NOT NULL,
      user_sub TEXT NOT NULL,
      username TEXT NOT NULL,
      groups_json TEXT NOT NULL
    )`);
    this.#insert = this.#database.prepare(`INSERT INTO temporary_credentials VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.#select = this.#database.prepare('SELECT * FROM temporary_credentials WHERE access_key_id = ?');
    this.#purge = this.#database.prepare('DELETE FROM temporary_credentials WHERE expires_at < ?');
  }

  issue(input: Omit<TemporaryCredential, 'accessKeyId' | 'secretAccessKey' | 'sessionToken'>): TemporaryCredential {
    const credential: TemporaryCredential = {
      ...input,
      accessKeyId: accessKeyId(),
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: `GH${randomBytes(96).toString('base64')}`,
    };
    this.#insert.run(credential.accessKeyId, credential.secretAccessKey, credential.sessionToken, credential.expiresAt, credential.accountId,
      credential.roleName, credential.roleKind, credential.sessionName, credential.user.sub, credential.user.username, JSON.stringify(credential.user.groups));
    return credential;
  }

  /** Includes expired credentials, so callers can answer ExpiredToken rather than "unknown key". */
  find(id: string): TemporaryCredential | undefined {
    const row = this.#select.get(id) as CredentialRow | undefined;
    if (!row) return undefined;
    return {
      accessKeyId: row.access_key_id,
      secretAccessKey: row.secret_access_key,
      sessionToken: row.session_token,
      expiresAt: row.expires_at,
      accountId: row.account_id,
      roleName: row.role_name,
      roleKind: row.role_kind as RoleKind,
      sessionName: row.session_name,
      user: { sub: row.user_sub, username: row.username, groups: JSON.parse(row.groups_json) as string[] },
    };
  }

  /** Forgets credentials expired for more than a day (kept that long to answer ExpiredToken). */
  purge(nowSeconds: number): void {
    this.#purge.run(nowSeconds - 86_400);
  }

  close(): void {
    if (this.#database.isOpen) this.#database.close();
  }
}
