import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseStartError, DatabaseUnavailableError, SchemaTooNewError, isUniqueViolation, openSqlDatabase, type Migration, type SqlDatabase } from '@gatehouse/core';
import { TEST_ENGINES, freshDatabase, sharedTestPostgres, startTestPostgres } from '@gatehouse/core/test-postgres';

const counterMigrations: Migration[] = [
  { version: 1, name: 'counters', up: (tx) => tx.exec('CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL)') },
  { version: 2, name: 'notes', up: (tx) => tx.exec('CREATE TABLE notes (id TEXT PRIMARY KEY, "user" TEXT NOT NULL, body TEXT)') },
];

const open = async (engine: (typeof TEST_ENGINES)[number]): Promise<SqlDatabase> =>
  openSqlDatabase({ database: await freshDatabase(engine), file: path.join(mkdtempSync(path.join(tmpdir(), 'gh-sql-')), 'test.db') });

for (const engine of TEST_ENGINES) {
  describe(`SqlDatabase on ${engine}`, () => {
    const opened: SqlDatabase[] = [];
    after(async () => {
      for (const database of opened) await database.close();
    });
    const fresh = async (): Promise<SqlDatabase> => {
      const database = await open(engine);
      opened.push(database);
      await database.migrate('test', counterMigrations);
      return database;
    };

    test('? placeholders, reserved names, big integers and question marks inside strings', async () => {
      const database = await fresh();
      await database.run('INSERT INTO notes (id, "user", body) VALUES (?, ?, \'what?\')', ['a', 'alice']);
      await database.run('INSERT INTO counters (name, value) VALUES (?, ?)', ['ms', 1_765_000_000_000]);
      assert.deepEqual({ ...(await database.one('SELECT "user", body FROM notes WHERE id = ?', ['a'])) }, { user: 'alice', body: 'what?' });
      assert.equal((await database.one<{ value: number }>('SELECT value FROM counters WHERE name = ?', ['ms']))?.value, 1_765_000_000_000);
      assert.equal((await database.many('SELECT * FROM notes WHERE id = ?', ['missing'])).length, 0);
      assert.equal((await database.run('UPDATE notes SET body = ? WHERE id = ?', ['x', 'a'])).changes, 1);
    });

    test('a transaction that throws writes nothing; a unique violation is recognised', async () => {
      const database = await fresh();
      await assert.rejects(
        database.transaction(async (tx) => {
          await tx.run('INSERT INTO notes (id, "user") VALUES (?, ?)', ['half', 'bob']);
          throw new Error('stop half-way');
        }),
        /stop half-way/,
      );
      assert.equal(await database.one('SELECT * FROM notes WHERE id = ?', ['half']), undefined);
      await database.run('INSERT INTO notes (id, "user") VALUES (?, ?)', ['dup', 'x']);
      const error = await database.run('INSERT INTO notes (id, "user") VALUES (?, ?)', ['dup', 'y']).catch((caught: unknown) => caught);
      assert.ok(isUniqueViolation(error), String(error));
    });

    test('concurrent read-modify-write transactions lose no update', async () => {
      const database = await fresh();
      await database.run('INSERT INTO counters (name, value) VALUES (?, 0)', ['hits']);
      await Promise.all(Array.from({ length: 40 }, () => database.transaction(async (tx) => {
        const row = await tx.one<{ value: number }>('SELECT value FROM counters WHERE name = ?', ['hits']);
        await tx.run('UPDATE counters SET value = ? WHERE name = ?', [Number(row?.value) + 1, 'hits']);
      })));
      assert.equal(Number((await database.one<{ value: number }>('SELECT value FROM counters WHERE name = ?', ['hits']))?.value), 40);
    });

    test('migrations apply once, even when two openers race, and a newer schema is refused by name', async () => {
      const url = await freshDatabase(engine);
      const file = path.join(mkdtempSync(path.join(tmpdir(), 'gh-sql-')), 'race.db');
      const [first, second] = [await openSqlDatabase({ database: url, file }), await openSqlDatabase({ database: url, file })];
      opened.push(first, second);
      // PostgreSQL: both at once, the advisory lock orders them. SQLite: two connections of one process would wait on
      // each other synchronously, so one after the other (across processes, BEGIN IMMEDIATE's busy wait orders them).
      if (engine === 'postgres') await Promise.all([first.migrate('test', counterMigrations), second.migrate('test', counterMigrations)]);
      else for (const database of [first, second]) await database.migrate('test', counterMigrations);
      assert.deepEqual((await first.status()).map((row) => [row.concern, row.version]), [['test', 1], ['test', 2]]);
      await first.migrate('test', [...counterMigrations, { version: 3, name: 'extra', up: (tx) => tx.exec('ALTER TABLE notes ADD COLUMN extra TEXT') }]);
      await assert.rejects(second.migrate('test', counterMigrations), (error: unknown) => error instanceof SchemaTooNewError && /test schema .* version 3, newer than this build knows \(2\)/.test(error.message));
    });
  });
}

describe('PostgreSQL start-up errors name the cause', () => {
  const file = path.join(tmpdir(), 'unused.db');
  const refused = (pattern: RegExp) => (error: unknown) => error instanceof DatabaseStartError && pattern.test(error.message) && !error.message.includes('pw-');

  test('a URL that is not a postgres URL', async () => {
    await assert.rejects(openSqlDatabase({ database: 'postgres://', file }), refused(/database URL is not valid/));
  });
  test('a wrong password', async () => {
    const server = await sharedTestPostgres();
    const url = new URL(server.url);
    url.password = 'wrong';
    await assert.rejects(openSqlDatabase({ database: url.href, file }), refused(/refused the password for user gatehouse/));
  });
  test('an unreachable server', async () => {
    const { freePort } = await import('@gatehouse/core');
    await assert.rejects(openSqlDatabase({ database: `postgres://u:p@127.0.0.1:${await freePort()}/db`, file }), refused(/cannot reach PostgreSQL at postgres:\/\/u@127\.0\.0\.1:\d+\/db: connection refused/));
  });
  test('a database that does not exist', async () => {
    const server = await sharedTestPostgres();
    const url = new URL(server.url);
    url.pathname = '/nothere';
    await assert.rejects(openSqlDatabase({ database: url.href, file }), refused(/database nothere does not exist/));
  });
  test('a user without the privilege to create tables', async () => {
    const server = await sharedTestPostgres();
    const url = new URL(await server.createDatabase('locked'));
    await server.admin("CREATE ROLE reader LOGIN PASSWORD 'readerpw'");
    await server.admin('ALTER DATABASE locked OWNER TO gatehouse');
    const client = await openSqlDatabase({ database: url.href, file });
    await client.exec('REVOKE ALL ON SCHEMA public FROM PUBLIC');
    await client.close();
    url.username = 'reader';
    url.password = 'readerpw';
    const reader = await openSqlDatabase({ database: url.href, file });
    await assert.rejects(reader.migrate('test', counterMigrations), refused(/user reader lacks the privileges Gatehouse needs/));
    await reader.close();
  });
});

test('PostgreSQL going away mid-run: typed unavailable errors, then recovery without a restart', async () => {
  const server = await startTestPostgres();
  after(() => server.dispose());
  const database = await openSqlDatabase({ database: server.url, file: 'unused' });
  await database.migrate('test', counterMigrations);
  await database.run('INSERT INTO counters (name, value) VALUES (?, 1)', ['a']);
  await server.stop();
  await assert.rejects(database.one('SELECT value FROM counters WHERE name = ?', ['a']), DatabaseUnavailableError);
  await assert.rejects(database.transaction((tx) => tx.run('UPDATE counters SET value = 2')), DatabaseUnavailableError);
  await server.start();
  assert.equal(Number((await database.one<{ value: number }>('SELECT value FROM counters WHERE name = ?', ['a']))?.value), 1);
  await database.close();
});

for (const engine of TEST_ENGINES) {
  test(`${engine}: statements and transactions started inside a transaction join it (stores compose), and roll back with it`, async () => {
    const database = await open(engine);
    await database.migrate('test', counterMigrations);
    const insert = (id: string) => database.run('INSERT INTO notes (id, "user") VALUES (?, ?)', [id, 'carol']);
    await assert.rejects(database.transaction(async () => {
      await insert('outer');
      await database.transaction(() => insert('nested'));
      assert.equal((await database.many('SELECT id FROM notes')).length, 2);
      throw new Error('undo both');
    }), /undo both/);
    assert.equal((await database.many('SELECT id FROM notes')).length, 0);
    await database.close();
  });
}
