import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest, createServer, type Server, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readCredential, bearerFromWebSocketProtocols, AuthError, type Credential } from '../src/index.ts';

// Headers are taken from real requests parsed by node:http, so duplicate and spacing rules are what a server sees.
let server: Server;
let port = 0;
let seen: { headers: IncomingHttpHeaders; rawHeaders: string[]; url: string } | undefined;

before(async () => {
  server = createServer((request, response) => {
    seen = { headers: request.headers, rawHeaders: request.rawHeaders, url: request.url ?? '/' };
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function credentialOf(path: string, headers: Array<[string, string]>): Promise<Credential> {
  await new Promise<void>((resolve, reject) => {
    const client = httpRequest({ host: '127.0.0.1', port, path, method: 'GET', headers: [['Host', `127.0.0.1:${port}`], ...headers].flat() as unknown as Record<string, string> }, (response) => {
      response.resume();
      response.on('end', resolve);
    });
    client.on('error', reject);
    client.end();
  });
  const request = seen!;
  return readCredential(request.headers, new URL(request.url, 'http://x').searchParams, request.rawHeaders);
}

describe('readCredential', () => {
  it('reads one Bearer header, scheme case-insensitive', async () => {
    assert.deepEqual(await credentialOf('/', [['Authorization', 'Bearer abc.def.ghi']]), { kind: 'bearer', token: 'abc.def.ghi' });
    assert.deepEqual(await credentialOf('/', [['authorization', 'bEaReR abc.def.ghi']]), { kind: 'bearer', token: 'abc.def.ghi' });
  });

  it('recognises SigV4 header and presigned forms and no credential', async () => {
    assert.deepEqual(await credentialOf('/', [['Authorization', 'AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/bedrock-agentcore/aws4_request, SignedHeaders=host, Signature=00']]), { kind: 'sigv4' });
    assert.deepEqual(await credentialOf('/ws?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a&X-Amz-Signature=b', []), { kind: 'sigv4-presigned' });
    assert.deepEqual(await credentialOf('/', []), { kind: 'none' });
  });

  it('refuses two Authorization headers', async () => {
    await assert.rejects(credentialOf('/', [['Authorization', 'Bearer a.b.c'], ['Authorization', 'Bearer d.e.f']]), (error: unknown) => error instanceof AuthError && error.code === 'malformed' && /exactly one/.test(error.message));
  });

  it('refuses Basic, a double space, an empty bearer and a token in the query string', async () => {
    for (const value of ['Basic dXNlcjpwYXNz', 'Bearer  a.b.c', 'Bearer', 'Bearer a.b.c extra', 'Token a.b.c']) {
      await assert.rejects(credentialOf('/', [['Authorization', value]]), { code: 'malformed', status: 401 });
    }
    await assert.rejects(credentialOf('/?access_token=a.b.c', []), { code: 'malformed' });
  });
});

describe('bearerFromWebSocketProtocols', () => {
  const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln';
  const encoded = Buffer.from(jwt).toString('base64url');

  it('decodes the browser subprotocol form and echoes the bare marker', () => {
    assert.deepEqual(bearerFromWebSocketProtocols(`base64UrlBearerAuthorization.${encoded}, base64UrlBearerAuthorization`), { token: jwt, accepted: 'base64UrlBearerAuthorization' });
    assert.equal(bearerFromWebSocketProtocols('chat, superchat'), undefined);
    assert.equal(bearerFromWebSocketProtocols(undefined), undefined);
  });

  it('refuses over-long, padded or non-base64url encodings', () => {
    const long = Buffer.from(`${jwt}${'a'.repeat(4000)}`).toString('base64url');
    for (const header of [`base64UrlBearerAuthorization.${long}`, `base64UrlBearerAuthorization.${encoded}==`, 'base64UrlBearerAuthorization.a+b/c', 'base64UrlBearerAuthorization.', `base64UrlBearerAuthorization.${encoded}, base64UrlBearerAuthorization.${encoded}`]) {
      assert.throws(() => bearerFromWebSocketProtocols(header), { code: 'malformed' });
    }
  });
});
