import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { TEST_ENGINES, freshDatabase } from '@gatehouse/core/test-postgres';
import { ResourceStore } from '../src/resource-store.ts';
import { ControlPlaneError } from '../src/control-plane-error.ts';

const key = randomBytes(32);

for (const engine of TEST_ENGINES) {
  describe(`control-plane resource store on ${engine}`, () => {
    const stores: ResourceStore[] = [];
    after(async () => {
      for (const store of stores) await store.close();
    });
    const open = async (shared?: { dataDir: string; database: string }): Promise<{ store: ResourceStore; dataDir: string; database: string }> => {
      const dataDir = shared?.dataDir ?? mkdtempSync(path.join(tmpdir(), 'gh-cp-'));
      const database = shared?.database ?? (await freshDatabase(engine));
      const store = await ResourceStore.open({ dataDir, database, sealingKey: key });
      stores.push(store);
      return { store, dataDir, database };
    };

    test('round-trips resources in creation order, secrets sealed and never in the body', async () => {
      const { store } = await open();
      await store.insert('runtime', { id: 'r1', parent: '', name: 'one', body: { n: 1 } }, { token: 's3cret' });
      await store.insert('runtime', { id: 'r2', parent: '', name: 'two', body: { n: 2 } });
      assert.deepEqual((await store.list<{ n: number }>('runtime')).map((row) => row.body.n), [1, 2]);
      assert.equal((await store.byName<{ n: number }>('runtime', 'two'))?.id, 'r2');
      assert.deepEqual(await store.secret('runtime', 'r1'), { token: 's3cret' });
      assert.equal(await store.secret('runtime', 'r2'), undefined);
      await store.update('runtime', 'r1', { n: 10 });
      assert.equal((await store.get<{ n: number }>('runtime', 'r1'))?.body.n, 10);
      await store.delete('runtime', 'r1');
      assert.equal(await store.get('runtime', 'r1'), undefined);
    });

    test('two instances creating one name at once: one wins, the other gets ConflictException; each sees the other write', async () => {
      const first = await open();
      const second = await open({ dataDir: first.dataDir, database: first.database });
      const before = await second.store.dataVersion();
      const attempt = (store: ResourceStore, index: number) => store.insert('gateway', { id: `g${index}`, parent: '', name: 'same', body: {} });
      // PostgreSQL: all at once. SQLite: two connections of one process would wait on each other synchronously,
      // so one after the other (across processes, SQLite's busy wait orders them).
      const results = engine === 'postgres'
        ? await Promise.allSettled([first.store, second.store, first.store].map(attempt))
        : [await Promise.allSettled([attempt(first.store, 0)]), await Promise.allSettled([attempt(second.store, 1)])].flat();
      assert.equal(results.filter((result) => result.status === 'fulfilled').length, 1);
      for (const result of results) if (result.status === 'rejected') assert.ok(result.reason instanceof ControlPlaneError && result.reason.code === 'ConflictException', String(result.reason));
      assert.notEqual(await second.store.dataVersion(), before, 'a write by the other instance is seen');
    });

    test('atomically: all of it or none of it', async () => {
      const { store } = await open();
      await assert.rejects(store.atomically(async () => {
        await store.insert('runtime', { id: 'half', parent: '', name: 'half', body: {} });
        throw new Error('stop');
      }), /stop/);
      assert.equal(await store.get('runtime', 'half'), undefined);
    });
  });
}
