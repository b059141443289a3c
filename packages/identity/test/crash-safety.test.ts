import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DatabaseSync } from 'node:sqlite';
import { openSqlDatabase } from '@gatehouse/core';
import { TEST_ENGINES, freshDatabase } from '@gatehouse/core/test-postgres';
import { CognitoIdentityProviderClient, AdminCreateUserCommand, ListUsersCommand } from '@aws-sdk/client-cognito-identity-provider';
import { freePort, readAdminKey, startIdentity } from '@gatehouse/testing/start-identity';

const child = fileURLToPath(new URL('./support/identity-child.ts', import.meta.url));

for (const engine of TEST_ENGINES) test(`${engine}: kill -9 during a burst of AdminCreateUser calls loses no acknowledged user and leaves a sound database`, async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-identity-crash-'));
  const port = await freePort();
  const database = engine === 'postgres' ? await freshDatabase('postgres') : undefined;
  const processHandle = spawn(process.execPath, [child, dataDir, String(port), ...(database ? [database] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      let output = '';
      processHandle.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('ready')) resolve();
      });
      processHandle.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
    });
    const baseUrl = `http://127.0.0.1:${port}`;
    const admin = new CognitoIdentityProviderClient({ endpoint: baseUrl, region: 'local', credentials: readAdminKey(path.join(dataDir, 'admin-credentials')), maxAttempts: 1 });
    const reader = await openSqlDatabase({ database, file: path.join(dataDir, 'identity.db') });
    const pool = (await reader.one<{ id: string }>("SELECT id FROM pools WHERE name = 'default'"))!;

    const acknowledged: string[] = [];
    let next = 0;
    let killed = false;
    const worker = async (): Promise<void> => {
      while (!killed) {
        const username = `burst-${next++}`;
        try {
          await admin.send(new AdminCreateUserCommand({ UserPoolId: pool.id, Username: username, TemporaryPassword: 'Temporary-Pass-1', MessageAction: 'SUPPRESS' }));
          acknowledged.push(username);
          if (acknowledged.length >= 30 && !killed) {
            killed = true;
            processHandle.kill('SIGKILL');
          }
        } catch {
          if (!killed) throw new Error(`write ${username} failed before the kill`);
        }
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    await new Promise((resolve) => (processHandle.exitCode !== null || processHandle.signalCode !== null ? resolve(undefined) : processHandle.once('exit', resolve)));
    admin.destroy();
    assert.equal(processHandle.signalCode, 'SIGKILL');

    if (engine === 'sqlite') {
      const check = new DatabaseSync(path.join(dataDir, 'identity.db'));
      assert.deepEqual(check.prepare('PRAGMA integrity_check').all().map((row) => ({ ...row })), [{ integrity_check: 'ok' }]);
      check.close();
    }
    // nothing half-written: every user row that exists is complete (its compared name and its sub in the attributes)
    const rows = await reader.many<{ username: string; username_key: string | null; sub: string; attributes: string }>("SELECT username, username_key, sub, attributes FROM users WHERE username LIKE 'burst-%'");
    await reader.close();
    for (const row of rows) assert.ok(row.username_key === row.username && (JSON.parse(row.attributes) as { sub?: string }).sub === row.sub, `complete row for ${row.username}`);

    const restarted = await startIdentity({ dataDir, ...(database ? { database } : {}) });
    try {
      const client = new CognitoIdentityProviderClient({ endpoint: restarted.baseUrl, region: 'local', credentials: restarted.adminKey });
      const found = new Set<string>();
      const listed = await client.send(new ListUsersCommand({ UserPoolId: pool.id, Filter: 'username ^= "burst-"' }));
      for (const user of listed.Users ?? []) found.add(user.Username!);
      client.destroy();
      const missing = acknowledged.filter((username) => !found.has(username));
      assert.deepEqual(missing, []);
      assert.ok(acknowledged.length >= 30);
    } finally {
      await restarted.stop();
    }
  } finally {
    if (processHandle.exitCode === null && processHandle.signalCode === null) processHandle.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});
