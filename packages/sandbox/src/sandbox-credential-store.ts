import { randomBytes } from 'node:crypto';
import { openSqlDatabase, type Migration, type SqlDatabase } from '@gatehouse/core';
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

/** Marks a sealed column value (`sealJson` output; `LIKE 'v1.%'` in SQL); plaintext secrets and tokens are base64 and never contain '.'. */
const SEALED = /^v1\./;

export const SANDBOX_CREDENTIAL_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'temporary_credentials',
    up: (tx) => tx.exec(`CREATE TABLE IF NOT EXISTS temporary_credentials (
      access_key_id TEXT PRIMARY KEY,
      secret_access_key TEXT NOT NULL,
      session_token TEXT NOT NULL,
      expires_at BIGINT NOT NULL,
      account_id TEXT NOT NULL,
      role_name TEXT NOT NULL,
      role_kind TEXT NOT NULL,
      session_name TEXT NOT NULL,
      user_sub TEXT NOT NULL,
      username TEXT NOT NULL,
      groups_json TEXT NOT NULL
    )`),
  },
];

/**
 * Temporary credentials issued by the sandbox STS, in `{dataDir}/sandbox.db` (mode 0600) or the shared PostgreSQL
 * database (so a credential issued by one instance verifies at every other), bound to user, account and role. The
 * secret access key and session token are sealed (AES-256-GCM under the store sealing key, bound to the access key
 * id and column), so a copied database alone reveals neither.
 */
export class SandboxCredentialStore {
  readonly #database: SqlDatabase;
  readonly #sealingKey: Buffer;

  constructor(database: SqlDatabase, sealingKey: Buffer) {
    this.#sealingKey = sealingKey;
    this.#database = database;
  }

  static async open(options: { readonly file: string; readonly database?: string | undefined; readonly sealingKey: Buffer }): Promise<SandboxCredentialStore> {
    // SQLite: deleted and overwritten rows are zeroed on disk, not left readable in free pages.
    const migrations = { concern: 'sandbox-credentials', list: SANDBOX_CREDENTIAL_MIGRATIONS };
    const database = await openSqlDatabase({ database: options.database, file: options.file, ownerOnly: true, sqlitePragmas: 'PRAGMA secure_delete = ON', migrations });
    try {
      const store = new SandboxCredentialStore(database, options.sealingKey);
      await store.#sealPlaintextRows();
      return store;
    } catch (error) {
      await database.close();
      throw error;
    }
  }

  #seal(accessKeyId: string, column: 'secret' | 'token', value: string): string {
    return sealJson(this.#sealingKey, value, `sandbox-credential|${accessKeyId}|${column}`);
  }

  #open(accessKeyId: string, column: 'secret' | 'token', sealed: string): string {
    return openJson<string>(this.#sealingKey, sealed, `sandbox-credential|${accessKeyId}|${column}`);
  }

  /** Rows written by versions that stored secrets in plain text are sealed in place, and the old text is wiped. */
  async #sealPlaintextRows(): Promise<void> {
    // Only the rows still holding plain text are read: at a later start this finds none and transfers nothing.
    const plain = await this.#database.many<Pick<CredentialRow, 'access_key_id' | 'secret_access_key' | 'session_token'>>(
      "SELECT access_key_id, secret_access_key, session_token FROM temporary_credentials WHERE secret_access_key NOT LIKE 'v1.%' OR session_token NOT LIKE 'v1.%'",
    );
    if (plain.length === 0) return;
    for (const row of plain) {
      await this.#database.run('UPDATE temporary_credentials SET secret_access_key = ?, session_token = ? WHERE access_key_id = ?', [
        SEALED.test(row.secret_access_key) ? row.secret_access_key : this.#seal(row.access_key_id, 'secret', row.secret_access_key),
        SEALED.test(row.session_token) ? row.session_token : this.#seal(row.access_key_id, 'token', row.session_token),
        row.access_key_id,
      ]);
    }
    if (this.#database.engine === 'sqlite') await this.#database.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  }

  async issue(input: Omit<TemporaryCredential, 'accessKeyId' | 'secretAccessKey' | 'sessionToken'>): Promise<TemporaryCredential> {
    const credential: TemporaryCredential = {
      ...input,
      accessKeyId: accessKeyId(),
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: `GH${randomBytes(96).toString('base64')}`,
    };
    await this.#database.run('INSERT INTO temporary_credentials VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', [
      credential.accessKeyId, this.#seal(credential.accessKeyId, 'secret', credential.secretAccessKey), this.#seal(credential.accessKeyId, 'token', credential.sessionToken),
      credential.expiresAt, credential.accountId, credential.roleName, credential.roleKind, credential.sessionName, credential.user.sub, credential.user.username,
      JSON.stringify(credential.user.groups),
    ]);
    return credential;
  }

  /** Includes expired credentials, so callers can answer ExpiredToken rather than "unknown key". */
  async find(id: string): Promise<TemporaryCredential | undefined> {
    const row = await this.#database.one<CredentialRow>('SELECT * FROM temporary_credentials WHERE access_key_id = ?', [id]);
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
      expiresAt: Number(row.expires_at),
      accountId: row.account_id,
      roleName: row.role_name,
      roleKind: row.role_kind as RoleKind,
      sessionName: row.session_name,
      user: { sub: row.user_sub, username: row.username, groups: JSON.parse(row.groups_json) as string[] },
    };
  }

  /** Forgets credentials expired for more than a day (kept that long to answer ExpiredToken). */
  async purge(nowSeconds: number): Promise<void> {
    await this.#database.run('DELETE FROM temporary_credentials WHERE expires_at < ?', [nowSeconds - 86_400]);
  }

  close(): Promise<void> {
    return this.#database.close();
  }
}
