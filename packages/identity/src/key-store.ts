import { generateKeyPairSync, createPrivateKey, randomBytes, type KeyObject } from 'node:crypto';
import type { SqlDatabase } from '@gatehouse/core';
import type { SecretBox } from './secret-box.ts';

export type KeyPurpose = 'access' | 'id';

export interface PublicJwk {
  readonly kty: 'RSA';
  readonly kid: string;
  readonly alg: 'RS256';
  readonly use: 'sig';
  readonly n: string;
  readonly e: string;
}

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
}

/** Tokens live at most one day (Cognito's ceiling), so a retired key is published this long after retirement. */
export const RETIRED_KEY_GRACE_SECONDS = 86_400 + 300;

type Row = Record<string, unknown>;

/**
 * RS256 signing keys per pool and purpose (access and ID tokens use different keys, as Cognito does).
 * Private halves are sealed with the data dir's master key; rotation retires the active key but keeps
 * publishing it until every token it signed has expired.
 */
export class KeyStore {
  readonly #database: SqlDatabase;
  readonly #box: SecretBox;
  readonly #now: () => number;
  readonly #cache = new Map<string, KeyObject>();
  constructor(database: SqlDatabase, box: SecretBox, now: () => number) {
    this.#database = database;
    this.#box = box;
    this.#now = now;
  }

  async #insert(poolId: string, purpose: KeyPurpose): Promise<void> {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const kid = randomBytes(16).toString('base64url');
    const jwk = publicKey.export({ format: 'jwk' });
    const publicJwk: PublicJwk = { kty: 'RSA', kid, alg: 'RS256', use: 'sig', n: String(jwk.n), e: String(jwk.e) };
    const sealed = this.#box.seal(privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
    await this.#database.run('INSERT INTO signing_keys (kid, pool_id, purpose, public_jwk, private_sealed, created_at) VALUES (?, ?, ?, ?, ?, ?)', [kid, poolId, purpose, JSON.stringify(publicJwk), sealed, this.#now()]);
  }

  /** Creates the pool's two keys on first start; no-op afterwards. */
  async ensureKeys(poolId: string): Promise<void> {
    await this.#database.transaction(async () => {
      for (const purpose of ['access', 'id'] as const) {
        if (!(await this.#database.one('SELECT 1 FROM signing_keys WHERE pool_id = ? AND purpose = ? AND retired_at IS NULL', [poolId, purpose]))) await this.#insert(poolId, purpose);
      }
    });
  }

  /** New keys become active; the old ones keep verifying until their grace period ends. */
  async rotate(poolId: string): Promise<void> {
    await this.#database.transaction(async () => {
      await this.#database.run('UPDATE signing_keys SET retired_at = ? WHERE pool_id = ? AND retired_at IS NULL', [this.#now(), poolId]);
      await this.#insert(poolId, 'access');
      await this.#insert(poolId, 'id');
    });
  }

  /** Read on each signing so a rotation done by `gatehouse keys rotate` in another process takes effect at once. */
  async active(poolId: string, purpose: KeyPurpose): Promise<SigningKey> {
    const row = (await this.#database.one('SELECT kid, private_sealed FROM signing_keys WHERE pool_id = ? AND purpose = ? AND retired_at IS NULL ORDER BY created_at DESC LIMIT 1', [poolId, purpose])) as Row | undefined;
    if (!row) throw new Error(`no active ${purpose} key for pool ${poolId}`);
    const kid = String(row.kid);
    let privateKey = this.#cache.get(kid);
    if (!privateKey) {
      privateKey = createPrivateKey(this.#box.open(String(row.private_sealed)));
      this.#cache.set(kid, privateKey);
    }
    return { kid, privateKey };
  }

  /** Active keys first, then retired keys still inside their grace period. */
  async publicKeys(poolId: string): Promise<PublicJwk[]> {
    const cutoff = this.#now() - RETIRED_KEY_GRACE_SECONDS * 1000;
    return (
      (await this.#database.many('SELECT public_jwk FROM signing_keys WHERE pool_id = ? AND (retired_at IS NULL OR retired_at > ?) ORDER BY retired_at IS NOT NULL, created_at DESC, purpose', [poolId, cutoff])) as Row[]
    ).map((row) => JSON.parse(String(row.public_jwk)) as PublicJwk);
  }
}
