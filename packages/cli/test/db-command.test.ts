import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { sharedTestPostgres } from '@gatehouse/core/test-postgres';
import { runCli } from '@gatehouse/testing/run-cli';

test('gatehouse db status|migrate on PostgreSQL; a newer schema is named and refused at start; a wrong password is named', async () => {
  const server = await sharedTestPostgres();
  const url = await server.createDatabase('db_command');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gh-db-'));
  const env = { GATEHOUSE_DATABASE_URL: url, GATEHOUSE_STORE_KEY: 'ef'.repeat(32) };
  try {
    const before = await runCli(['db', 'status', '--data-dir', dataDir], env);
    assert.equal(before.code, 0, before.stderr);
    assert.match(before.stdout, /identity\tpostgres:\/\/gatehouse@127\.0\.0\.1:\d+\/db_command\tversion 0 of 2\t2 pending/);
    assert.doesNotMatch(before.stdout + before.stderr, new RegExp(server.password), 'no password in the output');

    const migrated = await runCli(['db', 'migrate', '--data-dir', dataDir], env);
    assert.equal(migrated.code, 0, migrated.stderr);
    for (const concern of ['identity', 'audit', 'sandbox-credentials', 'control-plane']) assert.match(migrated.stdout, new RegExp(`${concern}\\t.*\\tversion \\d+ of \\d+\\tup to date`));

    // an upgraded Gatehouse migrated the identity schema further: this build refuses to start on it, naming the concern
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query("INSERT INTO schema_migrations (concern, version, name, applied_at) VALUES ('identity', 99, 'from the future', 0)");
    await client.end();
    const status = await runCli(['db', 'status', '--data-dir', dataDir], env);
    assert.match(status.stdout, /identity\t.*\tversion 99 of 2\tNEWER than this build/);
    const refused = await runCli(['users', 'list', '--data-dir', dataDir], env);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /the identity schema in the database is at version 99, newer than this build knows \(2\)/);

    const wrong = new URL(url);
    wrong.password = 'not-the-password';
    const denied = await runCli(['db', 'status', '--data-dir', dataDir], { ...env, GATEHOUSE_DATABASE_URL: wrong.href });
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /refused the password for user gatehouse/);
    assert.doesNotMatch(denied.stderr, /not-the-password|\n\s+at /, 'no password, no stack trace');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
