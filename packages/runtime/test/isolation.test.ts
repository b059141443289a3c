import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { readlinkSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { closeServer, createLogger, listen, runtimeSchema } from '@gatehouse/core';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { AgentIsolation, probeIsolation } from '../src/agent-isolation.ts';
import { SESSION, sessionId, startHarness, type Harness } from './support/runtime-harness.ts';
import { agentSockets, agentUid, eventually, fastapiRuntime, FASTAPI_AGENT_DIR, namespaceMembers, socketDirectories } from './support/isolation-probes.ts';

const KILLED_GATEHOUSE = fileURLToPath(new URL('./support/isolated-gatehouse.ts', import.meta.url));

const support = probeIsolation();
const skip = support.available ? false : `network namespaces are not available here (${support.reason}); run the tests as root on Linux`;
if (skip) process.stdout.write(`# skipping namespace isolation tests: ${skip}\n`);

interface AgentAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

async function invoke(harness: Harness, runtime: string, options: { token: string; session: string; payload?: Record<string, unknown> }): Promise<AgentAnswer> {
  const response = await fetch(harness.url(runtime), {
    method: 'POST',
    headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/json', [SESSION]: options.session },
    body: JSON.stringify({ prompt: 'hello there', ...options.payload }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('each session’s agent in its own namespaces (FastAPI example, unchanged, on 8080)', { skip }, () => {
  let harness: Harness;
  let alice: string;
  let bob: string;
  let hostServer: Server;
  let hostConnections = 0;
  let hostPort: number;

  before(async () => {
    // A data dir outside /tmp, so it is hidden by its own mount rather than by the private /tmp.
    harness = await startHarness({ runtimes: [fastapiRuntime('py_agent')], dataParent: '/var/tmp' });
    alice = harness.issuer.sign({ sub: 'alice' });
    bob = harness.issuer.sign({ sub: 'bob' });
    hostServer = createServer((socket) => {
      hostConnections++;
      socket.end();
    });
    hostPort = await listen(hostServer as unknown as HttpServer, 0);
  });
  after(async () => {
    await harness?.close();
    await closeServer(hostServer as unknown as HttpServer);
  });

  test('two sessions run at once, each bound to 8080 in its own namespace, as nobody, with state of their own', async () => {
    const first = await invoke(harness, 'py_agent', { token: alice, session: sessionId('alice-1') });
    const second = await invoke(harness, 'py_agent', { token: alice, session: sessionId('alice-2') });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(second.status, 200, JSON.stringify(second.body));
    const hostNetns = readlinkSync('/proc/self/ns/net');
    assert.notEqual(first.body.netns, second.body.netns, 'two network namespaces');
    for (const answer of [first, second]) {
      assert.notEqual(answer.body.netns, hostNetns);
      assert.equal(answer.body.uid, agentUid(), 'the agent runs as nobody');
      assert.equal(answer.body.invocations, 1);
      assert.equal(answer.body.hasWorkloadAccessToken, false);
    }
    const members = [namespaceMembers(String(first.body.netns)), namespaceMembers(String(second.body.netns))];
    assert.ok(members[0]!.length >= 2 && members[1]!.length >= 2, 'sandbox and agent processes in each namespace');
    assert.equal(new Set([...members[0]!, ...members[1]!]).size, members[0]!.length + members[1]!.length, 'no process shared');
    const again = await invoke(harness, 'py_agent', { token: alice, session: sessionId('alice-1') });
    assert.equal(again.body.invocations, 2, 'the same session reaches the same process');
    assert.equal(again.body.netns, first.body.netns);
    assert.equal((await invoke(harness, 'py_agent', { token: alice, session: sessionId('alice-2') })).body.invocations, 2);
    assert.equal(agentSockets().length, 2, 'one socket per running session');
  });

  test('another user cannot reach a session, and its agent sees nothing of the attempt', async () => {
    const refused = await invoke(harness, 'py_agent', { token: bob, session: sessionId('alice-1') });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.message?.toString().includes('another principal'), true);
    const after = await invoke(harness, 'py_agent', { token: alice, session: sessionId('alice-1') });
    assert.equal(after.body.invocations, 3, 'the refused call never reached the agent');
  });

  test('the agent reaches Gatehouse’s own port, and nothing else: not the host’s loopback, not the outside', async () => {
    const gatehousePort = new URL(harness.baseUrl).port;
    const own = await invoke(harness, 'py_agent', { token: alice, session: sessionId('alice-1'), payload: { connect: `127.0.0.1:${gatehousePort}` } });
    assert.equal(own.body.connect, 'connected');
    const host = await invoke(harness, 'py_agent', { token: alice, session: sessionId('alice-1'), payload: { connect: `127.0.0.1:${hostPort}` } });
    assert.match(String(host.body.connect), /^failed: ConnectionRefusedError/);
    assert.equal(hostConnections, 0, 'the host-side server saw no connection');
    const outside = await invoke(harness, 'py_agent', { token: alice, session: sessionId('alice-1'), payload: { connect: '192.0.2.1:80' } });
    assert.match(String(outside.body.connect), /^failed: OSError: .*unreachable/i);
  });

  test('the agent cannot read Gatehouse’s data dir, and has a /tmp of its own', async () => {
    await chmod(harness.dir, 0o755);
    await writeFile(path.join(harness.dir, 'secret.txt'), 'do not read', { mode: 0o644 });
    await writeFile('/tmp/gatehouse-host-marker.txt', 'host tmp', { mode: 0o644 });
    try {
      const file = await invoke(harness, 'py_agent', { token: alice, session: sessionId('alice-1'), payload: { read: path.join(harness.dir, 'secret.txt') } });
      assert.match(String(file.body.read), /^failed: FileNotFoundError/);
      const listing = await invoke(harness, 'py_agent', { token: alice, session: sessionId('alice-1'), payload: { read: harness.dir } });
      assert.equal(listing.body.read, 'listed: []', 'an empty directory is all it sees');
      const tmp = await invoke(harness, 'py_agent', { token: alice, session: sessionId('alice-1'), payload: { read: '/tmp/gatehouse-host-marker.txt' } });
      assert.match(String(tmp.body.read), /^failed: FileNotFoundError/);
    } finally {
      await rm('/tmp/gatehouse-host-marker.txt', { force: true });
    }
  });

  test('stop-runtime-session leaves no agent, namespace or socket', async () => {
    const session = sessionId('stopme');
    const answer = await invoke(harness, 'py_agent', { token: alice, session });
    const netns = String(answer.body.netns);
    const sockets = agentSockets().length;
    assert.ok(namespaceMembers(netns).length >= 2);
    const stopped = await fetch(harness.url('py_agent', 'stopruntimesession'), { method: 'POST', headers: { authorization: `Bearer ${alice}`, [SESSION]: session }, body: '{}' });
    assert.equal(stopped.status, 200);
    await eventually(() => namespaceMembers(netns).length === 0, 'the namespace has no process left');
    assert.equal(agentSockets().length, sockets - 1);
  });

  test('an agent that crashes gets 424 and leaves no agent, namespace or socket', async () => {
    const session = sessionId('crash');
    const answer = await invoke(harness, 'py_agent', { token: alice, session });
    const netns = String(answer.body.netns);
    const sockets = agentSockets().length;
    const crashed = await invoke(harness, 'py_agent', { token: alice, session, payload: { crash: true } });
    assert.equal(crashed.status, 424);
    assert.match(String(crashed.body.message), /The agent did not answer/);
    await eventually(() => namespaceMembers(netns).length === 0, 'the namespace has no process left');
    await eventually(() => agentSockets().length === sockets - 1, 'the socket is removed');
    const fresh = await invoke(harness, 'py_agent', { token: alice, session });
    // Not compared by namespace: the kernel may give the new namespace the freed one's inode number.
    assert.equal(fresh.body.invocations, 1, 'the next call starts a fresh process');
  });

  test('a Python agent unpacked into Gatehouse’s data dir (as code zips are) runs isolated and reads its own code', async () => {
    // Like the control plane's `{dataDir}/runtime-code/{id}/{version}`: private parent, readable version directory.
    const code = path.join(harness.dir, 'runtime-code', 'zip_agent', 'v1');
    await mkdir(path.dirname(code), { recursive: true, mode: 0o700 });
    await cp(FASTAPI_AGENT_DIR, code, { recursive: true });
    await chmod(code, 0o755);
    const config = runtimeSchema.parse({ ...fastapiRuntime('zip_agent', { agent: { command: ['/usr/bin/python3', 'main.py'], cwd: code } }), authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: harness.issuer.discoveryUrl, allowedClients: ['test-client'] } } });
    // As the control plane serves a runtime it created.
    await harness.runtime.addRuntime({ id: 'zip_agent', arn: 'arn:aws:bedrock-agentcore:local:000000000000:runtime/zip_agent', config, endpoints: new Map() });
    const answer = await invoke(harness, 'zip_agent', { token: alice, session: sessionId('zip'), payload: { read: path.join(code, 'main.py') } });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.match(String(answer.body.read), /^read \d+ bytes$/);
    assert.equal(answer.body.uid, agentUid());
    const secret = await invoke(harness, 'zip_agent', { token: alice, session: sessionId('zip'), payload: { read: path.join(harness.dir, 'runtime-code') } });
    assert.equal(secret.body.read, "listed: ['zip_agent']", 'only the path to its own code exists');
  });
});

describe('the isolated agent calls a gateway with its workload token', { skip }, () => {
  let harness: Harness;
  let gateway: HttpServer;
  const seen: { method: string; authorization: string | undefined }[] = [];

  before(async () => {
    // A stand-in MCP gateway on the host's loopback, reachable from inside only because it is listed in isolation.egress.
    gateway = createHttpServer((request, response) => {
      let text = '';
      request.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      request.on('end', () => {
        const message = JSON.parse(text) as { id?: number; method: string };
        seen.push({ method: message.method, authorization: request.headers.authorization });
        if (message.id === undefined) return void response.writeHead(202).end();
        const result = message.method === 'initialize' ? { protocolVersion: '2025-03-26', capabilities: { tools: {} }, serverInfo: { name: 'stand-in', version: '1' } } : { tools: [{ name: 'ops___list_buckets', inputSchema: { type: 'object' } }] };
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: message.id, result }));
      });
    });
    const port = await listen(gateway, 0);
    harness = await startHarness({
      runtimes: [fastapiRuntime('gw_agent', { isolation: { mode: 'namespace', egress: [`127.0.0.1:${port}`] }, environmentVariables: { GATEHOUSE_GATEWAY_URL: `http://127.0.0.1:${port}/mcp` } })],
      deps: { workloadIdentity: { workloadTokenForJwt: async () => ({ workloadAccessToken: 'wat-for-gw-agent', expiresIn: 900 }) } },
    });
  });
  after(async () => {
    await harness?.close();
    await closeServer(gateway);
  });

  test('tools/list over MCP JSON-RPC reaches the gateway with the workload token as Bearer', async () => {
    const answer = await invoke(harness, 'gw_agent', { token: harness.issuer.sign({ sub: 'gina' }), session: sessionId('gateway'), payload: { gateway: 'tools/list' } });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.hasWorkloadAccessToken, true);
    assert.deepEqual(answer.body.gateway, { jsonrpc: '2.0', id: 2, result: { tools: [{ name: 'ops___list_buckets', inputSchema: { type: 'object' } }] } });
    assert.deepEqual(seen, ['initialize', 'notifications/initialized', 'tools/list'].map((method) => ({ method, authorization: 'Bearer wat-for-gw-agent' })));
  });
});

describe('idle timeout with isolation', { skip }, () => {
  let harness: Harness;
  let now = Date.now();

  before(async () => {
    harness = await startHarness({ runtimes: [fastapiRuntime('idle_agent', { lifecycleConfiguration: { idleRuntimeSessionTimeout: 60, maxLifetime: 120 } })], clock: () => now });
  });
  after(() => harness?.close());

  test('an idle session is reaped: no agent, namespace or socket left', async () => {
    const token = harness.issuer.sign({ sub: 'carol' });
    const answer = await invoke(harness, 'idle_agent', { token, session: sessionId('idle') });
    const netns = String(answer.body.netns);
    assert.ok(namespaceMembers(netns).length >= 2);
    now += 61_000;
    await (harness.runtime as unknown as { sweep(): Promise<void> }).sweep();
    await eventually(() => namespaceMembers(netns).length === 0, 'the namespace has no process left');
    assert.deepEqual(agentSockets(), []);
  });

  test('max lifetime ends a busy-looking session too', async () => {
    const token = harness.issuer.sign({ sub: 'carol' });
    const answer = await invoke(harness, 'idle_agent', { token, session: sessionId('lifetime') });
    const netns = String(answer.body.netns);
    now += 121_000;
    await (harness.runtime as unknown as { sweep(): Promise<void> }).sweep();
    await eventually(() => namespaceMembers(netns).length === 0, 'the namespace has no process left');
    assert.deepEqual(agentSockets(), []);
  });
});

describe('SIGKILL of Gatehouse with isolation', { skip }, () => {
  test('leaves no agent or namespace, and the next start removes its socket directory', async () => {
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', KILLED_GATEHOUSE], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
    const started = JSON.parse(line) as { status: number; netns: string; dir: string };
    try {
      assert.equal(started.status, 200);
      assert.ok(namespaceMembers(started.netns).length >= 2, 'the agent runs in its namespace');
      assert.equal(socketDirectories(child.pid!).length, 1);
      child.kill('SIGKILL');
      await once(child, 'exit');
      await eventually(() => namespaceMembers(started.netns).length === 0, 'the namespace has no process left');
      // A killed process cannot remove its directory; the next Gatehouse on this host does, at start.
      new AgentIsolation({ dataDir: started.dir, baseUrl: 'http://127.0.0.1:1', logger: createLogger({ level: 'silent' }) });
      assert.deepEqual(socketDirectories(child.pid!), []);
    } finally {
      child.kill('SIGKILL');
      await rm(started.dir, { recursive: true, force: true });
    }
  });
});

describe('Gatehouse and the agent on the same port (gatehouse up on 8080, an agent on 8080)', () => {
  test('Gatehouse’s relay moves to another port inside, and the agent’s URLs of it follow', async () => {
    const isolation = new AgentIsolation({ dataDir: '/nonexistent', baseUrl: 'http://localhost:8080', logger: createLogger({ level: 'silent' }), support: { available: true, userNamespace: false, reason: 'test' } });
    try {
      const prepared = await isolation.prepare({
        command: ['agent'],
        cwd: undefined,
        config: { mode: 'namespace', agentPort: 8080, egress: ['127.0.0.1:11434'] },
        env: { GATEHOUSE_GATEWAY_URL: 'http://localhost:8080/mcp', OTHER: 'http://127.0.0.1:80801/x', MODEL_URL: 'http://127.0.0.1:11434/v1' },
      });
      const plan = JSON.parse(prepared.command.at(-1)!) as { egress: { port: number; socket: string }[] };
      assert.deepEqual(plan.egress, [{ port: 61_080, socket: '8080.sock' }, { port: 11_434, socket: '11434.sock' }]);
      assert.deepEqual(prepared.env, { GATEHOUSE_GATEWAY_URL: 'http://localhost:61080/mcp', OTHER: 'http://127.0.0.1:80801/x', MODEL_URL: 'http://127.0.0.1:11434/v1', PORT: '8080', HOME: '/tmp', TMPDIR: '/tmp' });
    } finally {
      await isolation.close();
    }
  });

  test('asking for namespaces where the host has none is refused, naming why', () => {
    const isolation = new AgentIsolation({ dataDir: '/nonexistent', baseUrl: 'http://localhost:8080', logger: createLogger({ level: 'silent' }), support: { available: false, userNamespace: false, reason: 'network namespaces are Linux-only (this is darwin)' } });
    assert.throws(() => isolation.modeFor('py_agent', { mode: 'namespace', agentPort: 8080, egress: [] }), /Runtime py_agent asks for isolation\.mode "namespace", but network namespaces are Linux-only \(this is darwin\)/);
    assert.equal(isolation.modeFor('py_agent', { mode: 'auto', agentPort: 8080, egress: [] }), 'none');
  });
});

describe('without isolation (isolation.mode none)', () => {
  let harness: Harness;
  before(async () => {
    harness = await startHarness({ runtimes: [fastapiRuntime('fixed_port', { isolation: { mode: 'none' } })] });
  });
  after(() => harness?.close());

  test('an agent that binds a fixed port fails with 424 naming the cause', async () => {
    const started = Date.now();
    const answer = await invoke(harness, 'fixed_port', { token: harness.issuer.sign({ sub: 'dave' }), session: sessionId('fixed') });
    assert.equal(answer.status, 424, JSON.stringify(answer.body));
    // Port 8080 free: it listens there instead of PORT; taken: it dies with "address already in use".
    assert.match(String(answer.body.message), /(listens on port 8080 instead of PORT=\d+|binds a fixed port that is already taken).*isolation is off \(isolation\.mode is "none"\)/);
    assert.ok(Date.now() - started < 10_000, 'said at once, not after the start timeout');
  });
});
