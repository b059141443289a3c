// MCP session bindings read from a remote store are kept on the instance for SESSION_CACHE_MS, so a
// request on a known session costs no store round trip. The cache must never change who may use a
// session: another user is refused from the cache too, a session ended here is refused at once, and
// one ended through another instance is refused once the documented bound has passed.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EmbeddedStore, type SharedStore } from '@gatehouse/core';
import type { Caller } from '../src/caller.ts';
import { SESSION_CACHE_MS, SessionBindings } from '../src/session-binding.ts';

/** The embedded store presented as a remote one (kind 'redis'), counting its reads. */
function remoteStore(inner: EmbeddedStore): SharedStore & { reads: number } {
  const store = {
    kind: 'redis' as const,
    reads: 0,
    get: (key: string) => {
      store.reads++;
      return inner.get(key);
    },
    set: inner.set.bind(inner),
    setIfAbsent: inner.setIfAbsent.bind(inner),
    delete: inner.delete.bind(inner),
    increment: inner.increment.bind(inner),
    claimSlot: inner.claimSlot.bind(inner),
    renewSlots: inner.renewSlots.bind(inner),
    releaseSlot: inner.releaseSlot.bind(inner),
    close: () => inner.close(),
  };
  return store;
}

const caller = (subject: string): Caller => ({ subject, issuer: 'https://issuer.test', username: subject, scopes: [], groups: [], claims: {}, token: 'not-used' }) as unknown as Caller;

describe('session bindings cached on the instance (remote store)', () => {
  test('a known session is checked without a store read; another user is refused from the cache too', async () => {
    const store = remoteStore(new EmbeddedStore());
    const sessions = new SessionBindings(store, 'g');
    const id = SessionBindings.newId();
    await sessions.open(id, caller('alice'), { urlElicitation: true });
    assert.deepEqual(await sessions.inspect(id, caller('alice')), { check: 'ok', traits: { urlElicitation: true } });
    assert.equal(await sessions.check(id, caller('mallory')), 'other-principal');
    assert.equal(await sessions.check(id, caller('alice')), 'ok');
    assert.equal(store.reads, 0);
  });

  test('a session ended on this instance is refused at once', async () => {
    const store = remoteStore(new EmbeddedStore());
    const sessions = new SessionBindings(store, 'g');
    const id = SessionBindings.newId();
    await sessions.open(id, caller('alice'));
    await sessions.close(id);
    assert.equal(await sessions.check(id, caller('alice')), 'missing');
  });

  test('a session ended through another instance is refused once SESSION_CACHE_MS has passed', async () => {
    let now = 1_000_000;
    const shared = new EmbeddedStore();
    const here = new SessionBindings(remoteStore(shared), 'g', () => now);
    const there = new SessionBindings(remoteStore(shared), 'g', () => now);
    const id = SessionBindings.newId();
    await there.open(id, caller('alice'));
    assert.equal(await here.check(id, caller('alice')), 'ok'); // read from the store, now cached here
    await there.close(id);
    now += SESSION_CACHE_MS - 1;
    assert.equal(await here.check(id, caller('alice')), 'ok', 'within the documented bound the cached binding is used');
    now += 1;
    assert.equal(await here.check(id, caller('alice')), 'missing');
  });

  test('an unknown session is read from the store every time (absence is not cached)', async () => {
    const shared = new EmbeddedStore();
    const store = remoteStore(shared);
    const here = new SessionBindings(store, 'g');
    const id = SessionBindings.newId();
    assert.equal(await here.check(id, caller('alice')), 'missing');
    await new SessionBindings(remoteStore(shared), 'g').open(id, caller('alice'));
    assert.equal(await here.check(id, caller('alice')), 'ok');
    assert.equal(store.reads, 2);
  });

  test('on the embedded store nothing is cached (it is this process already): every check reads it', async () => {
    const shared = new EmbeddedStore();
    const here = new SessionBindings(shared, 'g');
    const there = new SessionBindings(shared, 'g');
    const id = SessionBindings.newId();
    await here.open(id, caller('alice'));
    await there.close(id);
    assert.equal(await here.check(id, caller('alice')), 'missing');
  });
});
