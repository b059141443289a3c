import { createDecipheriv, createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { SqlDatabase } from '@gatehouse/core';
import { loadSealingKey, openJson, sealJson } from '@gatehouse/cluster';

/** The key file of identity's own sealer before it used the one sealer; read only to open what it sealed. */
export const LEGACY_IDENTITY_KEY_FILE = 'identity-master.key';
const CONTEXT = 'identity-secret';

/**
 * Seals private signing keys and access-key secrets at rest, so a copied identity.db alone does not leak them:
 * `@gatehouse/cluster`'s one sealer (`sealJson`, AES-256-GCM, `v1.` values) under the data dir's one key file
 * (`store-sealing.key` or `GATEHOUSE_STORE_KEY`). Values sealed by earlier versions (`iv.tag.body` under
 * `identity-master.key`) still open, while that file is there; they are sealed anew when rewritten.
 */
export class SecretBox {
  readonly #key: Buffer;
  readonly #legacyKey: Buffer | undefined;
  constructor(key: Buffer, legacyKey?: Buffer) {
    this.#key = key;
    this.#legacyKey = legacyKey;
  }

  static open(dataDir: string, env: NodeJS.ProcessEnv = process.env): SecretBox {
    return new SecretBox(loadSealingKey(dataDir, env), readLegacyKey(dataDir));
  }

  /**
   * The box for identity's database. Both engines seal with the one sealing key (`store-sealing.key` or
   * `GATEHOUSE_STORE_KEY`). On PostgreSQL several instances with separate data dirs share the rows, so the key's
   * fingerprint is stored by the first instance and checked by every other: an instance with another key
   * refuses to start instead of failing to open every signing key.
   */
  static async forDatabase(dataDir: string, database: SqlDatabase, env: NodeJS.ProcessEnv = process.env): Promise<SecretBox> {
    const box = SecretBox.open(dataDir, env);
    if (database.engine === 'sqlite') return box;
    const fingerprint = createHmac('sha256', box.#key).update('gatehouse sealing key check').digest('base64url');
    await database.run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT DO NOTHING', ['sealing-key-check', fingerprint]);
    const stored = await database.one<{ value: string }>('SELECT value FROM meta WHERE key = ?', ['sealing-key-check']);
    if (stored?.value !== fingerprint) {
      throw new Error(
        `identity: this instance's sealing key is not the one that sealed the signing keys in ${database.location}. ` +
          'Give every instance the same key: GATEHOUSE_STORE_KEY=<64 hex characters> (or the same store-sealing.key in each data dir)',
      );
    }
    return box;
  }

  seal(plain: string): string {
    return sealJson(this.#key, plain, CONTEXT);
  }

  open(sealed: string): string {
    if (sealed.startsWith('v1.')) return openJson<string>(this.#key, sealed, CONTEXT);
    return this.#openLegacy(sealed);
  }

  #openLegacy(sealed: string): string {
    if (!this.#legacyKey) throw new Error(`sealed value is in the old format but ${LEGACY_IDENTITY_KEY_FILE} is missing from the data dir`);
    const [iv, tag, body] = sealed.split('.').map((part) => Buffer.from(part, 'base64url'));
    if (!iv || !tag || !body) throw new Error('sealed value is malformed');
    const decipher = createDecipheriv('aes-256-gcm', this.#legacyKey, iv);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  }
}

function readLegacyKey(dataDir: string): Buffer | undefined {
  const file = path.join(dataDir, LEGACY_IDENTITY_KEY_FILE);
  if (!existsSync(file)) return undefined;
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`${file} is not a 32-byte base64 key`);
  return key;
}
