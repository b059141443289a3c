import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { EmbeddedStore, StoreUnavailableError, createLogger, type SharedStore } from '@gatehouse/core';
import { RedisStore, createStore, StoreUrlError, type RedisStoreOptions } from '@gatehouse/cluster';
import { startRedisServer, freePort, type RedisServer } from '@gatehouse/testing/redis-server';

let redis: RedisServer;
const stores: RedisStore[] = [];

async function openStore(url = redis.url, keyPrefix = 'test:', options: Partial<RedisStoreOptions> = {}): Promise<RedisStore> {
  const store = new RedisStore(url, { keyPrefix, maxReconnectDelayMs: 100, ...options });
  stores.push(store);
  await store.connect();
  return store;
}

async function until<T>(attempt: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(50);
    }
  }
}

before(async () => {
  redis = await startRedisServer();
});

after(async () => {
  await Promise.all(stores.map((store) => store.close()));
  await redis.stop();
});

test('stores, reads and deletes values that another instance sees', async () => {
  const a = await openStore();
  const b = await openStore();
  assert.equal(await b.get('session:one'), undefined);
  await a.set('session:one', 'owner-a');
  assert.equal(await b.get('session:one'), 'owner-a');
  await b.delete('session:one');
  assert.equal(await a.get('session:one'), undefined);
});

test('expires a value after its TTL', async () => {
  const store = await openStore();
  await store.set('short', 'lived', 0.2);
  assert.equal(await store.get('short'), 'lived');
  await sleep(400);
  assert.equal(await store.get('short'), undefined);
});

test('lets exactly one of many concurrent instances claim a key', async () => {
  const a = await openStore();
  const b = await openStore();
  const attempts = Array.from({ length: 20 }, (_, index) => (index % 2 === 0 ? a : b).setIfAbsent('claim:session-x', `instance-${index}`, 30));
  const results = await Promise.all(attempts);
  assert.equal(results.filter(Boolean).length, 1);
  const winner = results.indexOf(true);
  assert.equal(await a.get('claim:session-x'), `instance-${winner}`);
});

test('counts a rate-limit window across instances, and the window expires', async () => {
  const a = await openStore();
  const b = await openStore();
  const counts = await Promise.all(Array.from({ length: 10 }, (_, index) => (index % 2 === 0 ? a : b).increment('rate:alice', 0.5)));
  assert.deepEqual([...counts].sort((x, y) => x - y), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const raw = new Redis(redis.url, { lazyConnect: true });
  await raw.connect();
  const ttl = await raw.pttl('test:rate:alice');
  await raw.quit();
  assert.ok(ttl > 0 && ttl <= 500, `the counter must carry its window as a TTL (got ${ttl})`);
  await sleep(700);
  assert.equal(await a.increment('rate:alice', 0.5), 1);
});

async function slotBehaviour(one: SharedStore, two: SharedStore): Promise<void> {  assert.equal(await one.claimSlot('slots', 's1', 2, 30), true);
  assert.equal(await two.claimSlot('slots', 's2', 2, 30), true);
  assert.equal(await one.claimSlot('slots', 's3', 2, 30), false, 'the limit counts both instances');
  assert.equal(await two.claimSlot('slots', 's1', 2, 30), true, 'a holder renews (a session taken over) whatever the count');
  await one.releaseSlot('slots', 's1');
  assert.equal(await two.claimSlot('slots', 's3', 2, 30), true);
  // Short leases: a renewed one survives, an abandoned one (a crashed instance) lapses.
  assert.equal(await one.claimSlot('leases', 'kept', 2, 0.4), true);
  assert.equal(await one.claimSlot('leases', 'lost', 2, 0.4), true);
  await new Promise((resolve) => setTimeout(resolve, 250));
  await one.renewSlots('leases', ['kept'], 0.4);
  await new Promise((resolve) => setTimeout(resolve, 250));
  assert.equal(await two.claimSlot('leases', 'new', 2, 30), true, 'the lapsed lease freed its slot');
  assert.equal(await two.claimSlot('leases', 'another', 2, 30), false, 'the renewed lease still holds one');
}

test('session slots on Redis: a limit shared by instances, renewals and releases, and leases that lapse', async () => {
  await slotBehaviour(await openStore(), await openStore());
});

test('session slots behave the same on the embedded store', async () => {
  const embedded = new EmbeddedStore();
  await slotBehaviour(embedded, embedded);
});

test('keeps deployments apart by key prefix', async () => {
  const one = await openStore(redis.url, 'one:');
  const two = await openStore(redis.url, 'two:');
  await one.set('shared-name', 'first');
  assert.equal(await two.get('shared-name'), undefined);
  assert.equal(await two.setIfAbsent('shared-name', 'second'), true);
  assert.equal(await one.get('shared-name'), 'first');
});

test('refuses a non-positive TTL as a programming error, not an outage', async () => {
  const store = await openStore();
  await assert.rejects(store.set('k', 'v', 0), RangeError);
  await assert.rejects(store.increment('k', -1), RangeError);
  assert.equal(await store.get('k'), undefined);
});

test('fails closed with StoreUnavailableError while Redis is down, reports each refusal, and recovers when it returns', async () => {
  const refused: string[] = [];
  const store = await openStore(redis.url, 'test:', { onUnavailable: (operation) => refused.push(operation) });
  await store.set('before-outage', 'yes');
  await redis.kill();
  // Every operation refuses; none hangs or pretends (no undefined read, no false claim).
  await until(() => assert.rejects(store.get('before-outage'), StoreUnavailableError));
  await assert.rejects(store.set('during-outage', 'x'), StoreUnavailableError);
  await assert.rejects(store.setIfAbsent('during-outage', 'x'), StoreUnavailableError);
  await assert.rejects(store.increment('rate:during', 60), StoreUnavailableError);
  await assert.rejects(store.delete('before-outage'), StoreUnavailableError);
  // The socket's close event can trail the first refused commands by a tick.
  await until(async () => assert.equal(store.available, false));
  for (const operation of ['set', 'setIfAbsent', 'increment', 'delete']) assert.ok(refused.includes(operation), `${operation} was reported: ${refused.join(',')}`);
  await redis.restart();
  await until(() => store.ping());
  assert.equal(store.available, true);
  // This Redis keeps no data across a restart (--save ''), so the store starts empty, and works.
  assert.equal(await store.setIfAbsent('after-outage', 'ok', 30), true);
  assert.equal(await store.get('after-outage'), 'ok');
});

test('pub/sub: a message reaches every instance\'s subscriber, and an outage is reported as a gap (not live) until the subscription is back', async () => {
  const publisher = await openStore(redis.url, 'pubsub:');
  const subscriber = await openStore(redis.url, 'pubsub:');
  const other = await openStore(redis.url, 'another-deployment:');
  const heard: string[] = [];
  const otherHeard: string[] = [];
  let gaps = 0;
  const subscription = subscriber.subscribe('placement', { onMessage: (message) => heard.push(message), onGap: () => gaps++ });
  other.subscribe('placement', { onMessage: (message) => otherHeard.push(message), onGap: () => undefined });
  await until(async () => assert.equal(subscription.live, true));
  await publisher.publish('placement', 'session-1');
  await until(async () => assert.deepEqual(heard, ['session-1']));
  assert.deepEqual(otherHeard, [], 'another key prefix is another deployment: it hears nothing');
  const gapsBefore = gaps;
  await redis.kill();
  await until(async () => assert.equal(subscription.live, false));
  assert.ok(gaps > gapsBefore, 'the drop is a gap: a cache built on the messages is emptied');
  await redis.restart();
  await until(async () => assert.equal(subscription.live, true));
  await until(() => publisher.ping());
  const gapsAfterReturn = gaps;
  assert.ok(gapsAfterReturn > gapsBefore + 1, 'the return is a gap too: what was published meanwhile is lost');
  await until(async () => {
    await publisher.publish('placement', 'session-2');
    assert.ok(heard.includes('session-2'));
  });
  subscription.close();
  await publisher.publish('placement', 'session-3');
  await sleep(100);
  assert.equal(heard.includes('session-3'), false, 'a closed subscription hears nothing more');
});

test('createStore picks the embedded store or Redis from the one setting', async () => {
  const embedded = await createStore('embedded');
  assert.ok(embedded instanceof EmbeddedStore);
  assert.equal(embedded.kind, 'embedded');
  await embedded.close();
  const shared = await createStore(redis.url, { keyPrefix: 'factory:' });
  try {
    assert.ok(shared instanceof RedisStore);
    await shared.set('x', '1');
    assert.equal(await shared.get('x'), '1');
  } finally {
    await shared.close();
  }
  await assert.rejects(createStore('memcached://127.0.0.1:11211'), StoreUrlError);
});

test('createStore stops the start with a clear error when Redis cannot be reached', async () => {
  const port = await freePort();
  await assert.rejects(createStore(`redis://127.0.0.1:${port}`, { connectTimeoutMs: 500 }), (error: unknown) => {
    assert.ok(error instanceof StoreUnavailableError);
    assert.match(String((error.cause as Error).message), new RegExp(`127\\.0\\.0\\.1:${port}.*did not answer`));
    return true;
  });
});

test('never writes the Redis password to logs or errors', async () => {
  const password = 'pw-' + 'x'.repeat(24);
  const guarded = await startRedisServer({ password });
  const lines: string[] = [];
  const destination = new PassThrough();
  destination.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
  const logger = createLogger({ level: 'debug', destination });
  try {
    const good = await createStore(guarded.url, { logger });
    await good.set('k', 'v');
    assert.equal(await good.get('k'), 'v');
    await guarded.kill();
    await until(() => assert.rejects(good.get('k'), StoreUnavailableError));
    await good.close();
    const wrongUrl = guarded.url.replace(password, 'wrong-password-value');
    await guarded.restart();
    let refusal: unknown;
    await createStore(wrongUrl, { logger, connectTimeoutMs: 500 }).catch((error: unknown) => (refusal = error));
    assert.ok(refusal instanceof StoreUnavailableError, 'a wrong password must not connect');
    const text = lines.join('') + String(refusal) + String((refusal as Error).cause);
    assert.ok(lines.length > 0, 'the store logs its transitions');
    assert.ok(!text.includes(password) && !text.includes('wrong-password-value'), 'no password in logs or errors');
  } finally {
    await guarded.stop();
  }
});
