import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger } from '@gatehouse/core';
import { startGatehouse, type RunningGatehouse } from '@gatehouse/cli';
import { startRedisServer, type RedisServer } from '@gatehouse/testing/redis-server';

const dirs: string[] = [];
const running: RunningGatehouse[] = [];
let redis: RedisServer | undefined;
after(async () => {
  await Promise.allSettled(running.map((instance) => instance.close()));
  await redis?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function start(config: unknown, only?: ('identity' | 'runtime' | 'gateway')[]): Promise<RunningGatehouse> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-ready-'));
  dirs.push(dataDir);
  const instance = await startGatehouse({ dataDir, port: 0, config, logger: createLogger({ level: 'silent' }), ...(only ? { only } : {}) });
  running.push(instance);
  return instance;
}

async function ready(url: string): Promise<{ status: number; body: { status: string; checks: Record<string, string> } }> {
  const response = await fetch(`${url}/ready`);
  assert.equal(response.headers.get('cache-control'), 'no-store');
  return { status: response.status, body: (await response.json()) as { status: string; checks: Record<string, string> } };
}

test('/ready names the components this instance serves; the embedded store is always ready', async () => {
  const instance = await start({}, ['identity', 'gateway']);
  const answer = await ready(instance.url);
  assert.equal(answer.status, 200);
  assert.equal(answer.body.status, 'Ready');
  assert.equal(answer.body.checks.gateway, 'serving');
  assert.equal(answer.body.checks.identity, 'serving');
  assert.equal(answer.body.checks.store, 'embedded');
  assert.equal(answer.body.checks.runtime, undefined, 'a gateway-and-identity instance does not claim a runtime');
});

test('/ready answers 503 while Redis is down and 200 again when it returns, while /ping (liveness) stays 200', async () => {
  redis = await startRedisServer();
  const instance = await start({ store: redis.url }, ['identity', 'runtime']);
  assert.deepEqual(await ready(instance.url).then(({ status, body }) => ({ status, store: body.checks.store, runtime: body.checks.runtime })), { status: 200, store: 'ok', runtime: 'serving' });
  await redis.kill();
  const down = await ready(instance.url);
  assert.equal(down.status, 503);
  assert.equal(down.body.status, 'NotReady');
  assert.equal(down.body.checks.store, 'unavailable');
  assert.equal((await fetch(`${instance.url}/ping`)).status, 200, 'the process is alive: do not restart it, just route elsewhere');
  await redis.restart();
  const deadline = Date.now() + 10_000;
  let status = 503;
  while (Date.now() < deadline && status !== 200) {
    status = (await ready(instance.url)).status;
    if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(status, 200);
  const metrics = await (await fetch(`${instance.url}/metrics`)).text();
  assert.match(metrics, /^gatehouse_store_unavailable_total\{operation="ping",store="redis"\} [1-9]\d*$/m, 'refusals during the outage were counted');
});
