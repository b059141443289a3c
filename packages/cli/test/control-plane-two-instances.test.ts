// Two Gatehouse instances on one data dir: a runtime created through A's control plane is invocable through B,
// and deleted through B it stops answering on A.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BedrockAgentCoreClient, InvokeAgentRuntimeCommand } from '@aws-sdk/client-bedrock-agentcore';
import { BedrockAgentCoreControlClient, CreateAgentRuntimeCommand, DeleteAgentRuntimeCommand } from '@aws-sdk/client-bedrock-agentcore-control';
import { closeServer, createLogger, listen } from '@gatehouse/core';
import { startGatehouse, type RunningGatehouse } from '../src/start-gatehouse.ts';

function credentials(gatehouse: RunningGatehouse): { accessKeyId: string; secretAccessKey: string } {
  const text = readFileSync(gatehouse.adminCredentialsFile, 'utf8');
  return { accessKeyId: /aws_access_key_id\s*=\s*(\S+)/.exec(text)![1]!, secretAccessKey: /aws_secret_access_key\s*=\s*(\S+)/.exec(text)![1]! };
}

/** Invokes through one instance; the status code, or the agent's answer. */
async function invoke(gatehouse: RunningGatehouse, arn: string): Promise<string | number> {
  const client = new BedrockAgentCoreClient({ endpoint: gatehouse.url, region: gatehouse.config.region, credentials: credentials(gatehouse), maxAttempts: 1 });
  try {
    const answer = await client.send(new InvokeAgentRuntimeCommand({ agentRuntimeArn: arn, runtimeSessionId: `two-instances-${'x'.repeat(40)}`, payload: new TextEncoder().encode('{"prompt":"hi"}') }));
    return (JSON.parse(await answer.response!.transformToString()) as { agent: string }).agent;
  } catch (error) {
    return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
  } finally {
    client.destroy();
  }
}

async function eventually<T>(read: () => Promise<T>, wanted: T, what: string): Promise<void> {
  let last: T | undefined;
  for (let attempt = 0; attempt < 40; attempt++) {
    last = await read();
    if (last === wanted) return;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  assert.equal(last, wanted, what);
}

test('a runtime created on instance A is invocable on instance B (same data dir) within the poll, and deleted on B it 404s on A', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-two-'));
  const agent = createServer((request, response) => {
    if (request.url === '/ping') return void response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"Healthy"}');
    request.resume();
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{"agent":"shared"}'));
  });
  const agentUrl = `http://127.0.0.1:${await listen(agent, 0, '127.0.0.1')}`;
  const start = (): Promise<RunningGatehouse> => startGatehouse({ dataDir: path.join(dir, 'data'), port: 0, logger: createLogger({ level: 'silent' }), config: { tools: { sandbox: { enabled: false } } } });
  const a = await start();
  const b = await start();
  try {
    const control = (gatehouse: RunningGatehouse): BedrockAgentCoreControlClient => {
      const client = new BedrockAgentCoreControlClient({ endpoint: gatehouse.url, region: gatehouse.config.region, credentials: credentials(gatehouse), maxAttempts: 1 });
      client.middlewareStack.add(
        (next) => async (args) => {
          const request = args.request as { body?: unknown; headers: Record<string, string> };
          const text = typeof request.body === 'string' ? request.body : ArrayBuffer.isView(request.body) ? Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength).toString('utf8') : '';
          if (text.includes('agentRuntimeArtifact')) {
            request.body = JSON.stringify({ ...(JSON.parse(text) as object), gatehouseAgent: { url: agentUrl } });
            request.headers['content-length'] = String(Buffer.byteLength(request.body as string));
          }
          return next(args);
        },
        { step: 'build', name: 'gatehouseAgent' },
      );
      return client;
    };
    const created = await control(a).send(
      new CreateAgentRuntimeCommand({
        agentRuntimeName: 'shared_agent',
        agentRuntimeArtifact: { codeConfiguration: { code: { s3: { bucket: 'agent-code', prefix: 'agent.zip' } }, runtime: 'PYTHON_3_12', entryPoint: ['main.py'] } },
        roleArn: 'arn:aws:iam::000000000000:role/agent',
        networkConfiguration: { networkMode: 'PUBLIC' },
      }),
    );
    const arn = created.agentRuntimeArn!;
    assert.equal(await invoke(a, arn), 'shared', 'positive control: served on A at once');
    await eventually(() => invoke(b, arn), 'shared', 'created on A, invocable on B');
    await control(b).send(new DeleteAgentRuntimeCommand({ agentRuntimeId: created.agentRuntimeId }));
    assert.equal(await invoke(b, arn), 404);
    await eventually(() => invoke(a, arn), 404, 'deleted on B, gone on A');
  } finally {
    await b.close();
    await a.close();
    await closeServer(agent);
    rmSync(dir, { recursive: true, force: true });
  }
});
