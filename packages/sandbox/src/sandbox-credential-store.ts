import { randomBytes } from 'node:crypto';
import { openPrivateDatabase, type Database } from '@gatehouse/core';
import { openJson, sealJson } from '@gatehouse/cluster';
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

/** Marks a sealed column value (`sealJson` output); plaintext secrets and tokens are base64 and never contain '.'. */
const SEALED = /^v1\./;

/**
 * Temporary credentials issued by the sandbox STS, in `{dataDir}/sandbox.db` (mode 0600), bound to user, account
 * and role. The secret access key and session token are sealed (AES-256-GCM under the data dir's store sealing
 * key, bound to the access key id and column), so a copied database file alone reveals neither.
 */
export class SandboxCredentialStore {
  readonly #database: Database;
  readonly #sealingKey: Buffer;
  readonly #insert;
  readonly #select;
  readonly #purge;

  constructor(file: string, sealingKey: Buffer) {
    this.#sealingKey = sealingKey;
    this.#database = openPrivateDatabase(file);
    // Deleted and overwritten rows are zeroed on disk, not left readable in free pages.
    this.#database.exec('PRAGMA secure_delete = ON');
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
    this.#sealPlaintextRows();
  }

  #seal(accessKeyId: string, column: 'secret' | 'token', value: string): string {
    return sealJson(this.#sealingKey, value, `sandbox-credential|${accessKeyId}|${column}`);
  }

  #open(accessKeyId: string, column: 'secret' | 'token', sealed: string): string {
    return openJson<string>(this.#sealingKey, sealed, `sandbox-credential|${accessKeyId}|${column}`);
  }

  /** Rows written by versions that stored secrets in plain text are sealed in place, and the old text is wiped. */
  #sealPlaintextRows(): void {
    const rows = this.#database.prepare('SELECT access_key_id, secret_access_key, session_token FROM temporary_credentials').all() as unknown as Pick<CredentialRow, 'access_key_id' | 'secret_access_key' | 'session_token'>[];
    const plain = rows.filter((row) => !SEALED.test(row.secret_access_key) || !SEALED.test(row.session_token));
    if (plain.length === 0) return;
    const update = this.#database.prepare('UPDATE temporary_credentials SET secret_access_key = ?, session_token = ? WHERE access_key_id = ?');
    for (const row of plain) {
      update.run(
        SEALED.test(row.secret_access_key) ? row.secret_access_key : this.#seal(row.access_key_id, 'secret', row.secret_access_key),
        SEALED.test(row.session_token) ? row.session_token : this.#seal(row.access_key_id, 'token', row.session_token),
        row.access_key_id,
      );
    }
    this.#database.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  }

  issue(input: Omit<TemporaryCredential, 'accessKeyId' | 'secretAccessKey' | 'sessionToken'>): TemporaryCredential {
    const credential: TemporaryCredential = {
      ...input,
      accessKeyId: accessKeyId(),
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: `GH${randomBytes(96).toString('base64')}`,
    };
    this.#insert.run(credential.accessKeyId, this.#seal(credential.accessKeyId, 'secret', credential.secretAccessKey), this.#seal(credential.accessKeyId, 'token', credential.sessionToken), credential.expiresAt, credential.accountId,
      credential.roleName, credential.roleKind, credential.sessionName, credential.user.sub, credential.user.username, JSON.stringify(credential.user.groups));
    return credential;
  }

  /** Includes expired credentials, so callers can answer ExpiredToken rather than "unknown key". */
  find(id: string): TemporaryCredential | undefined {
    const row = this.#select.get(id) as CredentialRow | undefined;
    if (!row) return undefined;
    let secretAccessKey: string;
    let sessionToken: string;
    try {
      secretAccessKey = this.#open(row.access_key_id, 'secret', row.secret_access_key);
      sessionToken = this.#open(row.access_key_id, 'token', row.session_token);
    } catch {
      // Sealed under another key (the sealing key was replaced): the credential no longer exists.
      return undefined;
    }
    return {
      accessKeyId: row.access_key_id,
      secretAccessKey,
      sessionToken,
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
