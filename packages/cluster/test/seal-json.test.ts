import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EmbeddedStore } from '@gatehouse/core';
import { sealJson, openJson, SealedValueError, loadSealingKey, SEALING_KEY_FILE } from '@gatehouse/cluster';

const credentials = { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', sessionToken: 'FwoGZXIvYXdzEXAMPLE', expiration: '2026-11-24T05:00:00Z' };

test('seals cached STS credentials so the stored text reveals nothing and opens to the same value', async () => {
  const key = randomBytes(32);
  const store = new EmbeddedStore();
  await store.set('sts:alice:Production', sealJson(key, credentials, 'sts:alice:Production'));
  const stored = (await store.get('sts:alice:Production'))!;
  for (const secret of [credentials.secretAccessKey, credentials.sessionToken, credentials.accessKeyId]) {
    assert.ok(!stored.includes(secret) && !Buffer.from(stored, 'utf8').toString('base64').includes(secret));
  }
  assert.deepEqual(openJson(key, stored, 'sts:alice:Production'), credentials);
  assert.notEqual(sealJson(key, credentials), sealJson(key, credentials), 'a fresh IV each time');
});

test('refuses a sealed value that was tampered with', () => {
  const key = randomBytes(32);
  const sealed = sealJson(key, credentials);
  const parts = sealed.split('.');
  const body = Buffer.from(parts[2]!, 'base64url');
  body[0] = body[0]! ^ 1;
  const forged = [parts[0], parts[1], body.toString('base64url'), parts[3]].join('.');
  assert.throws(() => openJson(key, forged), SealedValueError);
  assert.throws(() => openJson(key, [parts[0], parts[1], parts[2], Buffer.alloc(16).toString('base64url')].join('.')), SealedValueError);
  assert.throws(() => openJson(key, 'v1.not-enough'), SealedValueError);
  assert.throws(() => openJson(key, JSON.stringify(credentials)), SealedValueError);
});

test('refuses a value sealed under another key or copied under another store key', () => {
  const key = randomBytes(32);
  const sealed = sealJson(key, credentials, 'sts:alice:Production');
  assert.throws(() => openJson(randomBytes(32), sealed, 'sts:alice:Production'), SealedValueError);
  assert.throws(() => openJson(key, sealed, 'sts:mallory:Production'), SealedValueError);
  assert.throws(() => sealJson(randomBytes(16), credentials), RangeError);
});

test('keeps one private sealing key per data dir, shared by every instance on it', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-seal-'));
  try {
    const first = loadSealingKey(dataDir, {});
    const second = loadSealingKey(dataDir, {});
    assert.equal(first.length, 32);
    assert.deepEqual(second, first);
    const file = path.join(dataDir, SEALING_KEY_FILE);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(readFileSync(file, 'utf8').trim(), first.toString('hex'));
    const fromEnv = loadSealingKey(dataDir, { GATEHOUSE_STORE_KEY: 'ab'.repeat(32) });
    assert.deepEqual(fromEnv, Buffer.alloc(32, 0xab));
    assert.throws(() => loadSealingKey(dataDir, { GATEHOUSE_STORE_KEY: 'short' }), RangeError);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
