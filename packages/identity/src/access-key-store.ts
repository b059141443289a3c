import type { StatementSync } from 'node:sqlite';
import type { Database } from '@gatehouse/core';
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
  readonly #database: Database;
  readonly #box: SecretBox;
  readonly #now: () => number;
  #byId: StatementSync | undefined;
  constructor(database: Database, box: SecretBox, now: () => number) {
    this.#database = database;
    this.#box = box;
    this.#now = now;
  }
  create(principal: string): AccessKey {
    const key = { accessKeyId: newAccessKeyId(), secretAccessKey: newSecretAccessKey(), principal };
    this.#database.prepare('INSERT INTO access_keys (access_key_id, secret_access_key, principal, created_at) VALUES (?, ?, ?, ?)').run(key.accessKeyId, this.#box.seal(key.secretAccessKey), principal, this.#now());
    return key;
  }
  #toKey(row: Row): AccessKey {
    return { accessKeyId: String(row.access_key_id), secretAccessKey: this.#box.open(String(row.secret_access_key)), principal: String(row.principal) };
  }
  /** On every SigV4-signed request (runtime, Cognito admin, sandbox), so its statement is prepared once. */
  find(accessKeyId: string): AccessKey | undefined {
    this.#byId ??= this.#database.prepare('SELECT * FROM access_keys WHERE access_key_id = ?');
    const row = this.#byId.get(accessKeyId) as Row | undefined;
    return row && this.#toKey(row);
  }
  firstFor(principal: string): AccessKey | undefined {
    const row = this.#database.prepare('SELECT * FROM access_keys WHERE principal = ? ORDER BY created_at LIMIT 1').get(principal) as Row | undefined;
    return row && this.#toKey(row);
  }
}
