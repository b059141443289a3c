import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openSqlDatabase } from '@gatehouse/core';
import { TEST_ENGINES, freshDatabase, startTestPostgres } from '@gatehouse/core/test-postgres';
import { AuditLog, type AuditRecord } from '../src/audit-log.ts';

const row = (index: number, user = 'alice'): AuditRecord => ({
  time: new Date(1_765_000_000_000 + index).toISOString(), gateway: 'default', user, issuer: 'https://issuer', clientId: 'c1', session: 's1',
  tool: `t___${index % 3}`, target: 't', decision: 'allow', outcome: 'ok', durationMs: 1.5, detail: '',
});

for (const engine of TEST_ENGINES) {
  describe(`audit log on ${engine}`, () => {
    const closers: (() => Promise<void>)[] = [];
    after(async () => {
      for (const close of closers) await close();
    });
    const open = async (): Promise<{ log: AuditLog; database: string; dataDir: string }> => {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'gh-audit-'));
      const database = await freshDatabase(engine);
      const log = await AuditLog.open({ dataDir, database });
      closers.push(() => log.close());
      return { log, database, dataDir };
    };

    test('every acknowledged row of a concurrent burst is there, in order, filterable by user and tool', async () => {
      const { log } = await open();
      await Promise.all(Array.from({ length: 120 }, (_, index) => log.record(row(index, index % 2 === 0 ? 'alice' : 'bob'))));
      const all = await log.query({ limit: 10_000 });
      assert.equal(all.length, 120);
      assert.deepEqual(all.map((entry) => entry.time), [...all.map((entry) => entry.time)].sort());
      assert.equal((await log.query({ user: 'bob', limit: 1000 })).length, 60);
      assert.equal((await log.query({ tool: 't___0', limit: 1000 })).length, 40);
      assert.deepEqual((await log.query({ limit: 2 })).map((entry) => entry.time), all.slice(-2).map((entry) => entry.time));
    });

    test('the table is append-only: an UPDATE or DELETE through the database is refused', async () => {
      const { log, database, dataDir } = await open();
      await log.record(row(1));
      const direct = await openSqlDatabase({ database, file: path.join(dataDir, 'audit.db') });
      closers.push(() => direct.close());
      await assert.rejects(direct.run('UPDATE tool_calls SET outcome = ?', ['forged']), /append-only/);
      await assert.rejects(direct.run('DELETE FROM tool_calls'), /append-only/);
      assert.equal((await log.query())[0]?.outcome, 'ok');
    });
  });
}

test('PostgreSQL restarted mid-run: the write is refused (not acknowledged), kept queued, and written once it is back', async () => {
  const server = await startTestPostgres();
  after(() => server.dispose());
  const errors: unknown[] = [];
  const log = await AuditLog.open({ dataDir: mkdtempSync(path.join(tmpdir(), 'gh-audit-')), database: server.url, onFlushError: (error) => errors.push(error) });
  await log.record(row(1));
  await server.stop();
  await assert.rejects(log.record(row(2)), { code: 'DatabaseUnavailable' });
  assert.ok(errors.length > 0);
  await server.start();
  const deadline = Date.now() + 10_000;
  while ((await log.query({ limit: 10 }).catch(() => [])).length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual((await log.query()).map((entry) => entry.time), [row(1).time, row(2).time]);
  await log.close();
});
