// The one token-endpoint client (runtime token exchange, gateway client credentials and token exchange), against
// real token endpoints on 127.0.0.1: what the server receives, and every way it can fail, each as one typed kind
// whose message never carries the client secret or a token.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { requestToken, TokenCache, TokenRequestError, type TokenRequest } from '../src/index.ts';

const CLIENT_ID = 'svc client:ü+/%';
const CLIENT_SECRET = 's3cr3t: p@ss+w/o%rd&ü=';
const SUBJECT = 'eyJ.subject-token.sig';

interface Received {
  readonly path: string;
  readonly authorization: string | undefined;
  readonly contentType: string | undefined;
  readonly accept: string | undefined;
  readonly form: Record<string, string>;
}

type Handler = (response: ServerResponse, received: Received) => void;

/** A token endpoint whose answer each test sets; it records what it was sent. */
let handler: Handler;
let received: Received[] = [];
let server: Server;
let endpoint = '';
const sockets = new Set<Socket>();

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => resolve(text)).on('error', reject);
  });
}

/** RFC 6749 §2.3.1: the id and secret are form-encoded before Basic; decoded here as an identity does. */
function decodeBasic(header: string | undefined): { id: string; secret: string } | undefined {
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const formDecode = (value: string) => decodeURIComponent(value.replace(/\+/g, ' '));
  return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
}

const json = (status: number, body: unknown, type = 'application/json') => (response: ServerResponse) => response.writeHead(status, { 'content-type': type }).end(JSON.stringify(body));

before(async () => {
  server = createServer((request, response) => {
    void readBody(request).then((body) => {
      const record: Received = {
        path: request.url ?? '',
        authorization: request.headers.authorization,
        contentType: request.headers['content-type'],
        accept: request.headers.accept,
        form: Object.fromEntries(new URLSearchParams(body)),
      };
      received.push(record);
      handler(response, record);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth2/token`;
});
after(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

const exchange = (overrides: Partial<TokenRequest> = {}): TokenRequest => ({
  tokenEndpoint: endpoint,
  clientId: CLIENT_ID,
  clientSecret: CLIENT_SECRET,
  grantType: 'urn:ietf:params:oauth:grant-type:token-exchange',
  parameters: { subject_token: SUBJECT, subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', audience: 'https://gateway.example/mcp' },
  timeoutMs: 2000,
  ...overrides,
});

/** Runs the request, expects a TokenRequestError, and checks no credential is in what a caller could show. */
async function failure(request: TokenRequest): Promise<TokenRequestError> {
  const error = await requestToken(request).then(
    () => assert.fail('the request should have failed'),
    (thrown: unknown) => thrown,
  );
  assert.ok(error instanceof TokenRequestError, `a TokenRequestError, not ${String(error)}`);
  for (const text of [error.message, error.reason, String(error), JSON.stringify(error)]) {
    for (const secret of [CLIENT_SECRET, encodeURIComponent(CLIENT_SECRET), SUBJECT, 'issued-token']) assert.ok(!text.includes(secret), `no credential in: ${text}`);
  }
  return error;
}

describe('requestToken', () => {
  it('authenticates with client_secret_basic (form-encoded id and secret survive special characters) and returns the token', async () => {
    received = [];
    handler = json(200, { access_token: 'issued-token', token_type: 'Bearer', expires_in: 900, issued_token_type: 'urn:ietf:params:oauth:token-type:access_token' });
    const issued = await requestToken(exchange());
    assert.deepEqual(issued, { accessToken: 'issued-token', expiresIn: 900 });
    assert.equal(received.length, 1);
    const [sent] = received;
    assert.equal(sent!.path, '/oauth2/token');
    assert.deepEqual(decodeBasic(sent!.authorization), { id: CLIENT_ID, secret: CLIENT_SECRET });
    assert.match(sent!.contentType ?? '', /^application\/x-www-form-urlencoded/);
    assert.equal(sent!.accept, 'application/json');
    assert.deepEqual(sent!.form, {
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: SUBJECT,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      audience: 'https://gateway.example/mcp',
    }, 'exactly the grant: no client_secret or client_id in the body');
  });

  it('client_credentials with a scope; no expires_in is undefined (the caller picks its default)', async () => {
    received = [];
    handler = json(200, { access_token: 'issued-token', token_type: 'bearer' });
    assert.deepEqual(await requestToken(exchange({ grantType: 'client_credentials', parameters: { scope: 'a b' } })), { accessToken: 'issued-token', expiresIn: undefined });
    assert.deepEqual(received[0]!.form, { grant_type: 'client_credentials', scope: 'a b' });
  });

  it('an OAuth error body is refused with its error, description and status', async () => {
    handler = json(400, { error: 'invalid_grant', error_description: 'subject_token is expired or revoked' });
    const error = await failure(exchange());
    assert.equal(error.kind, 'refused');
    assert.equal(error.status, 400);
    assert.equal(error.error, 'invalid_grant');
    assert.equal(error.errorDescription, 'subject_token is expired or revoked');
    assert.equal(error.reason, 'invalid_grant: subject_token is expired or revoked');
  });

  it('a 401 invalid_client with WWW-Authenticate still yields the OAuth error of its body', async () => {
    handler = (response) => response.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Basic realm="gatehouse"' }).end('{"error":"invalid_client","error_description":"Client authentication failed"}');
    const error = await failure(exchange());
    assert.deepEqual([error.kind, error.status, error.error], ['refused', 401, 'invalid_client']);
  });

  it('a 5xx without an OAuth body and a non-JSON error page are refusals with their status and no error code', async () => {
    handler = (response) => response.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad Gateway</h1>');
    const bad = await failure(exchange());
    assert.deepEqual([bad.kind, bad.status, bad.error, bad.reason], ['refused', 502, undefined, 'HTTP 502']);
    handler = json(503, { message: 'down' });
    const down = await failure(exchange());
    assert.deepEqual([down.kind, down.status, down.error], ['refused', 503, undefined]);
  });

  it('a 200 that is not a token response is malformed: not JSON, no access_token, no or an unknown token_type, a bad expires_in', async () => {
    const answers: Handler[] = [
      (response) => response.writeHead(200, { 'content-type': 'text/plain' }).end('access_token=issued-token'),
      json(200, { token_type: 'Bearer', expires_in: 60 }),
      json(200, { access_token: 'issued-token', expires_in: 60 }),
      json(200, { access_token: 'issued-token', token_type: 'mac' }),
      json(200, { access_token: 'issued-token', token_type: 'DPoP' }),
      json(200, { access_token: 'issued-token', token_type: 'Bearer', expires_in: -5 }),
      json(200, ['issued-token']),
    ];
    for (const answer of answers) {
      handler = answer;
      const error = await failure(exchange());
      assert.deepEqual([error.kind, error.status], ['malformed', 200], error.message);
    }
  });

  it('connection refused is unreachable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await failure(exchange({ tokenEndpoint: `http://127.0.0.1:${port}/oauth2/token` }));
    assert.equal(error.kind, 'unreachable');
    assert.equal(error.status, undefined);
  });

  it('a server that never answers, or stops mid-body, is unreachable within the timeout', async () => {
    handler = () => undefined;
    let started = Date.now();
    const silent = await failure(exchange({ timeoutMs: 300 }));
    assert.equal(silent.kind, 'unreachable');
    assert.ok(Date.now() - started < 2000, `gave up after ${Date.now() - started} ms`);
    handler = (response) => response.writeHead(200, { 'content-type': 'application/json' }).write('{"access_token":"issued-');
    started = Date.now();
    const stalled = await failure(exchange({ timeoutMs: 300 }));
    assert.equal(stalled.kind, 'unreachable');
    assert.ok(Date.now() - started < 2000);
  });

  it('plain http is sent to loopback only; other endpoints must be https, and nothing is sent', async () => {
    received = [];
    for (const tokenEndpoint of ['http://identity.example/oauth2/token', 'ftp://127.0.0.1/token', 'not a url']) {
      const error = await failure(exchange({ tokenEndpoint }));
      assert.equal(error.kind, 'insecure_endpoint', tokenEndpoint);
    }
    assert.equal(received.length, 0);
  });
});

describe('TokenCache', () => {
  let now = 1_000_000;
  const clock = () => now;

  it('hands a token out until the margin before its expiry, then loads again', async () => {
    const cache = new TokenCache<string>({ now: clock, marginMs: 30_000 });
    let loads = 0;
    const load = async () => ({ value: `t${++loads}`, expiresAtMs: now + 300_000 });
    assert.equal(await cache.get('k', load), 't1');
    now += 269_000;
    assert.equal(await cache.get('k', load), 't1', 'still 31 s before expiry');
    now += 1_000;
    assert.equal(await cache.get('k', load), 't2', 'at the margin: loaded again');
  });

  it('never hands a token out at or past its cap, and does not keep one already unusable', async () => {
    const cache = new TokenCache<string>({ now: clock, marginMs: 30_000 });
    let loads = 0;
    const capped = async () => ({ value: `c${++loads}`, expiresAtMs: now + 3_600_000, capAtMs: now + 10_000 });
    assert.equal(await cache.get('k', capped), 'c1');
    now += 9_999;
    assert.equal(await cache.get('k', capped), 'c1');
    now += 1;
    assert.equal(await cache.get('k', capped), 'c2', 'the cap is a hard bound');
    const expired = async () => ({ value: `e${++loads}`, expiresAtMs: now + 20_000 });
    assert.equal(await cache.get('short', expired), 'e3');
    assert.equal(await cache.get('short', expired), 'e4', 'a token inside the margin is returned but not kept');
  });

  it('concurrent requests for one key share one load; a failed load is shared, not cached', async () => {
    const cache = new TokenCache<string>({ now: clock, marginMs: 0 });
    let loads = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = async () => {
      loads++;
      await gate;
      return { value: 'shared', expiresAtMs: now + 60_000 };
    };
    const all = Promise.all([cache.get('k', slow), cache.get('k', slow), cache.get('k', slow)]);
    release();
    assert.deepEqual(await all, ['shared', 'shared', 'shared']);
    assert.equal(loads, 1);
    let fails = 0;
    const failing = async () => {
      fails++;
      throw new Error('down');
    };
    const results = await Promise.allSettled([cache.get('f', failing), cache.get('f', failing)]);
    assert.deepEqual(results.map((result) => result.status), ['rejected', 'rejected']);
    assert.equal(fails, 1);
    await assert.rejects(cache.get('f', failing));
    assert.equal(fails, 2, 'the next request tries again');
  });

  it('keeps at most maxEntries, dropping the oldest', async () => {
    const cache = new TokenCache<string>({ now: clock, marginMs: 0, maxEntries: 3 });
    let loads = 0;
    const load = (name: string) => async () => ({ value: `${name}${++loads}`, expiresAtMs: now + 60_000 });
    for (const key of ['a', 'b', 'c', 'd']) await cache.get(key, load(key));
    assert.equal(cache.size, 3);
    assert.equal(await cache.get('d', load('d')), 'd4', 'the newest is kept');
    assert.equal(await cache.get('a', load('a')), 'a5', 'the oldest was dropped and is loaded again');
  });
});
