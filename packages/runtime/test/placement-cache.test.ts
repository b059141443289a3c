import { after, before, test } from 'node:test';
// Each test is bounded: a hang is a failure, not a stuck run.
const BOUND = { timeout: 30_000 };
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import type { SharedStore } from '@gatehouse/core';
import { RedisStore } from '@gatehouse/cluster';
import { startTestIssuer, type TestIssuer } from '@gatehouse/testing/test-issuer';
import { startRedisServer, type RedisServer } from '@gatehouse/testing/redis-server';
import { SESSION, sessionId, startHarness, type Harness } from './support/runtime-harness.ts';

/**
 * Two runtime instances sharing one Redis: the session's placement is cached on each instance (no
 * store read per request once known) and a move announced on the store's pub/sub reaches the other
 * instance, so neither routes a request to a stale process.
 */
let redis: RedisServer;
let issuer: TestIssuer;
let a: Harness;
let b: Harness;
let stores: RedisStore[] = [];
/** Store reads of session records, per instance. */
const sessionReads = { a: 0, b: 0 };

function counting(store: RedisStore, which: 'a' | 'b'): SharedStore {
  return new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (typeof value !== 'function') return value;
      if (property === 'get') {
        return (key: string) => {
          if (key.includes(':session:')) sessionReads[which]++;
          return target.get(key);
        };
      }
      return (value as (...args: unknown[]) => unknown).bind(target);
    },
  });
}

async function instance(which: 'a' | 'b'): Promise<Harness> {
  const store = new RedisStore(redis.url, { keyPrefix: 'placement-cache:', maxReconnectDelayMs: 100 });
  await store.connect();
  stores.push(store);
  return startHarness({ runtimes: [{ agentRuntimeName: 'chat' }], issuer, store: counting(store, which), announceInstance: true });
}

async function invoke(on: Harness, id: string): Promise<{ status: number; pid: number }> {
  const response = await fetch(on.url('chat'), {
    method: 'POST',
    headers: { authorization: `Bearer ${issuer.sign({ sub: 'placement-user' })}`, 'content-type': 'application/json', [SESSION]: id },
    body: '{"prompt":"hi"}',
  });
  const body = (await response.json()) as { pid?: number };
  return { status: response.status, pid: body.pid ?? -1 };
}

/** One WebSocket exchange through `on`: a WebSocket is never forwarded, so that instance takes the session over. */
async function overWebSocket(on: Harness, id: string): Promise<number> {
  const url = `${on.baseUrl.replace('http', 'ws')}/runtimes/chat/ws?X-Amzn-Bedrock-AgentCore-Runtime-Session-Id=${id}`;
  const socket = new WebSocket(url, { headers: { authorization: `Bearer ${issuer.sign({ sub: 'placement-user' })}` } });
  const pid = new Promise<number>((resolve, reject) => {
    socket.on('message', (frame: Buffer) => {
      const event = JSON.parse(frame.toString()) as { type: string; pid?: number };
      if (event.type === 'message') resolve(event.pid!);
    });
    socket.on('unexpected-response', (_request, response) => reject(new Error(`upgrade refused: ${response.statusCode}`)));
    socket.on('error', reject);
  });
  await once(socket, 'open');
  socket.send('{"prompt":"over the socket"}');
  try {
    return await pid;
  } finally {
    socket.close();
  }
}

before(async () => {
  redis = await startRedisServer();
  issuer = await startTestIssuer();
  a = await instance('a');
  b = await instance('b');
});

after(async () => {
  await Promise.allSettled([a?.close(), b?.close()]);
  for (const store of stores) await store.close();
  stores = [];
  await issuer?.close();
  await redis?.stop();
});

test('a session served here again and again reads its placement from the store once, not per request', BOUND, async () => {
  const id = sessionId('cached-local');
  const first = await invoke(a, id);
  assert.equal(first.status, 200);
  await invoke(a, id);
  const reads = sessionReads.a;
  for (let index = 0; index < 5; index++) assert.deepEqual(await invoke(a, id), first);
  assert.equal(sessionReads.a, reads, 'no session-record read while the placement is known');
});

test('through the other instance the request is forwarded on the known placement, without a store read each time', BOUND, async () => {
  const id = sessionId('cached-remote');
  const onA = await invoke(a, id);
  assert.equal((await invoke(b, id)).pid, onA.pid, 'forwarded to the process on A');
  const [readsA, readsB] = [sessionReads.a, sessionReads.b];
  for (let index = 0; index < 3; index++) assert.equal((await invoke(b, id)).pid, onA.pid);
  assert.equal(sessionReads.b, readsB, 'B forwards on its cached placement');
  assert.equal(sessionReads.a, readsA, 'A serves on its cached placement');
});

test('a session moved to B is not served by A’s stale process: the move reaches A through pub/sub', BOUND, async () => {
  const id = sessionId('moved-to-b');
  const onA = await invoke(a, id);
  await invoke(a, id); // A's placement is now cached
  const onB = await overWebSocket(b, id);
  assert.notEqual(onB, onA.pid, 'B runs the session in a process of its own');
  const again = await invoke(a, id);
  assert.equal(again.status, 200);
  assert.equal(again.pid, onB, 'A forwards to B instead of answering from its own, stale process');
});

test('a session moved back to A is not routed to B by B’s cached placement', BOUND, async () => {
  const id = sessionId('moved-back');
  const onA = await invoke(a, id);
  assert.equal((await invoke(b, id)).pid, onA.pid); // B caches "on A"
  const onB = await overWebSocket(b, id); // B takes it over: B's copy changes with its own write
  assert.equal((await invoke(b, id)).pid, onB);
  const onAAgain = await overWebSocket(a, id); // and A takes it back
  assert.notEqual(onAAgain, onB);
  assert.equal((await invoke(b, id)).pid, onAAgain, 'B forwards to A, not to its own stale process');
  assert.equal((await invoke(a, id)).pid, onAAgain);
});
