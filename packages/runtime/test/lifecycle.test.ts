import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { closeServer, listen, parseForm, readBody } from '@gatehouse/core';
import { startTestIssuer, type TestIssuer } from '@gatehouse/testing/test-issuer';
import type { RuntimeService } from '../src/index.ts';
import type { RuntimeInternals } from '../src/create-runtime.ts';
import { ECHO_AGENT, SESSION, sessionId, startHarness, type Harness } from './support/runtime-harness.ts';

const fingerprint = (token: string) => `sha256:${createHash('sha256').update(token).digest('hex').slice(0, 16)}`;
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const waitFor = async (check: () => boolean | Promise<boolean>, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return false;
};

describe('sessions, lifecycle and limits', () => {
  let issuer: TestIssuer;
  let harness: Harness;
  let internals: RuntimeService & RuntimeInternals;
  let now = Date.now();
  let token: string;
  let exchanges: { form: Record<string, string>; authorization: string | undefined }[] = [];
  let identityStandIn: Server;
  let tokenEndpoint: string;
  const call = async (runtime: string, id: string | undefined, body: unknown = {}, auth = token) =>
    fetch(harness.url(runtime), { method: 'POST', headers: { authorization: `Bearer ${auth}`, ...(id ? { [SESSION]: id } : {}) }, body: JSON.stringify(body) });

  before(async () => {
    issuer = await startTestIssuer();
    // A loopback stand-in for the identity service's token endpoint (RFC 8693), recording what it was asked.
    identityStandIn = createServer((request, response) => {
      void readBody(request, 65_536).then((body) => {
        const form = parseForm(body);
        exchanges.push({ form, authorization: request.headers.authorization });
        // Like the identity service, refuse a subject token it no longer accepts (here: one user's).
        const subject = JSON.parse(Buffer.from(form.subject_token?.split('.')[1] ?? '', 'base64url').toString() || '{}') as { sub?: string };
        if (subject.sub === 'signed-out-user') {
          response.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid_request","error_description":"subject_token is expired or revoked"}');
          return;
        }
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ access_token: `wat-for-${form.audience}-${exchanges.length}`, issued_token_type: 'urn:ietf:params:oauth:token-type:access_token', token_type: 'Bearer', expires_in: 900 }));
      });
    });
    tokenEndpoint = `http://127.0.0.1:${await listen(identityStandIn, 0)}/oauth2/token`;
    harness = await startHarness({
      issuer,
      clock: () => now,
      runtimes: [
        { agentRuntimeName: 'reaped', lifecycleConfiguration: { idleRuntimeSessionTimeout: 60, maxLifetime: 120 }, limits: { warmPoolSize: 0 } },
        { agentRuntimeName: 'broken', agentEnv: { ECHO_AGENT_FAIL_START: '3' }, limits: { warmPoolSize: 0 } },
        { agentRuntimeName: 'slow', agentEnv: { ECHO_AGENT_START_DELAY_MS: '10000' }, limits: { warmPoolSize: 0, startTimeoutSeconds: 0.5 } },
        { agentRuntimeName: 'small', agentEnv: { ECHO_AGENT_PING_FORMAT: 'iso' }, limits: { warmPoolSize: 0, maxConcurrentSessions: 1, requestsPerMinutePerPrincipal: 3 } },
        { agentRuntimeName: 'exchanging', workloadIdentity: { mode: 'token-exchange', audience: 'https://gateway.example/mcp' }, limits: { warmPoolSize: 0 } },
        { agentRuntimeName: 'passing', workloadIdentity: { mode: 'passthrough' }, limits: { warmPoolSize: 0 } },
      ],
      deps: { tokenExchange: { clientId: 'runtime-client', clientSecret: 'runtime-secret', tokenEndpoint } },
      options: { reapIntervalMs: 3_600_000 },
    });
    internals = harness.runtime as RuntimeService & RuntimeInternals;
    token = issuer.sign({ sub: 'frank' });
  });
  after(async () => {
    await harness.close();
    await closeServer(identityStandIn);
    await issuer.close();
  });

  test('reaps a session idle past idleRuntimeSessionTimeout; the next call starts a fresh process', async () => {
    const id = sessionId('idle');
    const { pid } = (await (await call('reaped', id)).json()) as { pid: number };
    now += 30_000;
    await internals.sweep();
    assert.ok(alive(pid), 'not idle long enough yet');
    now += 31_000;
    await internals.sweep();
    assert.ok(await waitFor(() => !alive(pid)), 'the idle process was ended');
    const { pid: fresh } = (await (await call('reaped', id)).json()) as { pid: number };
    assert.notEqual(fresh, pid);
  });

  test('keeps an idle session whose agent reports HealthyBusy, until maxLifetime', async () => {
    const id = sessionId('busy');
    const { pid } = (await (await call('reaped', id, { busy: 60_000 })).json()) as { pid: number };
    now += 61_000;
    await internals.sweep();
    assert.ok(alive(pid), 'HealthyBusy keeps the session');
    now += 61_000;
    await internals.sweep();
    assert.ok(await waitFor(() => !alive(pid)), 'maxLifetime ends it even while busy');
  });

  test('answers a failed agent start with 424 RuntimeClientError naming the exit code and stderr', async () => {
    const response = await call('broken', sessionId('broken'));
    assert.equal(response.status, 424);
    assert.equal(response.headers.get('x-amzn-errortype'), 'RuntimeClientError');
    const { message } = (await response.json()) as { message: string };
    assert.match(message, /exited with code 3/);
    assert.match(message, /refusing to start because ECHO_AGENT_FAIL_START is set/);
  });

  test('answers a start that exceeds startTimeoutSeconds with 424 and ends the process', async () => {
    const response = await call('slow', sessionId('slow'));
    assert.equal(response.status, 424);
    assert.match(((await response.json()) as { message: string }).message, /Runtime initialization time exceeded/);
  });

  test('caps concurrent sessions with 402 ServiceQuotaExceededException and limits requests per principal with 429', async () => {
    const first = await call('small', sessionId('quota1'), { prompt: 'iso ping works' });
    assert.equal(first.status, 200, 'an agent answering /ping with an ISO date is ready');
    await first.arrayBuffer();
    const second = await call('small', sessionId('quota2'));
    assert.equal(second.status, 402);
    assert.equal(second.headers.get('x-amzn-errortype'), 'ServiceQuotaExceededException');
    await second.arrayBuffer();
    const third = await call('small', sessionId('quota1'));
    assert.equal(third.status, 200);
    await third.arrayBuffer();
    const before = (await harness.records()).length;
    const throttled = await call('small', sessionId('quota1'));
    assert.equal(throttled.status, 429);
    assert.equal(throttled.headers.get('x-amzn-errortype'), 'ThrottlingException');
    // the 429 names the limit and the setting that raises it
    assert.match(((await throttled.json()) as { message: string }).message, /runtimes\[\]\.limits\.requestsPerMinutePerPrincipal/);
    assert.equal((await harness.records()).length, before);
    const otherUser = await call('small', sessionId('quota3'), {}, issuer.sign({ sub: 'grace' }));
    assert.equal(otherUser.status, 402, 'another principal has its own rate budget (and meets the session cap)');
  });

  test('gives the agent a workload access token minted by token exchange for the gateway audience, cached per token', async () => {
    exchanges = [];
    const id = sessionId('wat');
    await (await call('exchanging', id)).arrayBuffer();
    await (await call('exchanging', id)).arrayBuffer();
    assert.equal(exchanges.length, 1, 'the second call reuses the cached token');
    const [exchange] = exchanges;
    assert.equal(exchange!.form.grant_type, 'urn:ietf:params:oauth:grant-type:token-exchange');
    assert.equal(exchange!.form.subject_token, token);
    assert.equal(exchange!.form.subject_token_type, 'urn:ietf:params:oauth:token-type:access_token');
    assert.equal(exchange!.form.audience, 'https://gateway.example/mcp');
    assert.equal(exchange!.authorization, `Basic ${Buffer.from('runtime-client:runtime-secret').toString('base64')}`);
    const seen = (await harness.records()).filter((entry) => entry.headers?.[SESSION] === id);
    const wat = fingerprint('wat-for-https://gateway.example/mcp-1');
    for (const entry of seen) {
      assert.equal(entry.headers!.workloadaccesstoken, wat);
      assert.equal(entry.headers!['x-amz-bedrock-agentcore-identity-wat'], wat);
    }
  });

  test('a caller token the identity service will not exchange gets 401 invalid_token, not a 500, and the agent receives nothing', async () => {
    const id = sessionId('refused-exchange');
    const before = (await harness.records()).length;
    const response = await call('exchanging', id, {}, issuer.sign({ sub: 'signed-out-user' }));
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('x-amzn-errortype'), 'UnauthorizedException');
    assert.match(response.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    assert.equal((await harness.records()).length, before, 'the agent received nothing');
  });

  test('passes the user’s own token as the workload token only on a passthrough runtime', async () => {
    const id = sessionId('pass');
    await (await call('passing', id)).arrayBuffer();
    const seen = (await harness.records()).filter((entry) => entry.headers?.[SESSION] === id).at(-1)!;
    assert.equal(seen.headers!.workloadaccesstoken, fingerprint(token));
    assert.equal(seen.headers!.authorization, undefined);
  });
});

describe('runtimes whose agent runs at a URL', () => {
  test('routes every session to the running agent and stops nothing when a session ends', async () => {
    const agentPort = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const child = spawn(process.execPath, [ECHO_AGENT], { env: { ...process.env, PORT: String(agentPort) }, stdio: 'ignore' });
    let harness: Harness | undefined;
    try {
      harness = await startHarness({ runtimes: [{ agentRuntimeName: 'remote', agent: { url: `http://127.0.0.1:${agentPort}` } }] });
      const token = harness.issuer.sign({ sub: 'heidi' });
      const ready = await waitFor(async () => {
        try {
          return (await fetch(`http://127.0.0.1:${agentPort}/ping`)).ok;
        } catch {
          return false;
        }
      });
      assert.ok(ready);
      const ask = async (id: string) =>
        (await (await fetch(harness!.url('remote'), { method: 'POST', headers: { authorization: `Bearer ${token}`, [SESSION]: id }, body: '{}' })).json()) as { pid: number; sessionId: string };
      const one = await ask(sessionId('url1'));
      const two = await ask(sessionId('url2'));
      assert.equal(one.pid, child.pid);
      assert.equal(two.pid, child.pid);
      assert.equal(two.sessionId, sessionId('url2'));
      const stop = await fetch(harness.url('remote', 'stopruntimesession'), { method: 'POST', headers: { authorization: `Bearer ${token}`, [SESSION]: sessionId('url1') } });
      assert.equal(stop.status, 200);
      assert.ok(alive(child.pid!), 'the external agent keeps running');
    } finally {
      await harness?.close();
      child.kill();
    }
  });
});
