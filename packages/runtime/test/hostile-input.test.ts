import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { EmbeddedStore, type SharedStore } from '@gatehouse/core';
import { RedisStore } from '@gatehouse/cluster';
import { startTestIssuer, type TestIssuer } from '@gatehouse/testing/test-issuer';
import { startRedisServer, type RedisServer } from '@gatehouse/testing/redis-server';
import { memoryLimitedCommand } from '../src/agent-endpoint.ts';
import { SESSION, sessionId, startHarness, type Harness } from './support/runtime-harness.ts';

/** Hostile input a reviewer got through (issue 13), each sent as an attacker would, with the refusal and a positive control. */

const capped = { agentRuntimeName: 'capped', limits: { warmPoolSize: 0, maxConcurrentSessions: 4, maxConcurrentSessionsPerPrincipal: 2 } };

async function invoke(harness: Harness, token: string, session: string): Promise<{ status: number; errorType: string | null; body: Record<string, unknown> }> {
  const response = await fetch(harness.url('capped'), { method: 'POST', headers: { authorization: `Bearer ${token}`, [SESSION]: session }, body: '{"prompt":"hi"}' });
  return { status: response.status, errorType: response.headers.get('x-amzn-errortype'), body: (await response.json()) as Record<string, unknown> };
}

async function stop(harness: Harness, token: string, session: string): Promise<number> {
  const response = await fetch(harness.url('capped', 'stopruntimesession'), { method: 'POST', headers: { authorization: `Bearer ${token}`, [SESSION]: session } });
  await response.arrayBuffer();
  return response.status;
}

/** Sessions started for a session id, as the agents saw them (one record line per request). */
async function agentSessions(...harnesses: Harness[]): Promise<Set<string>> {
  const seen = new Set<string>();
  for (const harness of harnesses) {
    for (const record of await harness.records()) {
      const id = record.headers?.[SESSION];
      if (id) seen.add(id);
    }
  }
  return seen;
}

function sessionLimitSuite(label: string, makeStore: () => Promise<{ store: SharedStore; close(): Promise<void> }>, instances: 1 | 2): void {
  describe(`one user cannot take every session of a runtime (${label})`, () => {
    let issuer: TestIssuer;
    let store: { store: SharedStore; close(): Promise<void> };
    let first: Harness;
    let second: Harness;
    let alice: string;
    let bob: string;
    let carol: string;

    before(async () => {
      issuer = await startTestIssuer();
      store = await makeStore();
      first = await startHarness({ issuer, store: store.store, runtimes: [capped], announceInstance: instances === 2 });
      second = instances === 2 ? await startHarness({ issuer, store: store.store, runtimes: [capped], announceInstance: true }) : first;
      alice = issuer.sign({ sub: 'alice' });
      bob = issuer.sign({ sub: 'bob' });
      carol = issuer.sign({ sub: 'carol' });
    });
    after(async () => {
      if (second !== first) await second.close();
      await first.close();
      await store.close();
      await issuer.close();
    });

    test("with a total of 4 and 2 per principal, a user's third session is refused while another user still starts sessions", async () => {
      const key = label.replace(/\W/g, '');
      const [a1, a2, a3] = [sessionId(`${key}-a1`), sessionId(`${key}-a2`), sessionId(`${key}-a3`)];
      assert.equal((await invoke(first, alice, a1)).status, 200);
      // With two instances, the second session lands on the other one: the share is counted deployment-wide.
      assert.equal((await invoke(second, alice, a2)).status, 200);

      const refused = await invoke(first, alice, a3);
      assert.equal(refused.status, 402, JSON.stringify(refused.body));
      assert.equal(refused.errorType, 'ServiceQuotaExceededException');
      assert.match(String(refused.body.message), /limits\.maxConcurrentSessionsPerPrincipal = 2/);
      assert.match(String(refused.body.message), /StopRuntimeSession/);
      assert.equal((await agentSessions(first, second)).has(a3), false, 'no agent saw the refused session');

      // Positive control: another user is not locked out by alice.
      const [b1, b2, b3] = [sessionId(`${key}-b1`), sessionId(`${key}-b2`), sessionId(`${key}-b3`)];
      assert.equal((await invoke(first, bob, b1)).status, 200);
      assert.equal((await invoke(second, bob, b2)).status, 200);
      const bobOver = await invoke(second, bob, b3);
      assert.equal(bobOver.status, 402);
      assert.match(String(bobOver.body.message), /maxConcurrentSessionsPerPrincipal/);

      // The runtime total still holds on top of the shares.
      const carolOver = await invoke(first, carol, sessionId(`${key}-c1`));
      assert.equal(carolOver.status, 402);
      assert.equal(carolOver.errorType, 'ServiceQuotaExceededException');
      assert.match(String(carolOver.body.message), /limits\.maxConcurrentSessions\)/);

      // Running sessions continue, and a stopped one gives the user's share back.
      assert.equal((await invoke(first, alice, a1)).status, 200);
      assert.equal(await stop(first, alice, a1), 200);
      assert.equal((await invoke(first, alice, a3)).status, 200, 'the stopped session freed a place in alice\'s share');
      for (const [token, id] of [[alice, a2], [alice, a3], [bob, b1], [bob, b2]] as const) await stop(first, token, id);
    });
  });
}

sessionLimitSuite('embedded store', async () => {
  const store = new EmbeddedStore();
  return { store, close: () => store.close() };
}, 1);

let redis: RedisServer | undefined;
sessionLimitSuite('Redis, two instances', async () => {
  redis = await startRedisServer();
  const store = new RedisStore(redis.url, { keyPrefix: 'hostile-input:' });
  await store.connect();
  return {
    store,
    async close() {
      await store.close();
      await redis?.stop();
    },
  };
}, 2);

describe('agent processes run under a memory limit', () => {
  test('wraps the command in a data-segment limit on Linux, keeping the command and its arguments intact', () => {
    assert.deepEqual(memoryLimitedCommand(['node', 'agent.js', '--flag'], 256, 'linux'), ['/bin/sh', '-c', 'ulimit -d "$0" && exec "$@"', '262144', 'node', 'agent.js', '--flag']);
    assert.deepEqual(memoryLimitedCommand(['node', 'agent.js'], 256, 'darwin'), ['node', 'agent.js'], 'not applied where the kernel does not enforce it');
    assert.deepEqual(memoryLimitedCommand(['node', 'agent.js'], 0, 'linux'), ['node', 'agent.js'], '0 turns it off');
  });

  test('a missing agent command under the limit is still a 424 that names the command', { skip: process.platform !== 'linux' && 'Linux only' }, async () => {
    const harness = await startHarness({ runtimes: [{ agentRuntimeName: 'missing', agent: { command: ['/nonexistent/agent-binary'] }, limits: { warmPoolSize: 0 } }] });
    try {
      const response = await fetch(harness.url('missing'), { method: 'POST', headers: { authorization: `Bearer ${harness.issuer.sign({ sub: 'alice' })}` }, body: '{}' });
      assert.equal(response.status, 424);
      assert.match(((await response.json()) as { message: string }).message, /\/nonexistent\/agent-binary/);
    } finally {
      await harness.close();
    }
  });

  test('an agent that allocates past maxAgentMemoryMiB fails and its session ends; within the limit, and without one, the same agent runs', { skip: process.platform !== 'linux' && 'RLIMIT_DATA is applied on Linux only' }, async () => {
    // Node 24 counts ~560 MiB of reserved (unused) address space as data at start, hence 768 MiB here.
    const harness = await startHarness({
      runtimes: [
        { agentRuntimeName: 'bounded', limits: { warmPoolSize: 0, maxAgentMemoryMiB: 768 } },
        { agentRuntimeName: 'unbounded', limits: { warmPoolSize: 0, maxAgentMemoryMiB: 0 } },
      ],
    });
    try {
      const token = harness.issuer.sign({ sub: 'alice' });
      const allocate = async (runtime: string, id: string, allocateMiB: number) => {
        const response = await fetch(harness.url(runtime), { method: 'POST', headers: { authorization: `Bearer ${token}`, [SESSION]: id }, body: JSON.stringify({ prompt: 'x', allocateMiB }) });
        return { status: response.status, errorType: response.headers.get('x-amzn-errortype'), body: (await response.json()) as Record<string, unknown> };
      };
      const small = await allocate('bounded', sessionId('mem-bounded'), 32);
      assert.equal(small.status, 200, `an agent within its limit starts and answers: ${JSON.stringify(small.body)}`);
      const limits = await readFile(`/proc/${Number(small.body.pid)}/limits`, 'utf8');
      assert.match(limits, /Max data size\s+805306368\s+805306368\s+bytes/, 'the kernel holds the agent itself (same pid, no wrapper left) to 768 MiB of data');

      const over = await allocate('bounded', sessionId('mem-bounded'), 512);
      assert.equal(over.status, 424, JSON.stringify(over.body));
      assert.equal(over.errorType, 'RuntimeClientError');
      const again = await allocate('bounded', sessionId('mem-bounded'), 1);
      assert.equal(again.status, 200);
      assert.notEqual(again.body.pid, small.body.pid, 'the session got a fresh process after the failure');

      const control = await allocate('unbounded', sessionId('mem-unbounded'), 512);
      assert.equal(control.status, 200, 'the same allocation without the limit succeeds');
      assert.equal(control.body.allocatedBytes, 512 * 1024 * 1024);
    } finally {
      await harness.close();
    }
  });
});

describe('runtime ARNs in the path are decoded exactly once', () => {
  let harness: Harness;
  let token: string;
  const arn = 'arn:aws:bedrock-agentcore:local:000000000000:runtime/plain';
  before(async () => {
    harness = await startHarness({ runtimes: [{ agentRuntimeName: 'plain', limits: { warmPoolSize: 0 } }] });
    token = harness.issuer.sign({ sub: 'alice' });
  });
  after(() => harness.close());
  const invokeAt = (segment: string, id: string) =>
    fetch(`${harness.baseUrl}/runtimes/${segment}/invocations`, { method: 'POST', headers: { authorization: `Bearer ${token}`, [SESSION]: id }, body: '{"prompt":"hi"}' });

  test('refuses a double-encoded ARN (%253A) with a ValidationException naming the problem, and the agent receives nothing', async () => {
    const id = sessionId('double');
    for (const segment of [encodeURIComponent(encodeURIComponent(arn)), encodeURIComponent(encodeURIComponent(arn)).replace(/%253A/g, '%253a')]) {
      const response = await invokeAt(segment, id);
      assert.equal(response.status, 400, segment);
      assert.equal(response.headers.get('x-amzn-errortype'), 'ValidationException');
      const body = (await response.json()) as { message: string; fieldList: { name: string }[] };
      assert.match(body.message, /percent-encoded more than once/);
      assert.equal(body.fieldList[0]?.name, 'agentRuntimeArn');
    }
    const doubleName = await invokeAt('pl%2561in', id);
    assert.equal(doubleName.status, 400, 'a double-encoded name is refused too');
    await doubleName.arrayBuffer();
    assert.equal((await agentSessions(harness)).has(id), false);
  });

  test('a single-encoded ARN, a plain ARN and the plain name still reach the runtime', async () => {
    for (const [segment, label] of [[encodeURIComponent(arn), 'encoded'], [arn, 'plain-arn'], ['plain', 'name'], [encodeURIComponent(arn).replace(/%3A/g, '%3a'), 'lowercase']] as const) {
      const response = await invokeAt(segment, sessionId(`once-${label}`));
      assert.equal(response.status, 200, segment);
      await response.arrayBuffer();
    }
  });
});

describe('payloads sent as JSON are refused past limits.maxJsonDepth', () => {
  let harness: Harness;
  let token: string;
  before(async () => {
    harness = await startHarness({ runtimes: [{ agentRuntimeName: 'deep', limits: { warmPoolSize: 0 } }] });
    token = harness.issuer.sign({ sub: 'alice' });
  });
  after(() => harness.close());
  const send = (id: string, body: string, contentType: string) =>
    fetch(harness.url('deep'), { method: 'POST', headers: { authorization: `Bearer ${token}`, [SESSION]: id, 'content-type': contentType }, body });
  const nested = (depth: number) => `{"prompt":"hi","args":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;

  test('refuses a payload nested 10,000 deep with 400 ValidationException naming the limit, and no agent starts', async () => {
    const id = sessionId('deep');
    for (const contentType of ['application/json', 'application/json; charset=utf-8', 'application/vnd.example+json']) {
      const response = await send(id, nested(10_000), contentType);
      assert.equal(response.status, 400, contentType);
      assert.equal(response.headers.get('x-amzn-errortype'), 'ValidationException');
      const body = (await response.json()) as { message: string; reason: string; fieldList: { name: string }[] };
      assert.match(body.message, /deeper than 64 levels \(limits\.maxJsonDepth of runtime deep\)/);
      assert.equal(body.reason, 'FieldValidationFailed');
      assert.equal(body.fieldList[0]?.name, 'payload');
    }
    assert.equal((await agentSessions(harness)).has(id), false, 'the agent never saw the deep payload');
    assert.equal(harness.runtime.stats().get('deep')?.sessions, 0, 'no session was started for it');
  });

  test('closes a WebSocket with 1008 on a text frame nested past the limit, before the agent sees it; flat frames still flow', async () => {
    const url = `${harness.baseUrl.replace('http', 'ws')}/runtimes/deep/ws?X-Amzn-Bedrock-AgentCore-Runtime-Session-Id=${sessionId('deep-ws')}`;
    const open = async () => {
      const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
      await once(socket, 'open');
      return socket;
    };
    const hostile = await open();
    const received: string[] = [];
    hostile.on('message', (data) => received.push(String(data)));
    const closed = once(hostile, 'close');
    hostile.send(nested(10_000));
    const [code, reason] = (await closed) as [number, Buffer];
    assert.equal(code, 1008);
    assert.match(String(reason), /JSON nested deeper than 64 levels \(limits\.maxJsonDepth\)/);
    assert.deepEqual(received, [], 'the agent answered nothing: it never got the frame');

    const control = await open();
    const echoed = once(control, 'message');
    control.send(`[${'['.repeat(62)}${']'.repeat(62)}]`);
    assert.equal(String((await echoed)[0]), `[${'['.repeat(62)}${']'.repeat(62)}]`, 'a frame within the limit reaches the agent (echoed back)');
    const plain = once(control, 'message');
    control.send(`not JSON, just text ${'['.repeat(100)}`);
    assert.equal(String((await plain)[0]), `not JSON, just text ${'['.repeat(100)}`, 'text that does not start as JSON is passed through uninspected');
    control.close();
  });

  test('a payload at the limit reaches the agent, and an opaque (non-JSON) payload is passed through uninspected', async () => {
    const atLimit = await send(sessionId('deep-ok'), nested(64), 'application/json');
    assert.equal(atLimit.status, 200);
    await atLimit.arrayBuffer();
    const opaque = await send(sessionId('deep-ok'), `${'['.repeat(100)}`, 'application/octet-stream');
    assert.equal(opaque.status, 400, 'the echo agent answers its own 400 (invalid JSON): the runtime passed the blob on');
    assert.deepEqual(await opaque.json(), { error: 'Invalid JSON', bytes: 100 });
  });
});

describe('client aborts on the runtime', () => {
  test('20 invocations aborted mid-payload write no error-level line and no stack, and the runtime keeps serving', async () => {
    const harness = await startHarness({ runtimes: [{ agentRuntimeName: 'aborted', limits: { warmPoolSize: 0 } }] });
    try {
      const token = harness.issuer.sign({ sub: 'alice' });
      const port = Number(new URL(harness.baseUrl).port);
      const aborts = 20;
      for (let index = 0; index < aborts; index++) {
        const socket = connect(port, '127.0.0.1');
        socket.on('error', () => undefined);
        await new Promise((resolve) => socket.once('connect', resolve));
        // Expect: 100-continue, so the part of the body is sent only once the runtime has read the headers: under load
        // a socket closed earlier is never a request at all, and nothing would be left to log.
        const continued = new Promise((resolve) => socket.once('data', resolve));
        socket.write(`POST /runtimes/aborted/invocations HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer ${token}\r\n${SESSION}: ${sessionId('abort')}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n`);
        assert.match(String(await continued), /^HTTP\/1\.1 100 Continue/);
        socket.write('{"prompt":');
        await new Promise((resolve) => setTimeout(resolve, 30));
        socket.destroy();
      }
      const closed = () => harness.logs.filter((line) => line.includes('runtime request (client closed)'));
      const deadline = Date.now() + 15_000;
      while (closed().length < aborts && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
      assert.equal(closed().length, aborts, 'each abort is one access line');
      for (const line of closed()) assert.equal((JSON.parse(line) as { status: number }).status, 499);
      assert.deepEqual(harness.logs.filter((line) => (JSON.parse(line) as { level: number }).level >= 50), []);
      assert.deepEqual(harness.logs.filter((line) => line.includes('"stack"')), []);
      assert.equal((await agentSessions(harness)).has(sessionId('abort')), false, 'no agent received a partial payload');
      const response = await fetch(harness.url('aborted'), { method: 'POST', headers: { authorization: `Bearer ${token}`, [SESSION]: sessionId('abort') }, body: '{"prompt":"hi"}' });
      assert.equal(response.status, 200);
      await response.arrayBuffer();
    } finally {
      await harness.close();
    }
  });
});
