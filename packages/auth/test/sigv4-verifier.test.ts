import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BedrockAgentCoreClient, InvokeAgentRuntimeCommand } from '@aws-sdk/client-bedrock-agentcore';
import { CognitoIdentityProviderClient, AdminGetUserCommand } from '@aws-sdk/client-cognito-identity-provider';
import { SignatureV4 } from '@smithy/signature-v4';
import { readBody } from '@gatehouse/core';
import { createSigV4Verifier, AuthError, type SigV4Key, type SigV4Verifier, type Principal } from '../src/index.ts';
import { NodeSha256 } from '../src/node-sha256.ts';

const REGION = 'us-east-1';
const keys = new Map<string, SigV4Key>([
  ['AKIDLONGTERM0001', { secretAccessKey: 'long-term-secret-0001', principal: { subject: 'ops', arn: 'arn:aws:iam::123456789012:user/ops', permissions: ['bedrock-agentcore:InvokeAgentRuntime'] } }],
  ['ASIATEMPORARY001', { secretAccessKey: 'temporary-secret-01', sessionToken: 'session-token-01', expiresAt: Math.floor(Date.now() / 1000) + 3600, principal: { subject: 'temp', arn: 'arn:aws:sts::123456789012:assumed-role/r/s', permissions: ['cognito-idp:*'] } }],
  ['ASIAEXPIRED00001', { secretAccessKey: 'expired-secret-01', sessionToken: 'session-token-02', expiresAt: Math.floor(Date.now() / 1000) - 10, principal: { subject: 'old', arn: 'arn:aws:sts::123456789012:assumed-role/r/old', permissions: [] } }],
]);
const lookupKey = async (id: string): Promise<SigV4Key | undefined> => keys.get(id);
const longTerm = { accessKeyId: 'AKIDLONGTERM0001', secretAccessKey: 'long-term-secret-0001' };

interface Outcome { readonly principal?: Principal; readonly error?: AuthError; readonly reached: boolean }

/** A real server that verifies every request before its protected handler; records each outcome. */
async function startVerifyingServer(verifier: SigV4Verifier, mode: 'header' | 'presigned', respond: (request: IncomingMessage) => [number, string, string]): Promise<{ url: string; outcomes: Outcome[]; server: Server }> {
  const outcomes: Outcome[] = [];
  const server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request, 1024 * 1024);
      try {
        const input = { method: request.method ?? 'GET', rawPath: request.url ?? '/', headers: request.headers, body };
        const principal = mode === 'header' ? await verifier.verify(input) : await verifier.verifyPresigned(input);
        outcomes.push({ principal, reached: true });
        const [status, type, text] = respond(request);
        response.writeHead(status, { 'content-type': type }).end(text);
      } catch (error) {
        if (!(error instanceof AuthError)) throw error;
        outcomes.push({ error, reached: false });
        response.writeHead(error.status, { 'content-type': 'application/json', 'x-amzn-errortype': 'AccessDeniedException' }).end(JSON.stringify({ message: error.message }));
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, outcomes, server };
}

function send(url: string, options: { method: string; path: string; headers: Record<string, string>; body?: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const client = httpRequest({ host: target.hostname, port: target.port, method: options.method, path: options.path, headers: options.headers }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    client.on('error', reject);
    client.end(options.body);
  });
}

const servers: Server[] = [];
after(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

describe('SigV4 verifier with the real AWS SDK v3 clients', () => {
  let agentcore: Awaited<ReturnType<typeof startVerifyingServer>>;
  let cognito: Awaited<ReturnType<typeof startVerifyingServer>>;
  const arn = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/my_agent-abc123';

  before(async () => {
    agentcore = await startVerifyingServer(createSigV4Verifier({ service: 'bedrock-agentcore', region: REGION, lookupKey }), 'header', () => [200, 'application/json', '{"ok":true}']);
    cognito = await startVerifyingServer(createSigV4Verifier({ service: 'cognito-idp', region: REGION, lookupKey }), 'header', () => [200, 'application/x-amz-json-1.1', '{"Username":"alice","UserAttributes":[]}']);
    servers.push(agentcore.server, cognito.server);
  });

  it('verifies InvokeAgentRuntime, whose path holds a URL-encoded ARN signed double-encoded', async () => {
    const client = new BedrockAgentCoreClient({ region: REGION, endpoint: agentcore.url, credentials: longTerm, maxAttempts: 1 });
    const output = await client.send(new InvokeAgentRuntimeCommand({ agentRuntimeArn: arn, qualifier: 'DEFAULT', runtimeSessionId: 'session-0123456789-0123456789-0123456789', payload: new TextEncoder().encode('{"prompt":"hi there"}') }));
    assert.equal(output.$metadata.httpStatusCode, 200);
    const outcome = agentcore.outcomes.at(-1)!;
    assert.equal(outcome.error, undefined);
    assert.deepEqual(outcome.principal, { method: 'sigv4', subject: 'ops', accessKeyId: 'AKIDLONGTERM0001', arn: 'arn:aws:iam::123456789012:user/ops', permissions: ['bedrock-agentcore:InvokeAgentRuntime'], scopes: [], groups: [], claims: {} });
    client.destroy();
  });

  it('verifies AdminGetUser signed with temporary credentials and their session token', async () => {
    const client = new CognitoIdentityProviderClient({ region: REGION, endpoint: cognito.url, credentials: { accessKeyId: 'ASIATEMPORARY001', secretAccessKey: 'temporary-secret-01', sessionToken: 'session-token-01' }, maxAttempts: 1 });
    const output = await client.send(new AdminGetUserCommand({ UserPoolId: 'us-east-1_abcdef', Username: 'alice' }));
    assert.equal(output.Username, 'alice');
    assert.equal(cognito.outcomes.at(-1)!.principal?.subject, 'temp');
    client.destroy();
  });

  it('refuses a wrong secret, an unknown key, an expired key and a missing session token; the handler runs for none', async () => {
    const cases: Array<[{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }, string]> = [
      [{ accessKeyId: 'AKIDLONGTERM0001', secretAccessKey: 'wrong-secret' }, 'signature_mismatch'],
      [{ accessKeyId: 'AKIDUNKNOWN00001', secretAccessKey: 'whatever' }, 'unknown_access_key'],
      [{ accessKeyId: 'ASIAEXPIRED00001', secretAccessKey: 'expired-secret-01', sessionToken: 'session-token-02' }, 'expired_credentials'],
      [{ accessKeyId: 'ASIATEMPORARY001', secretAccessKey: 'temporary-secret-01' }, 'unknown_access_key'],
      [{ accessKeyId: 'ASIATEMPORARY001', secretAccessKey: 'temporary-secret-01', sessionToken: 'forged-token' }, 'unknown_access_key'],
    ];
    for (const [credentials, code] of cases) {
      const before = cognito.outcomes.length;
      const client = new CognitoIdentityProviderClient({ region: REGION, endpoint: cognito.url, credentials, maxAttempts: 1 });
      await assert.rejects(client.send(new AdminGetUserCommand({ UserPoolId: 'us-east-1_abcdef', Username: 'alice' })));
      client.destroy();
      const outcomes = cognito.outcomes.slice(before);
      assert.equal(outcomes.length, 1);
      assert.equal(outcomes[0]!.error?.code, code);
      assert.equal(outcomes[0]!.reached, false);
    }
  });

  it('refuses a request signed for another service or region', async () => {
    const client = new BedrockAgentCoreClient({ region: 'eu-west-1', endpoint: agentcore.url, credentials: longTerm, maxAttempts: 1 });
    const before = agentcore.outcomes.length;
    await assert.rejects(client.send(new InvokeAgentRuntimeCommand({ agentRuntimeArn: arn, payload: new TextEncoder().encode('{}') })));
    assert.equal(agentcore.outcomes[before]!.error?.code, 'wrong_region');
    assert.match(agentcore.outcomes[before]!.error!.message, /signed for region 'eu-west-1', but this server signs for 'us-east-1'/);
    client.destroy();
    const wrongService = await startVerifyingServer(createSigV4Verifier({ service: 'cognito-idp', region: REGION, lookupKey }), 'header', () => [200, 'application/json', '{}']);
    servers.push(wrongService.server);
    const other = new BedrockAgentCoreClient({ region: REGION, endpoint: wrongService.url, credentials: longTerm, maxAttempts: 1 });
    await assert.rejects(other.send(new InvokeAgentRuntimeCommand({ agentRuntimeArn: arn, payload: new TextEncoder().encode('{}') })));
    assert.match(wrongService.outcomes[0]!.error!.message, /service must be 'cognito-idp'/);
    other.destroy();
  });
});

describe('SigV4 verifier: tampering, time and parsing', () => {
  const now = Date.now();
  let target: Awaited<ReturnType<typeof startVerifyingServer>>;
  const signer = new SignatureV4({ credentials: longTerm, region: REGION, service: 'bedrock-agentcore', sha256: NodeSha256 });

  before(async () => {
    target = await startVerifyingServer(createSigV4Verifier({ service: 'bedrock-agentcore', region: REGION, lookupKey, clock: () => now }), 'header', () => [200, 'application/json', '{}']);
    servers.push(target.server);
  });

  async function signed(body: string, signingDate = new Date(now), extraHeaders: Record<string, string> = {}) {
    const host = new URL(target.url).host;
    return signer.sign({ method: 'POST', protocol: 'http:', hostname: '127.0.0.1', path: '/runtimes/arn%3Aaws%3Abedrock-agentcore%3Aus-east-1%3A1%3Aruntime%2Fa/invocations', query: { qualifier: 'DEFAULT' }, headers: { host, 'content-type': 'application/json', ...extraHeaders }, body }, { signingDate });
  }

  async function sendSigned(request: Awaited<ReturnType<typeof signed>>, body: string, headerChanges: Record<string, string> = {}): Promise<Outcome> {
    const before = target.outcomes.length;
    await send(target.url, { method: 'POST', path: `${request.path}?qualifier=DEFAULT`, headers: { ...request.headers, ...headerChanges } as Record<string, string>, body });
    return target.outcomes[before]!;
  }

  it('accepts a correctly signed body (control)', async () => {
    const outcome = await sendSigned(await signed('{"prompt":"a"}'), '{"prompt":"a"}');
    assert.equal(outcome.principal?.subject, 'ops');
  });

  it('refuses a body changed after signing', async () => {
    const outcome = await sendSigned(await signed('{"prompt":"a"}'), '{"prompt":"b"}');
    assert.deepEqual([outcome.error?.code, outcome.reached], ['signature_mismatch', false]);
  });

  it('refuses a changed query string and a changed signed header', async () => {
    const request = await signed('{}');
    const before = target.outcomes.length;
    await send(target.url, { method: 'POST', path: `${request.path}?qualifier=PROD`, headers: request.headers as Record<string, string>, body: '{}' });
    assert.equal(target.outcomes[before]!.error?.code, 'signature_mismatch');
    const changed = await sendSigned(request, '{}', { 'content-type': 'text/plain' });
    assert.equal(changed.error?.code, 'signature_mismatch');
  });

  it('refuses a timestamp more than 5 minutes away and accepts one within', async () => {
    const within = await sendSigned(await signed('{}', new Date(now - 290_000)), '{}');
    assert.equal(within.principal?.subject, 'ops');
    for (const offset of [-301_000, 301_000]) {
      const outcome = await sendSigned(await signed('{}', new Date(now + offset)), '{}');
      assert.deepEqual([outcome.error?.code, outcome.error?.status], ['clock_skew', 403]);
    }
  });

  it('refuses UNSIGNED-PAYLOAD outside S3 and a malformed Authorization header', async () => {
    const unsigned = await sendSigned(await signed('{}', new Date(now), { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }), '{}');
    assert.equal(unsigned.error?.code, 'malformed');
    const request = await signed('{}');
    const authorization = String(request.headers.authorization);
    for (const bad of [authorization.replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA512'), authorization.replace(/Signature=[0-9a-f]+/, 'Signature=00'), authorization.replace('SignedHeaders=', 'SignedHeaders=zzz;'), authorization.replace(/SignedHeaders=[^,]+/, 'SignedHeaders=content-type;host')]) {
      const outcome = await sendSigned(request, '{}', { authorization: bad });
      assert.equal(outcome.error?.code, 'malformed', bad);
      assert.equal(outcome.reached, false);
    }
  });
});

describe('SigV4 presigned URLs (WebSocket upgrades)', () => {
  let now = Date.now();
  let target: Awaited<ReturnType<typeof startVerifyingServer>>;
  const wsPath = '/runtimes/arn%3Aaws%3Abedrock-agentcore%3Aus-east-1%3A123456789012%3Aruntime%2Fmy_agent-abc123/ws';

  before(async () => {
    target = await startVerifyingServer(createSigV4Verifier({ service: 'bedrock-agentcore', region: REGION, lookupKey, clock: () => now }), 'presigned', () => [200, 'text/plain', 'ok']);
    servers.push(target.server);
  });

  async function presign(options: { expiresIn?: number; credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }; botocoreStyle?: boolean; signingDate?: Date } = {}): Promise<string> {
    const host = new URL(target.url).host;
    const signer = new SignatureV4({ credentials: options.credentials ?? longTerm, region: REGION, service: 'bedrock-agentcore', sha256: NodeSha256 });
    const headers: Record<string, string> = { host };
    if (options.botocoreStyle) headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
    const presigned = await signer.presign(
      { method: 'GET', protocol: 'http:', hostname: '127.0.0.1', path: wsPath, query: { qualifier: 'DEFAULT', 'X-Amzn-Bedrock-AgentCore-Runtime-Session-Id': 'session-0123456789-0123456789-0123456789' }, headers },
      { expiresIn: options.expiresIn ?? 300, signingDate: options.signingDate ?? new Date(now), ...(options.botocoreStyle ? { unsignableHeaders: new Set(['x-amz-content-sha256']), unhoistableHeaders: new Set(['x-amz-content-sha256']) } : {}) },
    );
    const query = Object.entries(presigned.query ?? {}).map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`).join('&');
    return `${wsPath}?${query}`;
  }

  async function get(path: string): Promise<Outcome> {
    const before = target.outcomes.length;
    await send(target.url, { method: 'GET', path, headers: {} });
    return target.outcomes[before]!;
  }

  it('accepts a URL presigned by the SDK signer and one presigned botocore-style (UNSIGNED-PAYLOAD)', async () => {
    assert.equal((await get(await presign())).principal?.subject, 'ops');
    assert.equal((await get(await presign({ botocoreStyle: true }))).principal?.subject, 'ops');
    const temporary = await get(await presign({ credentials: { accessKeyId: 'ASIATEMPORARY001', secretAccessKey: 'temporary-secret-01', sessionToken: 'session-token-01' } }));
    assert.equal(temporary.principal?.subject, 'temp');
  });

  it('refuses an expired URL, an expiry over the maximum and a tampered session id', async () => {
    const url = await presign({ expiresIn: 60 });
    now += 61_000;
    assert.equal((await get(url)).error?.code, 'expired');
    now -= 61_000;
    assert.equal((await get(await presign({ expiresIn: 3601 }))).error?.code, 'malformed');
    const tampered = (await presign()).replace('session-0123456789', 'session-9999999999');
    const outcome = await get(tampered);
    assert.deepEqual([outcome.error?.code, outcome.reached], ['signature_mismatch', false]);
  });

  it('refuses a URL dated in the future and one with a wrong secret', async () => {
    assert.equal((await get(await presign({ signingDate: new Date(now + 600_000) }))).error?.code, 'clock_skew');
    assert.equal((await get(await presign({ credentials: { accessKeyId: 'AKIDLONGTERM0001', secretAccessKey: 'nope' } }))).error?.code, 'signature_mismatch');
  });
});
