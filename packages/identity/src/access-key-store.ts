import type { SqlDatabase } from '@gatehouse/core';
import type { SecretBox } from './secret-box.ts';
import { newAccessKeyId, newSecretAccessKey } from './bootstrap-pools.ts';

export interface AccessKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly principal: string;
}

type Row = Record<string, unknown>;

/** Admin access keys for SigV4; the secret is sealed at rest (SigV4 verification needs it back in clear). */
export class AccessKeyStore {
  readonly #database: SqlDatabase;
  readonly #box: SecretBox;
  readonly #now: () => number;
  constructor(database: SqlDatabase, box: SecretBox, now: () => number) {
    this.#database = database;
    this.#box = box;
    this.#now = now;
  }
  async create(principal: string): Promise<AccessKey> {
    const key = { accessKeyId: newAccessKeyId(), secretAccessKey: newSecretAccessKey(), principal };
    await this.#database.run('INSERT INTO access_keys (access_key_id, secret_access_key, principal, created_at) VALUES (?, ?, ?, ?)', [key.accessKeyId, this.#box.seal(key.secretAccessKey), principal, this.#now()]);
    return key;
  }
  #toKey(row: Row): AccessKey {
    return { accessKeyId: String(row.access_key_id), secretAccessKey: this.#box.open(String(row.secret_access_key)), principal: String(row.principal) };
  }
  /** On every SigV4-signed request (runtime, Cognito admin, sandbox); the engines prepare it once. */
  async find(accessKeyId: string): Promise<AccessKey | undefined> {
    const row = (await this.#database.one('SELECT * FROM access_keys WHERE access_key_id = ?', [accessKeyId])) as Row | undefined;
    return row && this.#toKey(row);
  }
  async firstFor(principal: string): Promise<AccessKey | undefined> {
    const row = (await this.#database.one('SELECT * FROM access_keys WHERE principal = ? ORDER BY created_at LIMIT 1', [principal])) as Row | undefined;
    return row && this.#toKey(row);
  }
}
