import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SealedValueError, loadSealingKey, openJson } from '@gatehouse/cluster';
import { LEGACY_IDENTITY_KEY_FILE, SecretBox } from '../src/secret-box.ts';

/** A value as identity sealed it before the one sealer: `iv.tag.body` (base64url) under identity-master.key. */
function legacySeal(key: Buffer, plain: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return [iv, cipher.getAuthTag(), body].map((part) => part.toString('base64url')).join('.');
}

/** A signing key's private half as identity stores it, generated for this run (a committed key would be a shared one). */
function privateKeyPem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

test('identity seals with the one sealer under the one key file, and still opens values sealed by the old identity-master.key', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-secret-box-'));
  try {
    const legacyKey = randomBytes(32);
    writeFileSync(path.join(dataDir, LEGACY_IDENTITY_KEY_FILE), legacyKey.toString('base64'), { mode: 0o600 });
    const oldKey = privateKeyPem();
    const newKey = privateKeyPem();
    const old = legacySeal(legacyKey, oldKey);
    const box = SecretBox.open(dataDir, {});
    assert.equal(box.open(old), oldKey);

    const sealed = box.seal(newKey);
    assert.match(sealed, /^v1\./);
    assert.doesNotMatch(sealed, /PRIVATE KEY/);
    // It is cluster's sealJson under store-sealing.key: that key alone opens it.
    assert.equal(openJson<string>(loadSealingKey(dataDir, {}), sealed, 'identity-secret'), newKey);
    assert.equal(SecretBox.open(dataDir, {}).open(sealed), newKey);

    // Tampering and a foreign key are refused in both formats.
    const flipped = `${sealed.slice(0, -2)}${sealed.endsWith('A') ? 'B' : 'A'}${sealed.slice(-1)}`;
    assert.throws(() => box.open(flipped), SealedValueError);
    assert.throws(() => new SecretBox(randomBytes(32), randomBytes(32)).open(old));
    assert.throws(() => new SecretBox(randomBytes(32), legacyKey).open(sealed), SealedValueError);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('an old-format value without identity-master.key is refused with a message naming the missing file', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-secret-box-'));
  try {
    const old = legacySeal(randomBytes(32), 'secret');
    assert.throws(() => SecretBox.open(dataDir, {}).open(old), /identity-master\.key is missing/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
