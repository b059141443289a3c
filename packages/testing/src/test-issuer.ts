import { createSign, generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A signing key of the test issuer; `kid` is what tokens name in their header. */
export interface TestKey {
  readonly kid: string;
  readonly alg: 'RS256' | 'ES256';
  readonly privateKey: KeyObject;
  readonly publicJwk: Record<string, unknown>;
}

export interface SignOptions {
  /** Defaults to the RSA key. */
  readonly key?: TestKey;
  /** Header members to add or override (alg, kid, typ, jku, …). */
  readonly header?: Record<string, unknown>;
  /** Leave out claims the issuer would otherwise add (iss, exp, iat, token_use, sub, client_id). */
  readonly omitDefaults?: boolean;
}

export interface TestIssuer {
  readonly issuer: string;
  readonly discoveryUrl: string;
  readonly jwksUrl: string;
  readonly keys: { readonly rsa: TestKey; readonly ec: TestKey };
  /** Counters of requests the issuer served; tests assert "no outbound request" with them. */
  readonly counters: { discovery: number; jwks: number };
  /** Signs a Cognito-style access token: defaults iss, sub, client_id 'test-client', token_use 'access', iat now, exp now+3600. */
  sign(claims?: Record<string, unknown>, options?: SignOptions): string;
  /** Signs exactly the given header and payload objects (or raw JSON strings) with a key, nothing added. */
  signWith(key: TestKey, header: Record<string, unknown> | string, payload: Record<string, unknown> | string): string;
  /** Generates and publishes a new key (rotation). */
  addKey(alg: 'RS256' | 'ES256', kid?: string): TestKey;
  /** Replaces the JWKS body served (poisoning tests); undefined restores the real one. */
  setJwks(body: unknown): void;
  /** Makes the JWKS endpoint answer 500 (or hang with 'hang') until set back to 'ok'. */
  setJwksMode(mode: 'ok' | 'fail' | 'hang'): void;
  close(): Promise<void>;
}

let kidCounter = 0;

function makeKey(alg: 'RS256' | 'ES256', kid?: string): TestKey {
  const pair = alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = pair.publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
  const id = kid ?? `${alg.toLowerCase()}-${process.pid}-${++kidCounter}`;
  return { kid: id, alg, privateKey: pair.privateKey, publicJwk: { ...jwk, kid: id, alg, use: 'sig' } };
}

const segment = (value: Record<string, unknown> | string): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A real OIDC issuer on 127.0.0.1:0 (discovery + JWKS) with keys generated at run time. */
export async function startTestIssuer(): Promise<TestIssuer> {
  const rsa = makeKey('RS256');
  const ec = makeKey('ES256');
  const published: TestKey[] = [rsa, ec];
  const counters = { discovery: 0, jwks: 0 };
  let override: unknown;
  let mode: 'ok' | 'fail' | 'hang' = 'ok';
  let base = '';
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    if (path === '/.well-known/openid-configuration') {
      counters.discovery++;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ issuer: base, jwks_uri: `${base}/.well-known/jwks.json`, id_token_signing_alg_values_supported: ['RS256'] }));
      return;
    }
    if (path === '/.well-known/jwks.json') {
      counters.jwks++;
      if (mode === 'hang') return;
      if (mode === 'fail') {
        response.writeHead(500).end();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(override ?? { keys: published.map((key) => key.publicJwk) }));
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  function signWith(key: TestKey, header: Record<string, unknown> | string, payload: Record<string, unknown> | string): string {
    const input = `${segment(header)}.${segment(payload)}`;
    const signature = key.alg === 'RS256'
      ? createSign('sha256').update(input).sign(key.privateKey)
      : cryptoSign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
    return `${input}.${signature.toString('base64url')}`;
  }

  return {
    issuer: base,
    discoveryUrl: `${base}/.well-known/openid-configuration`,
    jwksUrl: `${base}/.well-known/jwks.json`,
    keys: { rsa, ec },
    counters,
    sign(claims = {}, options = {}) {
      const key = options.key ?? rsa;
      const now = Math.floor(Date.now() / 1000);
      const defaults = options.omitDefaults ? {} : { iss: base, sub: 'user-1', client_id: 'test-client', token_use: 'access', scope: 'openid', iat: now, exp: now + 3600 };
      return signWith(key, { alg: key.alg, kid: key.kid, ...options.header }, { ...defaults, ...claims });
    },
    signWith,
    addKey(alg, kid) {
      const key = makeKey(alg, kid);
      published.push(key);
      return key;
    },
    setJwks(body) {
      override = body;
    },
    setJwksMode(next) {
      mode = next;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
