import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { createLogger, type ResolvedIsolationConfig } from '@gatehouse/core';
import { spawnAgent, type AgentEndpoint } from '../src/agent-endpoint.ts';
import { AgentIsolation, LAUNCHER_COMPILE_CACHE, probeIsolation } from '../src/agent-isolation.ts';
import { RuntimeError } from '../src/runtime-error.ts';

const support = probeIsolation();
const skip = support.available ? false : `network namespaces are not available here (${support.reason}); run the tests as root on Linux`;
if (skip) process.stdout.write(`# skipping launcher compile cache tests: ${skip}\n`);

// An agent that tells what NODE_COMPILE_CACHE it was given (inline: nothing to mount back inside the sandbox).
const ENV_AGENT = `
const { createServer } = process.getBuiltinModule('node:http');
createServer((request, response) => {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(request.url === '/ping' ? '{"status":"Healthy"}' : JSON.stringify({ compileCache: process.env.NODE_COMPILE_CACHE ?? null }));
}).listen(Number(process.env.PORT), '127.0.0.1');
`;
const CONFIG: ResolvedIsolationConfig = { mode: 'namespace', agentPort: 8080, egress: [] };
const logger = createLogger({ level: 'silent' });

async function start(isolation: AgentIsolation, command: readonly string[], env: Record<string, string> = {}): Promise<AgentEndpoint> {
  return spawnAgent({ command, env, startTimeoutMs: 20_000, logger, isolation: { sandbox: isolation, config: CONFIG } });
}

async function seenCompileCache(endpoint: AgentEndpoint): Promise<unknown> {
  const answer = await endpoint.pool.request({ path: '/invocations', method: 'POST', body: '{}' });
  return ((await answer.body.json()) as { compileCache: unknown }).compileCache;
}

/** Each cache file with its modification time: a hit leaves them as they were. */
function cacheFiles(directory: string): Record<string, number> {
  const files: Record<string, number> = {};
  for (const version of readdirSync(directory)) {
    for (const entry of readdirSync(path.join(directory, version))) files[`${version}/${entry}`] = statSync(path.join(directory, version, entry)).mtimeMs;
  }
  return files;
}

describe('the isolation launcher’s compile cache', { skip }, () => {
  let dataDir: string;

  before(() => {
    // Outside /tmp, like a real data dir: hidden from the agent by its own mount.
    dataDir = mkdtempSync(path.join('/var/tmp', 'gatehouse-compile-cache-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  test('is written into the data dir (0700), survives a restart of the runtime, and is not handed to the agent', async () => {
    const cache = path.join(dataDir, LAUNCHER_COMPILE_CACHE);
    const first = new AgentIsolation({ dataDir, baseUrl: 'http://127.0.0.1:9', logger });
    try {
      const agent = await start(first, [process.execPath, '-e', ENV_AGENT]);
      assert.equal(await seenCompileCache(agent), null, 'the agent does not get the launcher’s cache');
      await agent.stop();
    } finally {
      await first.close();
    }
    assert.equal(statSync(cache).mode & 0o777, 0o700, 'private to the runtime');
    const written = cacheFiles(cache);
    assert.ok(Object.keys(written).length >= 2, `the launcher's stripped TypeScript and its code cache: ${JSON.stringify(written)}`);

    // A restart (a new runtime on the same data dir) reads the entries and rewrites none of them.
    const second = new AgentIsolation({ dataDir, baseUrl: 'http://127.0.0.1:9', logger });
    try {
      const agent = await start(second, [process.execPath, '-e', ENV_AGENT], { NODE_COMPILE_CACHE: '/tmp/agent-own-cache' });
      assert.equal(await seenCompileCache(agent), '/tmp/agent-own-cache', 'an agent’s own NODE_COMPILE_CACHE is kept');
      await agent.stop();
    } finally {
      await second.close();
    }
    assert.deepEqual(cacheFiles(cache), written);
  });

  test('an agent that exits before /ping answers is still reported, with its exit code', async () => {
    const isolation = new AgentIsolation({ dataDir, baseUrl: 'http://127.0.0.1:9', logger });
    try {
      await assert.rejects(start(isolation, [process.execPath, '-e', 'process.stderr.write("broken config\\n"); process.exit(3)']), (error: unknown) => {
        assert.ok(error instanceof RuntimeError);
        assert.match(error.message, /exited with code 3 before GET \/ping answered/);
        assert.match(error.message, /broken config/);
        return true;
      });
    } finally {
      await isolation.close();
    }
  });
});
