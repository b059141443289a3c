import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, createPublicKey, createSign, generateKeyPairSync, randomBytes } from 'node:crypto';
import { startTestIssuer, type TestIssuer } from '@gatehouse/testing/test-issuer';
import { SESSION, sessionId, startHarness, type Harness } from './support/runtime-harness.ts';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('security: forged and misdirected credentials never reach the agent', () => {
  let harness: Harness;
  let otherIssuer: TestIssuer;
  let now: number;
  const claims = () => ({ sub: 'judy', scope: 'agent/invoke openid' });

  /** Sends the token; asserts status, error type, message pattern, and that the agent saw nothing. */
  async function refused(token: string | undefined, status: number, type: string, message: RegExp, runtime = 'secure'): Promise<Response> {
    const before = (await harness.records()).length;
    const response = await fetch(harness.url(runtime), {
      method: 'POST',
      headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), [SESSION]: sessionId('attack') },
      body: '{"prompt":"attack"}',
    });
    assert.equal(response.status, status);
    assert.equal(response.headers.get('x-amzn-errortype'), type);
    const body = (await response.json()) as { message: string };
    assert.match(body.message, message);
    assert.equal((await harness.records()).length, before, 'the agent received nothing');
    return response;
  }

  before(async () => {
    otherIssuer = await startTestIssuer();
    harness = await startHarness({
      runtimes: [
        { agentRuntimeName: 'secure', authorizer: { allowedScopes: ['agent/invoke'] }, limits: { warmPoolSize: 0, requestsPerMinutePerPrincipal: 10_000 } },
        { agentRuntimeName: 'audience', authorizer: { allowedClients: undefined, allowedAudience: ['https://api.example/agent'] }, limits: { warmPoolSize: 0 } },
      ],
    });
    now = Math.floor(Date.now() / 1000);
    const ok = await fetch(harness.url('secure'), { method: 'POST', headers: { authorization: `Bearer ${harness.issuer.sign(claims())}` }, body: '{}' });
    assert.equal(ok.status, 200, 'a valid token works, so every refusal below is about the attack');
    await ok.arrayBuffer();
  });
  after(async () => {
    await harness.close();
    await otherIssuer.close();
  });

  test('no token: 401 UnauthorizedException with WWW-Authenticate: Bearer naming the runtime’s RFC 9728 metadata', async () => {
    const response = await refused(undefined, 401, 'UnauthorizedException', /Missing bearer token/);
    assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer resource_metadata="http:\/\/127\.0\.0\.1:\d+\/runtimes\/arn%3Aaws%3Abedrock-agentcore%3A[^"]+\/invocations\/\.well-known\/oauth-protected-resource"$/);
  });

  test('forged claims under the old signature', async () => {
    const [header, , signature] = harness.issuer.sign(claims()).split('.');
    await refused(`${header}.${b64({ ...claims(), sub: 'admin', iss: harness.issuer.issuer, client_id: 'test-client', token_use: 'access', exp: now + 3600 })}.${signature}`, 403, 'AccessDeniedException', /signature/);
  });

  test('forged claims under the signature of a token already verified and cached', async () => {
    const genuine = harness.issuer.sign(claims());
    const ok = await fetch(harness.url('secure'), { method: 'POST', headers: { authorization: `Bearer ${genuine}`, [SESSION]: sessionId('cached') }, body: '{}' });
    assert.equal(ok.status, 200, 'the genuine token is verified and now cached');
    await ok.arrayBuffer();
    const [header, , signature] = genuine.split('.');
    await refused(`${header}.${b64({ ...claims(), sub: 'admin', iss: harness.issuer.issuer, client_id: 'test-client', token_use: 'access', exp: now + 3600 })}.${signature}`, 403, 'AccessDeniedException', /signature/);
  });

  test('expired token', async () => {
    await refused(harness.issuer.sign({ ...claims(), iat: now - 7200, exp: now - 3600 }), 403, 'AccessDeniedException', /expired/);
  });

  test('token not valid yet', async () => {
    await refused(harness.issuer.sign({ ...claims(), nbf: now + 3600 }), 403, 'AccessDeniedException', /not valid yet/);
  });

  test('wrong issuer: another issuer’s valid token, and our key with a foreign iss', async () => {
    await refused(otherIssuer.sign(claims()), 403, 'AccessDeniedException', /kid/);
    await refused(harness.issuer.sign({ ...claims(), iss: 'https://evil.example' }), 403, 'AccessDeniedException', /'iss'/);
  });

  test('wrong client', async () => {
    await refused(harness.issuer.sign({ ...claims(), client_id: 'someone-else' }), 403, 'AccessDeniedException', /'client_id' mismatch/);
  });

  test('wrong audience', async () => {
    await refused(harness.issuer.sign({ ...claims(), aud: 'https://other.example' }), 403, 'AccessDeniedException', /'aud' mismatch/, 'audience');
  });

  test('missing scope', async () => {
    await refused(harness.issuer.sign({ ...claims(), scope: 'aws.cognito.signin.user.admin' }), 403, 'AccessDeniedException', /scope/);
  });

  test('an ID token instead of an access token', async () => {
    await refused(harness.issuer.sign({ ...claims(), token_use: 'id', aud: 'test-client', client_id: undefined }), 403, 'AccessDeniedException', /access token/);
  });

  test('alg none', async () => {
    for (const alg of ['none', 'None', 'NONE']) {
      await refused(`${b64({ alg, kid: harness.issuer.keys.rsa.kid })}.${b64({ ...claims(), iss: harness.issuer.issuer, client_id: 'test-client', token_use: 'access', exp: now + 3600 })}.`, 403, 'AccessDeniedException', /./);
    }
  });

  test('RS256 → HS256 key confusion with the public key as HMAC secret', async () => {
    const pem = createPublicKey(harness.issuer.keys.rsa.privateKey).export({ format: 'pem', type: 'spki' });
    const input = `${b64({ alg: 'HS256', kid: harness.issuer.keys.rsa.kid })}.${b64({ ...claims(), iss: harness.issuer.issuer, client_id: 'test-client', token_use: 'access', exp: now + 3600 })}`;
    await refused(`${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`, 403, 'AccessDeniedException', /alg/);
  });

  test('embedded jwk naming the attacker’s own key', async () => {
    const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = attacker.publicKey.export({ format: 'jwk' });
    const input = `${b64({ alg: 'RS256', kid: harness.issuer.keys.rsa.kid, jwk })}.${b64({ ...claims(), iss: harness.issuer.issuer, client_id: 'test-client', token_use: 'access', exp: now + 3600 })}`;
    const signature = createSign('sha256').update(input).sign(attacker.privateKey).toString('base64url');
    await refused(`${input}.${signature}`, 403, 'AccessDeniedException', /jwk/);
  });

  test('an unknown-kid flood is refused fast and costs at most one JWKS reload', async () => {
    const before = harness.issuer.counters.jwks;
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 40 }, () =>
        fetch(harness.url('secure'), {
          method: 'POST',
          headers: { authorization: `Bearer ${harness.issuer.sign(claims(), { header: { kid: randomBytes(8).toString('hex') } })}` },
          body: '{}',
        }).then(async (response) => {
          await response.arrayBuffer();
          return response.status;
        }),
      ),
    );
    assert.deepEqual(new Set(results), new Set([403]));
    assert.ok(harness.issuer.counters.jwks - before <= 1, `JWKS fetched ${harness.issuer.counters.jwks - before} times`);
    assert.ok(Date.now() - started < 10_000);
    const valid = await fetch(harness.url('secure'), { method: 'POST', headers: { authorization: `Bearer ${harness.issuer.sign(claims())}` }, body: '{}' });
    assert.equal(valid.status, 200, 'valid tokens are unaffected');
    await valid.arrayBuffer();
  });

  test('another user’s session id', async () => {
    const id = sessionId('victim');
    const own = await fetch(harness.url('secure'), { method: 'POST', headers: { authorization: `Bearer ${harness.issuer.sign(claims())}`, [SESSION]: id }, body: '{}' });
    assert.equal(own.status, 200);
    await own.arrayBuffer();
    const before = (await harness.records()).length;
    const response = await fetch(harness.url('secure'), { method: 'POST', headers: { authorization: `Bearer ${harness.issuer.sign({ ...claims(), sub: 'mallory' })}`, [SESSION]: id }, body: '{}' });
    assert.equal(response.status, 403);
    assert.equal(response.headers.get('x-amzn-errortype'), 'AccessDeniedException');
    assert.equal((await harness.records()).length, before);
  });

  test('CORS never grants a wildcard and refuses preflights from unknown origins', async () => {
    const preflight = (origin: string) =>
      fetch(harness.url('secure'), {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, x-amzn-bedrock-agentcore-runtime-session-id' },
      });
    const foreign = await preflight('https://evil.example');
    assert.equal(foreign.status, 403);
    assert.equal(foreign.headers.get('access-control-allow-origin'), null);
    const own = await preflight(harness.baseUrl);
    assert.equal(own.status, 204);
    assert.equal(own.headers.get('access-control-allow-origin'), harness.baseUrl);
    assert.match(own.headers.get('access-control-allow-headers')!, /authorization/);
    assert.match(own.headers.get('access-control-allow-headers')!, /x-amzn-bedrock-agentcore-runtime-session-id/);
    // The protocol headers the runtime forwards (MCP, A2A) may be sent from a browser too.
    for (const header of ['mcp-protocol-version', 'mcp-session-id', 'a2a-version']) assert.match(own.headers.get('access-control-allow-headers')!, new RegExp(header));
  });
});
