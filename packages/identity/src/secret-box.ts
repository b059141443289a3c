import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { SqlDatabase } from '@gatehouse/core';
import { loadSealingKey } from '@gatehouse/cluster';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

/**
 * Seals private signing keys at rest with AES-256-GCM under a key file that only the owner can read,
 * so a copied identity.db alone does not leak the keys.
 */
export class SecretBox {
  readonly #key: Buffer;
  constructor(key: Buffer) {
    this.#key = key;
  }

  static open(dataDir: string): SecretBox {
    const file = path.join(dataDir, 'identity-master.key');
    if (!existsSync(file)) {
      mkdirSync(dataDir, { recursive: true });
      try {
        writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
      } catch (error) {
        // another process created it first: use theirs
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new Error(`${file} is not a 32-byte base64 key`);
    return new SecretBox(key);
  }

  /**
   * SQLite (one data dir): `identity-master.key` beside identity.db. PostgreSQL (instances with separate data dirs):
   * derived from the sealing key every instance shares (GATEHOUSE_STORE_KEY, or the same store-sealing.key), and
   * checked against the fingerprint the first instance stored, so an instance with another key refuses to start
   * instead of failing to open every signing key.
   */
  static async forDatabase(dataDir: string, database: SqlDatabase, env: NodeJS.ProcessEnv = process.env): Promise<SecretBox> {
    if (database.engine === 'sqlite') return SecretBox.open(dataDir);
    const key = Buffer.from(hkdfSync('sha256', loadSealingKey(dataDir, env), Buffer.alloc(0), 'gatehouse identity secrets', 32));
    const fingerprint = createHmac('sha256', key).update('gatehouse sealing key check').digest('base64url');
    await database.run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT DO NOTHING', ['sealing-key-check', fingerprint]);
    const stored = await database.one<{ value: string }>('SELECT value FROM meta WHERE key = ?', ['sealing-key-check']);
    if (stored?.value !== fingerprint) {
      throw new Error(
        `identity: this instance's sealing key is not the one that sealed the signing keys in ${database.location}. ` +
          'Give every instance the same key: GATEHOUSE_STORE_KEY=<64 hex characters> (or the same store-sealing.key in each data dir)',
      );
    }
    return new SecretBox(key);
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [iv, cipher.getAuthTag(), body].map((part) => part.toString('base64url')).join('.');
  }

  open(sealed: string): string {
    const [iv, tag, body] = sealed.split('.').map((part) => Buffer.from(part, 'base64url'));
    if (!iv || !tag || !body) throw new Error('sealed value is malformed');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, iv);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  }
}
