import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A sealed value that was tampered with, sealed under another key, or is not a sealed value at all. */
export class SealedValueError extends Error {
  readonly code = 'SealedValueInvalid';
  constructor(reason: string) {
    super(`Cannot open sealed value: ${reason}`);
  }
}

function checkKey(key: Buffer): void {
  if (key.length !== 32) throw new RangeError(`A sealing key must be 32 bytes for AES-256-GCM (got ${key.length})`);
}

/**
 * Encrypts and authenticates a JSON value (AES-256-GCM, random 96-bit IV), e.g. cached STS
 * credentials before they go into a shared store that other processes and backups can read.
 * Output: `v1.<iv>.<ciphertext>.<tag>`, base64url parts, safe as a Redis value.
 * `context` (e.g. the store key) is bound as associated data, so a sealed value copied under another key does not open.
 */
export function sealJson(key: Buffer, value: unknown, context = ''): string {
  checkKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(`${VERSION}|${context}`, 'utf8'));
  const plaintext = Buffer.from(JSON.stringify(value) ?? 'null', 'utf8');
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return [VERSION, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

/** Opens what `sealJson` produced with the same key and context; throws `SealedValueError` otherwise. */
export function openJson<T>(key: Buffer, sealed: string, context = ''): T {
  checkKey(key);
  const parts = sealed.split('.');
  if (parts.length !== 4 || parts[0] !== VERSION) throw new SealedValueError('not a v1 sealed value');
  const iv = Buffer.from(parts[1]!, 'base64url');
  const ciphertext = Buffer.from(parts[2]!, 'base64url');
  const tag = Buffer.from(parts[3]!, 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new SealedValueError('malformed IV or tag');
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(`${VERSION}|${context}`, 'utf8'));
  decipher.setAuthTag(tag);
  let plaintext: Buffer;
  try {
    plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    throw new SealedValueError('authentication failed (wrong key, wrong context or tampered data)');
  }
  return JSON.parse(plaintext.toString('utf8')) as T;
}
