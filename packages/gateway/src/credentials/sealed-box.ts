import { loadSealingKey, openJson, sealJson } from '@gatehouse/cluster';

/**
 * AES-256-GCM for values the gateway keeps in the shared store (cached STS credentials): a store
 * dump alone reveals nothing. A thin adapter over the cluster's sealing, so every component seals
 * store values one way, under the one key file of the data dir (or `GATEHOUSE_STORE_KEY`).
 */
export class SealedBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('SealedBox needs a 32-byte key');
    this.#key = key;
  }

  static fromDataDir(dataDir: string): SealedBox {
    return new SealedBox(loadSealingKey(dataDir));
  }

  seal(plaintext: string, associated: string): string {
    return sealJson(this.#key, plaintext, associated);
  }

  /** undefined when the value was not sealed by this key for this purpose (tampered, or another key). */
  open(sealed: string, associated: string): string | undefined {
    try {
      const value = openJson<unknown>(this.#key, sealed, associated);
      return typeof value === 'string' ? value : undefined;
    } catch {
      return undefined;
    }
  }
}
