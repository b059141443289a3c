import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID, generateKeyPairSync } from 'node:crypto';
import { createJwtAuthorizer, type AuthError } from '../src/index.ts';
import { startTestIssuer, type TestIssuer } from '@gatehouse/testing/test-issuer';
import { refusal } from './support/auth-refusal.ts';

let issuer: TestIssuer;
before(async () => {
  issuer = await startTestIssuer();
});
after(async () => {
  await issuer.close();
});

describe('issuer keys (discovery, JWKS cache, rotation, outage)', () => {
  it('answers a flood of random kids fast with at most one JWKS reload per cooldown', async () => {
    let now = Date.now();
    const verifier = createJwtAuthorizer({ discoveryUrl: issuer.discoveryUrl }, { clock: () => now, jwksCooldownSeconds: 30 });
    const valid = issuer.sign();
    await verifier.verify(valid);
    const jwksAfterWarmup = issuer.counters.jwks;
    const forged = Array.from({ length: 2000 }, () => issuer.sign({}, { header: { kid: randomUUID() } }));
    const results = await Promise.allSettled(forged.map((token) => verifier.verify(token)));
    assert.ok(results.every((result) => result.status === 'rejected' && (result.reason as AuthError).code === 'unknown_key'));
    assert.ok(issuer.counters.jwks - jwksAfterWarmup <= 1, `JWKS fetched ${issuer.counters.jwks - jwksAfterWarmup} times`);
    assert.equal((await verifier.verify(issuer.sign({ sub: 'still-fine' }))).subject, 'still-fine', 'valid tokens unaffected');
    now += 31_000;
    await refusal(verifier.verify(issuer.sign({}, { header: { kid: randomUUID() } })));
    assert.ok(issuer.counters.jwks - jwksAfterWarmup <= 2, 'one more reload after the cooldown');
    verifier.close();
  });

  it('shares one request between concurrent cold-cache verifications', async () => {
    const verifier = createJwtAuthorizer({ discoveryUrl: issuer.discoveryUrl });
    const before = { ...issuer.counters };
    const principals = await Promise.all(Array.from({ length: 50 }, (_, index) => verifier.verify(issuer.sign({ sub: `u${index}` }))));
    assert.equal(principals.length, 50);
    assert.equal(issuer.counters.discovery - before.discovery, 1);
    assert.equal(issuer.counters.jwks - before.jwks, 1);
    verifier.close();
  });

  it('accepts a token signed with a newly published key after one reload', async () => {
    let now = Date.now();
    const verifier = createJwtAuthorizer({ discoveryUrl: issuer.discoveryUrl }, { clock: () => now });
    await verifier.verify(issuer.sign());
    now += 31_000;
    const rotated = issuer.addKey('RS256');
    const before = issuer.counters.jwks;
    assert.equal((await verifier.verify(issuer.sign({ sub: 'rotated' }, { key: rotated }))).subject, 'rotated');
    assert.equal(issuer.counters.jwks - before, 1);
    verifier.close();
  });

  it('accepts a key rotated in seconds after the cache was filled (no failed request on rotation), still one reload per cooldown', async () => {
    let now = Date.now();
    const verifier = createJwtAuthorizer({ discoveryUrl: issuer.discoveryUrl }, { clock: () => now });
    await verifier.verify(issuer.sign());
    now += 2_000;
    const rotated = issuer.addKey('RS256');
    const before = issuer.counters.jwks;
    assert.equal((await verifier.verify(issuer.sign({ sub: 'fresh-key' }, { key: rotated }))).subject, 'fresh-key');
    for (let index = 0; index < 50; index++) {
      await assert.rejects(verifier.verify(issuer.sign({}, { header: { kid: `random-${index}` } })));
    }
    assert.equal(issuer.counters.jwks - before, 1, 'the rotation cost one reload and the flood after it none');
    verifier.close();
  });

  it('ignores oct and use:enc keys and refuses a kid published twice', async () => {
    const poisoned = await startTestIssuer();
    try {
      const enc = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
      const rsa = poisoned.keys.rsa;
      poisoned.setJwks({
        keys: [
          { kty: 'oct', kid: 'hmac', k: Buffer.from('secret').toString('base64url'), alg: 'HS256' },
          { ...enc, kid: 'enc-key', use: 'enc' },
          { ...rsa.publicJwk, use: 'enc', kid: 'rsa-as-enc' },
          rsa.publicJwk,
          { ...poisoned.keys.ec.publicJwk },
          { ...poisoned.keys.ec.publicJwk },
        ],
      });
      const verifier = createJwtAuthorizer({ discoveryUrl: poisoned.discoveryUrl });
      assert.equal((await verifier.verify(poisoned.sign())).subject, 'user-1');
      const duplicate = await refusal(verifier.verify(poisoned.sign({}, { key: poisoned.keys.ec })));
      assert.deepEqual([duplicate.code, duplicate.status], ['unknown_key', 401]);
      const encKey = await refusal(verifier.verify(poisoned.sign({}, { header: { kid: 'rsa-as-enc' } })));
      assert.equal(encKey.code, 'unknown_key');
      verifier.close();
    } finally {
      await poisoned.close();
    }
  });

  it('answers 503 issuer_unavailable on a cold cache when the JWKS fails, within the timeout', async () => {
    const down = await startTestIssuer();
    try {
      down.setJwksMode('hang');
      const verifier = createJwtAuthorizer({ discoveryUrl: down.discoveryUrl }, { timeoutMs: 1500 });
      const started = Date.now();
      const error = await refusal(verifier.verify(down.sign()));
      assert.deepEqual([error.code, error.status], ['issuer_unavailable', 503]);
      assert.ok(Date.now() - started < 5000);
      assert.equal(error.toResponse().status, 503);
      verifier.close();
      down.setJwksMode('fail');
      const failing = createJwtAuthorizer({ discoveryUrl: down.discoveryUrl });
      assert.equal((await refusal(failing.verify(down.sign()))).code, 'issuer_unavailable');
      failing.close();
    } finally {
      down.setJwksMode('ok');
      await down.close();
    }
  });

  it('keeps serving from a warm cache while the issuer is down', async () => {
    const flaky = await startTestIssuer();
    let now = Date.now();
    try {
      const verifier = createJwtAuthorizer({ discoveryUrl: flaky.discoveryUrl }, { clock: () => now, cacheSize: 0 });
      await verifier.verify(flaky.sign());
      flaky.setJwksMode('fail');
      now += 11 * 60_000;
      assert.equal((await verifier.verify(flaky.sign({ sub: 'warm-1' }))).subject, 'warm-1');
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal((await verifier.verify(flaky.sign({ sub: 'warm-2' }))).subject, 'warm-2');
      assert.equal((await refusal(verifier.verify(flaky.sign({}, { header: { kid: 'new-kid' } })))).code, 'unknown_key');
      verifier.close();
    } finally {
      flaky.setJwksMode('ok');
      await flaky.close();
    }
  });

  it('refuses an unreachable discovery URL with 503', async () => {
    const verifier = createJwtAuthorizer({ discoveryUrl: 'http://127.0.0.1:1/.well-known/openid-configuration' }, { timeoutMs: 1000 });
    const error = await refusal(verifier.verify(issuer.sign()));
    assert.deepEqual([error.code, error.status], ['issuer_unavailable', 503]);
    verifier.close();
  });
});
