// Gatehouse's local `gatehouseAgent.command` through the API: allowed only under controlPlane.commandRoots,
// READY once it answered /ping, CREATE_FAILED / UPDATE_FAILED naming the cause otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  BedrockAgentCoreControlServiceException,
  CreateAgentRuntimeCommand,
  GetAgentRuntimeCommand,
  GetAgentRuntimeEndpointCommand,
  ListAgentRuntimesCommand,
  ListWorkloadIdentitiesCommand,
  UpdateAgentRuntimeCommand,
  type CreateAgentRuntimeCommandInput,
} from '@aws-sdk/client-bedrock-agentcore-control';
import type { RuntimeConfig } from '@gatehouse/core';
import { startControlPlane, type ControlPlaneServer } from './support/control-plane-server.ts';

const spec = (name: string): CreateAgentRuntimeCommandInput => ({
  agentRuntimeName: name,
  agentRuntimeArtifact: { codeConfiguration: { code: { s3: { bucket: 'agent-code', prefix: 'unused.zip' } }, runtime: 'NODE_22', entryPoint: ['main.js'] } },
  roleArn: 'arn:aws:iam::000000000000:role/agent',
  networkConfiguration: { networkMode: 'PUBLIC' },
});

const AGENT = `require('node:http').createServer((q, s) => { s.writeHead(q.url === '/ping' ? 200 : 404, { 'content-type': 'application/json' }); s.end('{"status":"Healthy"}'); }).listen(Number(process.env.PORT), '127.0.0.1');`;

interface Fixture {
  readonly root: string;
  readonly outside: string;
  readonly served: Map<string, RuntimeConfig>;
  readonly server: ControlPlaneServer;
}

async function withRoots(work: (fixture: Fixture) => Promise<void>): Promise<void> {
  const base = mkdtempSync(path.join(tmpdir(), 'command-agent-'));
  const root = path.join(base, 'agents');
  const outside = path.join(base, 'elsewhere');
  mkdirSync(path.join(root, 'echo'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(path.join(root, 'echo', 'main.js'), AGENT);
  writeFileSync(path.join(root, 'echo', 'silent.js'), 'setInterval(() => {}, 1000);');
  writeFileSync(path.join(root, 'echo', 'crash.js'), 'process.exit(3);');
  writeFileSync(path.join(outside, 'main.js'), AGENT);
  symlinkSync(path.join(outside, 'main.js'), path.join(root, 'echo', 'link.js'));
  const served = new Map<string, RuntimeConfig>();
  const runtimes = {
    async addRuntime(runtime: { id: string; config: RuntimeConfig }) {
      served.set(runtime.id, runtime.config);
    },
    async removeRuntime(id: string) {
      served.delete(id);
    },
  };
  const server = await startControlPlane(path.join(base, 'data'), { runtimes, controlPlane: { commandRoots: [root], startTimeoutSeconds: 2 } });
  try {
    await work({ root, outside, served, server });
  } finally {
    await server.close();
  }
}

async function refusal(promise: Promise<unknown>): Promise<{ name: string; message: string; fields: string[] }> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof BedrockAgentCoreControlServiceException, String(error));
    return { name: error.name, message: error.message, fields: ((error as unknown as { fieldList?: { name: string }[] }).fieldList ?? []).map((field) => field.name) };
  }
  assert.fail('expected a refusal');
}

test('a command under a command root answers /ping and is READY, served as that command; Get shows it', async () => {
  await withRoots(async ({ root, served, server }) => {
    const created = await server.clientWithAgent({ command: ['node', path.join(root, 'echo', 'main.js')] }).send(new CreateAgentRuntimeCommand(spec('local_echo')));
    assert.equal(created.status, 'READY');
    const runtime = await server.client().send(new GetAgentRuntimeCommand({ agentRuntimeId: created.agentRuntimeId }));
    assert.equal(runtime.status, 'READY');
    assert.equal(runtime.failureReason, undefined);
    const config = served.get(created.agentRuntimeId!);
    assert.ok(config && 'command' in config.agent, 'served as a command agent');
    assert.deepEqual([config.agent.command, config.agent.cwd], [['node', path.join(root, 'echo', 'main.js')], path.join(root, 'echo')]);
  });
});

test('a missing program, an agent that exits and one that never answers /ping are CREATE_FAILED / UPDATE_FAILED with the cause, and not served', async () => {
  await withRoots(async ({ root, served, server }) => {
    const create = (name: string, command: string[]) => server.clientWithAgent({ command }).send(new CreateAgentRuntimeCommand(spec(name)));
    const missing = await create('missing_agent', [path.join(root, 'echo', 'nope')]);
    assert.equal(missing.status, 'CREATE_FAILED');
    const missingScript = await create('missing_script', ['node', path.join(root, 'echo', 'absent.js')]);
    const crashed = await create('crashed_agent', ['node', path.join(root, 'echo', 'crash.js')]);
    const started = Date.now();
    const silent = await create('silent_agent', ['node', path.join(root, 'echo', 'silent.js')]);
    assert.ok(Date.now() - started < 10_000, 'bounded by controlPlane.startTimeoutSeconds');
    const reason = async (id: string | undefined) => (await server.client().send(new GetAgentRuntimeCommand({ agentRuntimeId: id }))).failureReason ?? '';
    assert.match(await reason(missing.agentRuntimeId), /^command not found: nope/);
    assert.match(await reason(missingScript.agentRuntimeId), /^command not found: absent\.js/);
    assert.equal(crashed.status, 'CREATE_FAILED');
    assert.match(await reason(crashed.agentRuntimeId), /exited \(code 3\) before answering GET \/ping/);
    assert.equal(silent.status, 'CREATE_FAILED');
    assert.match(await reason(silent.agentRuntimeId), /never answered GET \/ping on \$PORT within 2 s/);
    assert.doesNotMatch(await reason(missing.agentRuntimeId), new RegExp(root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'no server path in the reason');
    assert.equal(served.size, 0, 'nothing failed is served');

    // A good version 1, then a broken update: UPDATE_FAILED with the cause, and version 1 still served.
    const good = await create('updated_agent', ['node', path.join(root, 'echo', 'main.js')]);
    assert.equal(good.status, 'READY');
    const update = await server.clientWithAgent({ command: ['node', path.join(root, 'echo', 'crash.js')] }).send(new UpdateAgentRuntimeCommand({ ...spec('x'), agentRuntimeId: good.agentRuntimeId }));
    assert.deepEqual([update.agentRuntimeVersion, update.status], ['2', 'UPDATE_FAILED']);
    assert.match(await reason(good.agentRuntimeId), /exited \(code 3\)/);
    // AWS's liveVersion: the failed update leaves version 1 answering on DEFAULT.
    const served1 = served.get(good.agentRuntimeId!);
    assert.ok(served1 && 'command' in served1.agent);
    assert.deepEqual(served1.agent.command, ['node', path.join(root, 'echo', 'main.js')]);
    const endpoint = await server.client().send(new GetAgentRuntimeEndpointCommand({ agentRuntimeId: good.agentRuntimeId, endpointName: 'DEFAULT' }));
    assert.deepEqual([endpoint.liveVersion, endpoint.targetVersion, endpoint.status], ['1', '2', 'UPDATE_FAILED']);
  });
});

test('commands outside the roots, flags to an interpreter, symlinks out and relative paths are refused naming the fix; nothing is created', async () => {
  await withRoots(async ({ root, outside, server }) => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['a shell', { command: ['/bin/sh', '-c', 'id'] }, 'gatehouseAgent.command'],
      ['an interpreter flag', { command: ['node', '-e', 'require("fs")'] }, 'gatehouseAgent.command'],
      ['a script outside', { command: ['node', path.join(outside, 'main.js')] }, 'gatehouseAgent.command'],
      ['a symlink out of the root', { command: ['node', path.join(root, 'echo', 'link.js')] }, 'gatehouseAgent.command'],
      ['a dot-dot escape', { command: ['node', path.join(root, 'echo', '..', '..', 'elsewhere', 'main.js')] }, 'gatehouseAgent.command'],
      ['a relative path without cwd', { command: ['node', 'echo/main.js'] }, 'gatehouseAgent.command'],
      ['an interpreter by path', { command: [path.join(outside, 'node'), path.join(root, 'echo', 'main.js')] }, 'gatehouseAgent.command'],
      ['a cwd outside', { command: ['node', path.join(root, 'echo', 'main.js')], cwd: outside }, 'gatehouseAgent.cwd'],
      ['url and command', { command: ['node', path.join(root, 'echo', 'main.js')], url: 'http://127.0.0.1:1' }, 'gatehouseAgent'],
      ['a cwd with a url', { url: 'http://127.0.0.1:1', cwd: root }, 'gatehouseAgent.cwd'],
      ['an unknown field', { command: ['node', path.join(root, 'echo', 'main.js')], env: { A: '1' } }, 'gatehouseAgent.env'],
    ];
    for (const [label, agent, field] of cases) {
      const refused = await refusal(server.clientWithAgent(agent).send(new CreateAgentRuntimeCommand(spec('sneaky'))));
      assert.deepEqual([refused.name, refused.fields], ['ValidationException', [field]], `${label}: ${refused.message}`);
    }
    // Loader and interpreter variables would run other code than the program under the root.
    for (const name of ['NODE_OPTIONS', 'PATH', 'LD_PRELOAD', 'PYTHONPATH', 'HOME']) {
      const refused = await refusal(server.clientWithAgent({ command: ['node', path.join(root, 'echo', 'main.js')] }).send(new CreateAgentRuntimeCommand({ ...spec('sneaky'), environmentVariables: { [name]: outside } })));
      assert.deepEqual([refused.name, refused.fields], ['ValidationException', [`environmentVariables.${name}`]], refused.message);
    }
    const withPlainVariable = await server.clientWithAgent({ command: ['node', path.join(root, 'echo', 'main.js')] }).send(new CreateAgentRuntimeCommand({ ...spec('plain_env'), environmentVariables: { GREETING: 'hi' } }));
    assert.equal(withPlainVariable.status, 'READY', 'positive control: an ordinary variable is fine');
    const outsideRefusal = await refusal(server.clientWithAgent({ command: ['node', path.join(outside, 'main.js')] }).send(new CreateAgentRuntimeCommand(spec('sneaky'))));
    assert.match(outsideRefusal.message, /controlPlane\.commandRoots/);
    // Relative to a cwd inside the root is fine (positive control).
    const relative = await server.clientWithAgent({ command: ['node', 'main.js'], cwd: path.join(root, 'echo') }).send(new CreateAgentRuntimeCommand(spec('relative_ok')));
    assert.equal(relative.status, 'READY');
    assert.deepEqual((await server.client().send(new ListAgentRuntimesCommand({}))).agentRuntimes?.map((runtime) => runtime.agentRuntimeName), ['ops_agent', 'plain_env', 'relative_ok']);
    assert.deepEqual((await server.client().send(new ListWorkloadIdentitiesCommand({}))).workloadIdentities?.map((identity) => identity.name).length, 3, 'no workload identity without its runtime');
  });
});

test('without controlPlane.commandRoots (the default) every command is refused, naming the setting', async () => {
  const server = await startControlPlane();
  try {
    const refused = await refusal(server.clientWithAgent({ command: ['/usr/bin/env'] }).send(new CreateAgentRuntimeCommand(spec('cmd_agent'))));
    assert.deepEqual([refused.name, refused.fields], ['ValidationException', ['gatehouseAgent.command']]);
    assert.match(refused.message, /local commands are off.*controlPlane\.commandRoots/);
  } finally {
    await server.close();
  }
});
