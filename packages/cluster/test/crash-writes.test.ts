import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CognitoIdentityProviderClient, InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { openDatabase, parseConfig } from '@gatehouse/core';
import { createAccountRegistry } from '@gatehouse/tools';
import { freePort } from '@gatehouse/testing/redis-server';
import { alive, childPids } from './support/processes.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const gatehouseBin = path.resolve(here, '..', '..', 'cli', 'bin', 'gatehouse.mjs');
const workDir = realpathSync(mkdtempSync(path.join(tmpdir(), 'gatehouse-crash-writes-')));
const children: ChildProcess[] = [];

after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(workDir, { recursive: true, force: true });
});

function spawnChild(args: readonly string[]): { child: ChildProcess; output: () => string; waitFor: (pattern: RegExp) => Promise<RegExpExecArray> } {
  const child = spawn(process.execPath, args, { env: { ...process.env, GATEHOUSE_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const waitFor = (pattern: RegExp): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${pattern} within 60 s:\n${text}`)), 60_000);
      const check = (): void => {
        const match = pattern.exec(text);
        if (!match) return;
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve(match);
      };
      child.stdout!.on('data', check);
      check();
    });
  return { child, output: () => text, waitFor };
}

async function killNow(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/** PRAGMA integrity_check on a file the killed process was writing. */
function integrity(file: string): string {
  const database = openDatabase(file);
  try {
    return String((database.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check);
  } finally {
    database.close();
  }
}

test('kill -9 during a burst of account writes loses no acknowledged account and leaves no half-written one', async () => {
  const dataDir = path.join(workDir, 'accounts');
  const writer = spawnChild([path.join(here, 'support', 'account-writer.ts'), dataDir]);
  await writer.waitFor(/^ready$/m);
  await writer.waitFor(/(^ack \d{12}\n){40}/m);
  await killNow(writer.child);
  const acknowledged = [...writer.output().matchAll(/^ack (\d{12})$/gm)].map((match) => match[1]!);
  assert.ok(acknowledged.length >= 40);

  assert.equal(integrity(path.join(dataDir, 'accounts.db')), 'ok');
  const registry = await createAccountRegistry(parseConfig({}, 'test').tools.registry, dataDir);
  try {
    const stored = new Map((await registry.list()).map((account) => [account.accountId, account]));
    for (const accountId of acknowledged) assert.ok(stored.has(accountId), `acknowledged account ${accountId} survived`);
    // At most the one write in flight at the kill may exist unacknowledged, and only whole.
    assert.ok(stored.size - acknowledged.length <= 1, `${stored.size} stored, ${acknowledged.length} acknowledged`);
    for (const account of stored.values()) {
      const index = Number(account.accountId) - 100_000_000_000;
      assert.deepEqual(
        { name: account.name, environment: account.environment, region: account.region, externalId: account.externalId, enabled: account.enabled },
        { name: `Account ${index}`, environment: 'crash-test', region: 'eu-west-1', externalId: `ext-${index}`, enabled: true },
      );
    }
  } finally {
    await registry.close?.();
  }
});

test('kill -9 of gatehouse during a burst of tool calls loses no acknowledged audit row, and a restart serves and audits again', async () => {
  const dataDir = path.join(workDir, 'audit');
  // A fixed port, so the restarted server has the same issuer and the user's token stays valid.
  const port = String(await freePort());
  const first = spawnChild([gatehouseBin, 'up', '--port', port, '--data-dir', dataDir]);
  const url = (await first.waitFor(/Gatehouse is running at (\S+)/))[1]!;
  const [, password] = await first.waitFor(/password: (\S+)/);
  const settings = (await (await fetch(`${url}/config.json`)).json()) as { clientId: string; region: string; gatewayUrl: string };

  const cognito = new CognitoIdentityProviderClient({ endpoint: url, region: settings.region, credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' } });
  const signedIn = await cognito.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: settings.clientId, AuthParameters: { USERNAME: 'admin', PASSWORD: password! } }));
  cognito.destroy();
  const token = signedIn.AuthenticationResult!.AccessToken!;

  const connect = async (gatewayUrl: string): Promise<Client> => {
    const client = new Client({ name: 'crash-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(gatewayUrl), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    return client;
  };
  const client = await connect(settings.gatewayUrl);
  const tool = (await client.listTools()).tools.find((candidate) => candidate.name.endsWith('list_accounts'));
  assert.ok(tool, 'the default gateway offers list_accounts');

  // Four callers in parallel; the process is killed with calls in flight once 30 were answered.
  let acknowledged = 0;
  let killed = false;
  const caller = async (): Promise<void> => {
    while (!killed) {
      try {
        const result = await client.callTool({ name: tool.name, arguments: {} });
        if (killed) return; // answered after the kill was decided: do not count it either way
        assert.notEqual(result.isError, true, JSON.stringify(result));
        acknowledged++;
      } catch (error) {
        if (killed) return;
        throw error;
      }
    }
  };
  const callers = Array.from({ length: 4 }, () => caller());
  while (acknowledged < 30) await new Promise((resolve) => setTimeout(resolve, 5));
  killed = true;
  const counted = acknowledged;
  // The reference agent processes `gatehouse up` started (its warm pool): they must not outlive it.
  const agents = childPids(first.child.pid!);
  assert.ok(agents.length >= 1, 'gatehouse up runs at least its warm agent process');
  await killNow(first.child);
  await Promise.allSettled(callers);
  await client.close().catch(() => undefined);

  const auditFile = path.join(dataDir, 'audit.db');
  assert.equal(integrity(auditFile), 'ok');
  const rows = (): number => {
    const database = openDatabase(auditFile);
    try {
      return Number((database.prepare("SELECT COUNT(*) AS n FROM tool_calls WHERE tool = ? AND outcome = 'ok'").get(tool.name) as { n: number }).n);
    } finally {
      database.close();
    }
  };
  const afterCrash = rows();
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && agents.some(alive)) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(agents.filter(alive), [], 'agent processes exit once the runtime that started them is killed');
  assert.ok(afterCrash >= counted, `every acknowledged call is audited: ${afterCrash} rows for ${counted} acknowledged calls`);

  // The same data dir serves again after the crash, and goes on auditing.
  const second = spawnChild([gatehouseBin, 'up', '--port', port, '--data-dir', dataDir]);
  const [, secondUrl] = await second.waitFor(/Gatehouse is running at (\S+)/);
  try {
    const again = await connect(`${secondUrl}/mcp`);
    const result = await again.callTool({ name: tool.name, arguments: {} });
    assert.notEqual(result.isError, true);
    await again.close();
  } finally {
    const exited = once(second.child, 'exit');
    second.child.kill('SIGTERM');
    await exited;
  }
  assert.equal(rows(), afterCrash + 1);
});
