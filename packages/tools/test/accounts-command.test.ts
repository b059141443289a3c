import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig, type CommandContext } from '@gatehouse/core';
import { createAccountRegistry, toolsCommands } from '../src/index.ts';

const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-accounts-cli-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

async function run(...args: string[]) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const context: CommandContext = { config: parseConfig({}), dataDir, baseUrl: 'http://localhost:8080', stdout: (line) => stdout.push(line), stderr: (line) => stderr.push(line) };
  const code = await toolsCommands.accounts(args, context);
  return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
}

test('gatehouse accounts add, list, disable, enable and remove edit the registry the tools read', async () => {
  assert.deepEqual(await run('add', '123456789012', 'Central', 'Ops', '--environment', 'prod', '--region', 'eu-west-1'), {
    code: 0, stdout: 'Saved account Central Ops (123456789012), role GatehouseOpsReadOnly', stderr: '',
  });
  const listed = await run('list');
  assert.equal(listed.code, 0);
  assert.match(listed.stdout, /^ACCOUNT ID\s+NAME\s+ENVIRONMENT\s+ROLE\s+REGION\s+ENABLED\n123456789012\s+Central Ops\s+prod\s+GatehouseOpsReadOnly\s+eu-west-1\s+yes$/);
  assert.equal((await run('disable', 'central ops')).stdout, 'Disabled account Central Ops (123456789012)');
  const registry = await createAccountRegistry({ backend: 'sqlite' }, dataDir);
  assert.equal((await registry.get('123456789012'))?.enabled, false);
  assert.equal((await run('enable', '123456789012')).code, 0);
  assert.equal((await registry.get('123456789012'))?.enabled, true);
  assert.equal((await run('remove', '123456789012')).stdout, 'Removed account Central Ops (123456789012)');
  assert.equal(await registry.get('123456789012'), undefined);
  await registry.close?.();
});

test('refuses bad input with an exit code and a message that says what to fix', async () => {
  assert.deepEqual(await run('add', '12345', 'Short'), { code: 2, stdout: '', stderr: 'Invalid account: account id must be 12 digits' });
  const missing = await run('remove', 'Nowhere');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /No account "Nowhere"\. Known accounts:/);
  assert.equal((await run('frobnicate')).code, 2);
  assert.equal((await run('add', '123456789012', 'X', '--bogus')).code, 2);
});
