// Runtimes created through the control plane with an agent URL answer invocations at once, on their endpoints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BedrockAgentCoreClient, InvokeAgentRuntimeCommand } from '@aws-sdk/client-bedrock-agentcore';
import {
  BedrockAgentCoreControlClient,
  CreateAgentRuntimeCommand,
  CreateAgentRuntimeEndpointCommand,
  DeleteAgentRuntimeCommand,
  GetAgentRuntimeCommand,
  UpdateAgentRuntimeCommand,
  type CreateAgentRuntimeCommandInput,
} from '@aws-sdk/client-bedrock-agentcore-control';
import { createLogger, listen, closeServer } from '@gatehouse/core';
import { startGatehouse, type RunningGatehouse } from '../src/start-gatehouse.ts';
import { startTestIssuer } from '@gatehouse/testing/test-issuer';

/** A stand-in agent answering /ping and /invocations with its own label, counting the calls it gets. */
async function startAgent(label: string): Promise<{ url: string; calls: () => number; lastHeaders: () => Record<string, unknown>; server: Server }> {
  let calls = 0;
  let lastHeaders: Record<string, unknown> = {};
  const server = createServer((request, response) => {
    if (request.url === '/ping') return void response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"Healthy"}');
    request.resume();
    request.on('end', () => {
      calls++;
      lastHeaders = { ...request.headers };
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ agent: label }));
    });
  });
  const port = await listen(server, 0, '127.0.0.1');
  return { url: `http://127.0.0.1:${port}`, calls: () => calls, lastHeaders: () => lastHeaders, server };
}

function credentials(gatehouse: RunningGatehouse): { accessKeyId: string; secretAccessKey: string } {
  const text = readFileSync(gatehouse.adminCredentialsFile, 'utf8');
  return { accessKeyId: /aws_access_key_id\s*=\s*(\S+)/.exec(text)![1]!, secretAccessKey: /aws_secret_access_key\s*=\s*(\S+)/.exec(text)![1]! };
}

/**
 * The control-plane client, adding Gatehouse's `gatehouseAgent` field to the signed body (the SDK knows only AWS's
 * fields): `{url}`, or `{command}` when given a JSON list.
 */
function controlClient(gatehouse: RunningGatehouse, agentUrl: () => string | undefined): BedrockAgentCoreControlClient {
  const client = new BedrockAgentCoreControlClient({ endpoint: gatehouse.url, region: gatehouse.config.region, credentials: credentials(gatehouse), maxAttempts: 1 });
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { body?: unknown; headers: Record<string, string> };
      const url = agentUrl();
      // The SDK's body is a byte adapter: read it as text once.
      const body = request.body;
      const text = body === undefined ? '' : ArrayBuffer.isView(body) ? Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8') : String(body);
      if (url && text.includes('agentRuntimeArtifact')) {
        const extended = JSON.stringify({ ...(JSON.parse(text) as object), gatehouseAgent: url.startsWith('[') ? { command: JSON.parse(url) as string[] } : { url } });
        request.body = extended;
        request.headers['content-length'] = String(Buffer.byteLength(extended));
      }
      return next(args);
    },
    { step: 'build', name: 'gatehouseAgent' },
  );
  return client;
}

async function invoke(gatehouse: RunningGatehouse, arn: string, qualifier?: string): Promise<string> {
  const client = new BedrockAgentCoreClient({ endpoint: gatehouse.url, region: gatehouse.config.region, credentials: credentials(gatehouse), maxAttempts: 1 });
  const answer = await client.send(
    new InvokeAgentRuntimeCommand({ agentRuntimeArn: arn, ...(qualifier ? { qualifier } : {}), runtimeSessionId: `session-${qualifier ?? 'default'}-${'x'.repeat(32)}`, payload: new TextEncoder().encode('{"prompt":"hi"}') }),
  );
  return (JSON.parse(await answer.response!.transformToString()) as { agent: string }).agent;
}

test('a runtime created with an agent URL is invocable at once; PROD pins version 1 while DEFAULT follows the latest; deleted, it answers 404', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-serving-'));
  const first = await startAgent('v1');
  const second = await startAgent('v2');
  const start = (): Promise<RunningGatehouse> =>
    startGatehouse({ dataDir: path.join(dir, 'data'), port: 0, logger: createLogger({ level: 'silent' }), config: { tools: { sandbox: { enabled: false } } } });
  let gatehouse = await start();
  let agentUrl: string | undefined = first.url;
  try {
    const control = controlClient(gatehouse, () => agentUrl);
    const input: CreateAgentRuntimeCommandInput = {
      agentRuntimeName: 'served_agent',
      agentRuntimeArtifact: { codeConfiguration: { code: { s3: { bucket: 'agent-code', prefix: 'agent.zip' } }, runtime: 'PYTHON_3_12', entryPoint: ['main.py'] } },
      roleArn: 'arn:aws:iam::000000000000:role/agent',
      networkConfiguration: { networkMode: 'PUBLIC' },
    };
    const created = await control.send(new CreateAgentRuntimeCommand(input));
    assert.equal(created.status, 'READY');
    const arn = created.agentRuntimeArn!;
    assert.equal(await invoke(gatehouse, arn), 'v1');

    agentUrl = second.url;
    const updated = await control.send(new UpdateAgentRuntimeCommand({ ...input, agentRuntimeId: created.agentRuntimeId }));
    assert.deepEqual([updated.agentRuntimeVersion, updated.status], ['2', 'READY']);
    await control.send(new CreateAgentRuntimeEndpointCommand({ agentRuntimeId: created.agentRuntimeId, name: 'PROD', agentRuntimeVersion: '1' }));
    assert.equal(await invoke(gatehouse, arn, 'PROD'), 'v1', 'PROD answers from the pinned version');
    assert.equal(await invoke(gatehouse, arn), 'v2', 'DEFAULT follows the latest');
    assert.equal(await invoke(gatehouse, arn, 'DEFAULT'), 'v2');

    // After a restart the store is served again, endpoints included.
    await gatehouse.close();
    gatehouse = await start();
    assert.equal(await invoke(gatehouse, arn, 'PROD'), 'v1');
    assert.equal(await invoke(gatehouse, arn), 'v2');
    const control2 = controlClient(gatehouse, () => agentUrl);

    // A version without an agent Gatehouse can run is stored, and says why it is not served.
    agentUrl = undefined;
    await control2.send(new UpdateAgentRuntimeCommand({ ...input, agentRuntimeId: created.agentRuntimeId }));
    const third = await control2.send(new GetAgentRuntimeCommand({ agentRuntimeId: created.agentRuntimeId }));
    assert.deepEqual([third.agentRuntimeVersion, third.status], ['3', 'UPDATE_FAILED']);
    assert.match(third.failureReason ?? '', /gatehouseAgent/);
    assert.equal(await invoke(gatehouse, arn), 'v2', 'a failed update leaves the last running version live on DEFAULT');

    const callsBefore = first.calls() + second.calls();
    await control2.send(new DeleteAgentRuntimeCommand({ agentRuntimeId: created.agentRuntimeId }));
    const gone = await fetch(`${gatehouse.url}/runtimes/${encodeURIComponent(arn)}/invocations`, { method: 'POST', body: '{}' });
    assert.equal(gone.status, 404);
    assert.equal(first.calls() + second.calls(), callsBefore, 'no agent was called after the delete');
  } finally {
    await gatehouse.close();
    await closeServer(first.server);
    await closeServer(second.server);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a runtime created with a JWT authorizer takes only that issuer’s tokens, and its agent gets a workload access token', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-serving-jwt-'));
  const issuer = await startTestIssuer();
  const agent = await startAgent('jwt');
  const gatehouse = await startGatehouse({ dataDir: path.join(dir, 'data'), port: 0, logger: createLogger({ level: 'silent' }), config: { tools: { sandbox: { enabled: false } } } });
  try {
    const control = controlClient(gatehouse, () => agent.url);
    const created = await control.send(
      new CreateAgentRuntimeCommand({
        agentRuntimeName: 'jwt_agent',
        agentRuntimeArtifact: { codeConfiguration: { code: { s3: { bucket: 'agent-code', prefix: 'agent.zip' } }, runtime: 'PYTHON_3_12', entryPoint: ['main.py'] } },
        roleArn: 'arn:aws:iam::000000000000:role/agent',
        networkConfiguration: { networkMode: 'PUBLIC' },
        authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: issuer.discoveryUrl, allowedClients: ['test-client'] } },
      }),
    );
    assert.equal(created.status, 'READY');
    const url = `${gatehouse.url}/runtimes/${encodeURIComponent(created.agentRuntimeArn!)}/invocations`;
    const anonymous = await fetch(url, { method: 'POST', body: '{}' });
    assert.equal(anonymous.status, 401);
    const wrongClient = await fetch(url, { method: 'POST', body: '{}', headers: { authorization: `Bearer ${issuer.sign({ sub: 'eve', client_id: 'other-client' })}` } });
    assert.equal(wrongClient.status, 403);
    assert.equal(agent.calls(), 0, 'refused callers never reach the agent');
    const answer = await fetch(url, { method: 'POST', body: '{}', headers: { authorization: `Bearer ${issuer.sign({ sub: 'ada', client_id: 'test-client' })}` } });
    assert.equal(answer.status, 200, await answer.clone().text());
    assert.deepEqual(await answer.json(), { agent: 'jwt' });
    assert.equal(typeof agent.lastHeaders().workloadaccesstoken, 'string', 'the agent got a workload access token for the user');
  } finally {
    await gatehouse.close();
    await issuer.close();
    await closeServer(agent.server);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a local command agent created through the API (under controlPlane.commandRoots) is invocable; deleting the runtime ends its process and its invocations 404', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-command-'));
  const root = path.join(dir, 'agents');
  mkdirSync(root);
  const script = path.join(root, 'pid-agent.js');
  writeFileSync(script, `require('node:http').createServer((q, s) => { q.resume(); q.on('end', () => { s.writeHead(200, { 'content-type': 'application/json' }); s.end(q.url === '/ping' ? '{"status":"Healthy"}' : JSON.stringify({ agent: String(process.pid) })); }); }).listen(Number(process.env.PORT), '127.0.0.1');`);
  const gatehouse = await startGatehouse({ dataDir: path.join(dir, 'data'), port: 0, logger: createLogger({ level: 'silent' }), config: { tools: { sandbox: { enabled: false } }, controlPlane: { commandRoots: [root] } } });
  try {
    const control = controlClient(gatehouse, () => JSON.stringify(['node', script]));
    const created = await control.send(
      new CreateAgentRuntimeCommand({
        agentRuntimeName: 'local_agent',
        agentRuntimeArtifact: { codeConfiguration: { code: { s3: { bucket: 'agent-code', prefix: 'unused.zip' } }, runtime: 'NODE_22', entryPoint: ['pid-agent.js'] } },
        roleArn: 'arn:aws:iam::000000000000:role/agent',
        networkConfiguration: { networkMode: 'PUBLIC' },
      }),
    );
    assert.equal(created.status, 'READY');
    const pid = Number(await invoke(gatehouse, created.agentRuntimeArn!));
    assert.ok(pid > 0 && pid !== process.pid, 'answered by its own process');
    assert.doesNotThrow(() => process.kill(pid, 0), 'positive control: the agent process runs');
    await control.send(new DeleteAgentRuntimeCommand({ agentRuntimeId: created.agentRuntimeId }));
    const gone = await fetch(`${gatehouse.url}/runtimes/${encodeURIComponent(created.agentRuntimeArn!)}/invocations`, { method: 'POST', body: '{}' });
    assert.equal(gone.status, 404);
    let alive = true;
    for (let attempt = 0; attempt < 50 && alive; attempt++) {
      try {
        process.kill(pid, 0);
        await new Promise((resolve) => setTimeout(resolve, 100));
      } catch {
        alive = false;
      }
    }
    assert.equal(alive, false, 'deleting the runtime ended its agent process');
  } finally {
    await gatehouse.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
