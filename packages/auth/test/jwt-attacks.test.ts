import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, createSign, sign as cryptoSign, generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createJwtAuthorizer, type JwtAuthorizer } from '../src/index.ts';
import { startTestIssuer, type TestIssuer } from '@gatehouse/testing/test-issuer';
import { startProtectedServer, type ProtectedServer } from './support/protected-server.ts';

// REFERENCE §4's attack table, sent over HTTP to a real guarded route: each forged token must be
// refused with the expected status and reason, and the protected handler must never run.
let issuer: TestIssuer;
let authorizer: JwtAuthorizer;
let guarded: ProtectedServer;
let bait: Server;
let baitHits = 0;
let baitUrl = '';

before(async () => {
  issuer = await startTestIssuer();
  authorizer = createJwtAuthorizer({ discoveryUrl: issuer.discoveryUrl, allowedClients: ['test-client'] });
  guarded = await startProtectedServer(authorizer);
  bait = createServer((_request, response) => {
    baitHits++;
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[]}');
  });
  await new Promise<void>((resolve) => bait.listen(0, '127.0.0.1', resolve));
  baitUrl = `http://127.0.0.1:${(bait.address() as AddressInfo).port}/jwks.json`;
});
after(async () => {
  authorizer.close();
  await guarded.close();
  await new Promise<void>((resolve) => bait.close(() => resolve()));
  await issuer.close();
});

const b64 = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const now = (): number => Math.floor(Date.now() / 1000);
const claims = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ iss: issuer.issuer, sub: 'user-1', client_id: 'test-client', token_use: 'access', iat: now(), exp: now() + 600, ...extra });
const hs256 = (header: Record<string, unknown>, payload: Record<string, unknown>, secret: string | Buffer): string => {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
};

async function expectRefused(token: string, status: number, code?: string): Promise<void> {
  const before = guarded.reached.count;
  const response = await fetch(guarded.url, { headers: { authorization: `Bearer ${token}` } });
  const body = await response.text();
  assert.equal(response.status, status, `status for ${code ?? 'attack'}: ${body}`);
  if (code) assert.equal(response.headers.get('x-auth-code'), code);
  assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer/);
  assert.ok(!body.includes(token), 'the token is never echoed');
  assert.equal(guarded.reached.count, before, 'the protected handler received nothing');
}

describe('JWT attacks (REFERENCE §4)', () => {
  it('admits the genuine token (control)', async () => {
    const response = await fetch(guarded.url, { headers: { authorization: `Bearer ${issuer.sign()}` } });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { subject: 'user-1', clientId: 'test-client', groups: [] });
  });

  it('#1 refuses alg none in any spelling, signed or not', async () => {
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      await expectRefused(`${b64({ alg, kid: issuer.keys.rsa.kid })}.${b64(claims())}.`, 401, 'bad_signature');
      await expectRefused(`${b64({ alg, kid: issuer.keys.rsa.kid })}.${b64(claims())}.${b64('sig')}`, 401, 'bad_signature');
    }
  });

  it('#2 refuses a stripped, truncated or flipped signature and an edited payload', async () => {
    const token = issuer.sign();
    const [header, payload, signature] = token.split('.') as [string, string, string];
    await expectRefused(`${header}.${payload}.`, 401, 'bad_signature');
    await expectRefused(token.slice(0, -4), 401, 'bad_signature');
    const flipped = signature.slice(0, 10) + (signature[10] === 'A' ? 'B' : 'A') + signature.slice(11);
    await expectRefused(`${header}.${payload}.${flipped}`, 401, 'bad_signature');
    await expectRefused(`${header}.${b64({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), 'cognito:groups': ['admin'] })}.${signature}`, 401, 'bad_signature');
  });

  it('#3 refuses RS→HS confusion with the public key as HMAC secret in every encoding', async () => {
    const key = issuer.keys.rsa;
    const pem = (await import('node:crypto')).createPublicKey({ key: key.publicJwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
    const der = (await import('node:crypto')).createPublicKey({ key: key.publicJwk as never, format: 'jwk' }).export({ type: 'spki', format: 'der' });
    for (const secret of [pem, `\n ${pem}`, der, JSON.stringify(key.publicJwk)]) {
      await expectRefused(hs256({ alg: 'HS256', kid: key.kid }, claims(), secret), 401, 'bad_signature');
    }
  });

  it('#4 refuses HS256 signed with weak secrets', async () => {
    for (const secret of ['', 'secret', 'password', '123456', 'changeme']) {
      await expectRefused(hs256({ alg: 'HS256', kid: issuer.keys.rsa.kid }, claims(), secret), 401, 'bad_signature');
    }
  });

  it('#5 refuses a header-embedded jwk even when the token is signed with it', async () => {
    const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = { ...attacker.publicKey.export({ format: 'jwk' }), kid: issuer.keys.rsa.kid };
    const input = `${b64({ alg: 'RS256', kid: issuer.keys.rsa.kid, jwk })}.${b64(claims())}`;
    const token = `${input}.${createSign('sha256').update(input).sign(attacker.privateKey).toString('base64url')}`;
    await expectRefused(token, 401, 'malformed');
  });

  it('#6 refuses jku, x5u and x5c without any outbound request', async () => {
    const jwksBefore = issuer.counters.jwks;
    for (const extra of [{ jku: baitUrl }, { x5u: baitUrl }, { x5c: ['MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'] }]) {
      await expectRefused(issuer.sign({}, { header: extra }), 401, 'malformed');
    }
    assert.equal(baitHits, 0);
    assert.equal(issuer.counters.jwks, jwksBefore);
  });

  it('#7 treats injected kids as opaque unknown keys', async () => {
    for (const kid of ['../../dev/null', "x' UNION SELECT '1';--", '|sleep 10']) {
      await expectRefused(hs256({ alg: 'HS256', kid }, claims(), ''), 401, 'unknown_key');
    }
  });

  it('#9 refuses psychic ECDSA signatures (r = s = 0 and r = s = n)', async () => {
    const header = b64({ alg: 'ES256', kid: issuer.keys.ec.kid });
    const payload = b64(claims());
    const n = Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex');
    await expectRefused(`${header}.${payload}.${Buffer.alloc(64).toString('base64url')}`, 401, 'bad_signature');
    await expectRefused(`${header}.${payload}.${Buffer.concat([n, n]).toString('base64url')}`, 401, 'bad_signature');
  });

  it('#10 refuses a DER ECDSA signature and an alg that differs from the key’s', async () => {
    const input = `${b64({ alg: 'ES256', kid: issuer.keys.ec.kid })}.${b64(claims())}`;
    const der = cryptoSign('sha256', Buffer.from(input), { key: issuer.keys.ec.privateKey, dsaEncoding: 'der' });
    await expectRefused(`${input}.${der.toString('base64url')}`, 401, 'bad_signature');
    for (const alg of ['RS512', 'PS256', 'ES256']) {
      await expectRefused(issuer.sign({}, { header: { alg } }), 401, 'bad_signature');
    }
  });

  it('#12 refuses a missing or non-numeric exp', async () => {
    await expectRefused(issuer.sign({ exp: undefined }), 401, 'malformed');
    await expectRefused(issuer.sign({ exp: '9999999999' }), 401, 'malformed');
    await expectRefused(issuer.sign({ exp: null }), 401, 'malformed');
    const key = issuer.keys.rsa;
    const infinite = JSON.stringify(claims()).replace(/"exp":\d+/, '"exp":1e309');
    await expectRefused(issuer.signWith(key, { alg: 'RS256', kid: key.kid }, infinite), 401, 'malformed');
  });

  it('#13 refuses look-alike issuers and a valid token from another issuer', async () => {
    for (const iss of [`${issuer.issuer}/`, issuer.issuer.replace('http://', 'https://'), issuer.issuer.replace('127.0.0.1', 'localhost')]) {
      await expectRefused(issuer.sign({ iss }), 401, 'wrong_issuer');
    }
    const other = await startTestIssuer();
    try {
      await expectRefused(other.sign({ iss: issuer.issuer }), 401, 'unknown_key');
      await expectRefused(other.sign(), 401, 'unknown_key');
    } finally {
      await other.close();
    }
  });

  it('#14/#16 refuses an ID token and an opaque refresh token', async () => {
    await expectRefused(issuer.sign({ token_use: 'id', aud: 'test-client' }), 401, 'wrong_token_use');
    await expectRefused('eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ.opaque-refresh-part.more.parts.here', 401, 'malformed');
  });

  it('#15 refuses a same-pool token of another client with 403', async () => {
    await expectRefused(issuer.sign({ client_id: 'another-app' }), 403, 'wrong_client');
  });

  it('#19 refuses duplicate claims even when validly signed', async () => {
    const key = issuer.keys.rsa;
    const payload = `{"iss":"${issuer.issuer}","sub":"u1","client_id":"test-client","token_use":"access","exp":${now() + 600},"sub":"admin"}`;
    await expectRefused(issuer.signWith(key, { alg: 'RS256', kid: key.kid }, payload), 401, 'malformed');
    const header = `{"alg":"RS256","kid":"${key.kid}","alg":"none"}`;
    await expectRefused(issuer.signWith(key, header, claims()), 401, 'malformed');
  });

  it('#20 refuses oversized and malformed tokens before any crypto', async () => {
    const jwksBefore = issuer.counters.jwks;
    const key = issuer.keys.rsa;
    const good = issuer.sign().split('.') as [string, string, string];
    const oversized = `${b64({ alg: 'RS256', kid: key.kid, pad: 'x'.repeat(20_000) })}.${good[1]}.${good[2]}`;
    // Over HTTP, Node's own 16 KiB header cap answers 431 first; the authorizer refuses it on its own too.
    const reachedBefore = guarded.reached.count;
    const response = await fetch(guarded.url, { headers: { authorization: `Bearer ${oversized}` } });
    assert.ok([401, 431].includes(response.status), `oversized token status ${response.status}`);
    await response.arrayBuffer();
    assert.equal(guarded.reached.count, reachedBefore);
    await assert.rejects(authorizer.verify(oversized), { code: 'malformed', status: 401 });
    await assert.rejects(authorizer.verify(`${good[0]}.${b64(claims({ aud: Array.from({ length: 10_000 }, (_, index) => `aud-${index}`) }))}.${good[2]}`), { code: 'malformed' });
    const cases = [
      `${good[0]}.${good[1]}`,
      `${good[0]}.${good[1]}.${good[2]}.${good[2]}`,
      `${good[0]}=.${good[1]}.${good[2]}`,
      `${good[0]}.${Buffer.from([0xff, 0xfe, 0x7b, 0x7d]).toString('base64url')}.${good[2]}`,
      `${good[0]}.${b64([claims()])}.${good[2]}`,
      `${good[0]}.${b64('"just a string"')}.${good[2]}`,
    ];
    for (const token of cases) await expectRefused(token, 401, 'malformed');
    assert.equal(issuer.counters.jwks, jwksBefore, 'malformed tokens never reach the key store');
  });

  it('#20 drops __proto__ and constructor members instead of polluting prototypes', async () => {
    const key = issuer.keys.rsa;
    const payload = JSON.stringify(claims()).replace(/}$/, ',"__proto__":{"admin":true},"constructor":{"prototype":{"admin":true}}}');
    const principal = await authorizer.verify(issuer.signWith(key, { alg: 'RS256', kid: key.kid }, payload));
    assert.equal(Object.hasOwn(principal.claims, '__proto__'), false);
    assert.equal(Object.hasOwn(principal.claims, 'constructor'), false);
    assert.equal(({} as Record<string, unknown>).admin, undefined);
    assert.equal((principal.claims as Record<string, unknown>).admin, undefined);
  });

  it('#21 refuses crit in any form', async () => {
    await expectRefused(issuer.sign({}, { header: { crit: ['exp'] } }), 401, 'malformed');
    await expectRefused(issuer.sign({}, { header: { crit: ['b64'], b64: false } }), 401, 'malformed');
  });
});
