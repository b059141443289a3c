import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BedrockAgentCoreClient, InvokeAgentRuntimeCommand } from '@aws-sdk/client-bedrock-agentcore';
import { fromIni } from '@aws-sdk/credential-providers';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createLogger } from '@gatehouse/core';
import { startTestIssuer } from '@gatehouse/testing/test-issuer';
import { startGatehouse } from '../src/index.ts';
import { parseSse, startCli } from '@gatehouse/testing/run-cli';

const echoAgent = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'examples', 'echo-agent', 'agent.mjs');

test('SIGTERM drains: /ready turns 503, new invocations get 503, the running stream finishes, then the process exits 0', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-drain-'));
  const configFile = path.join(dir, 'gatehouse.yaml');
  // No authorizerConfiguration: the runtime takes SigV4 (the admin key), as AgentCore does by default.
  writeFileSync(configFile, `runtimes:\n  - agentRuntimeName: echo\n    agent:\n      command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(echoAgent)}]\n    limits:\n      warmPoolSize: 1\n`);
  const cli = await startCli(['up', '--port', '0', '--data-dir', path.join(dir, 'data'), '--config', configFile]);
  const client = new BedrockAgentCoreClient({ endpoint: cli.url, region: 'local', maxAttempts: 1, credentials: fromIni({ filepath: path.join(dir, 'data', 'admin-credentials'), profile: 'default' }) });
  const invoke = (sessionSuffix: string, payload: unknown) =>
    client.send(
      new InvokeAgentRuntimeCommand({
        agentRuntimeArn: 'arn:aws:bedrock-agentcore:local:000000000000:runtime/echo',
        runtimeSessionId: `drain-session-${sessionSuffix}-${'x'.repeat(30)}`,
        contentType: 'application/json',
        accept: 'text/event-stream',
        payload: Buffer.from(JSON.stringify(payload)),
      }),
    );
  try {
    assert.equal((await fetch(`${cli.url}/ready`)).status, 200);
    // Eight chunks 150 ms apart: the stream is still running when SIGTERM arrives.
    const answer = await invoke('long', { prompt: 'keep streaming while I shut down', chunks: 8, delayMs: 150 });
    const stream = (answer.response as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    let text = Buffer.from((await stream.next()).value as Uint8Array).toString('utf8');
    const exited = once(cli.child, 'exit');
    cli.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 100));

    const ready = await fetch(`${cli.url}/ready`);
    assert.equal(ready.status, 503);
    assert.equal(((await ready.json()) as { checks: Record<string, string> }).checks.runtime, 'draining');
    await assert.rejects(invoke('new', { prompt: 'too late' }), (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(error.name, 'ServiceUnavailableException');
      assert.equal(error.$metadata?.httpStatusCode, 503);
      return true;
    });

    for (let next = await stream.next(); !next.done; next = await stream.next()) text += Buffer.from(next.value as Uint8Array).toString('utf8');
    const events = parseSse(text).map(({ event }) => event);
    assert.equal(events.filter((event) => event === 'text-delta').length, 8, text);
    assert.equal(events.at(-1), 'message', 'the stream that was running at SIGTERM completed');
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0);
    await assert.rejects(fetch(`${cli.url}/ping`), 'the port is closed after the drain');
  } finally {
    client.destroy();
    await cli.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('close() lets a tool call that is running finish before the port closes, and refuses new connections meanwhile', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-drain-tool-'));
  const issuer = await startTestIssuer();
  const module = path.join(dir, 'slow-tool.mjs');
  writeFileSync(module, 'export async function handler(event) { await new Promise((resolve) => setTimeout(resolve, event.ms)); return { waited: event.ms }; }\n');
  const gatehouse = await startGatehouse({
    dataDir: path.join(dir, 'data'),
    port: 0,
    logger: createLogger({ level: 'silent' }),
    only: ['identity', 'gateway'],
    drainTimeoutMs: 5000,
    config: {
      gateways: [
        {
          name: 'slow',
          authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: issuer.discoveryUrl, allowedClients: ['test-client'] } },
          targets: [{ name: 'tool', targetConfiguration: { mcp: { lambda: { module, toolSchema: { inlinePayload: [{ name: 'wait', inputSchema: { type: 'object', properties: { ms: { type: 'number' } } } }] } } } } }],
        },
      ],
    },
  });
  const client = new Client({ name: 'drain-test', version: '1.0.0' });
  try {
    await client.connect(new StreamableHTTPClientTransport(new URL(`${gatehouse.url}/gateways/slow/mcp`), { requestInit: { headers: { authorization: `Bearer ${issuer.sign({ sub: 'ana' })}` } } }));
    const running = client.callTool({ name: 'tool___wait', arguments: { ms: 1200 } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const closing = gatehouse.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await assert.rejects(fetch(`${gatehouse.url}/ping`), 'no new connections once the drain began');
    const result = await running;
    assert.deepEqual(result.structuredContent, { waited: 1200 }, 'the call that was running got its answer');
    await closing;
  } finally {
    await client.close().catch(() => undefined);
    await gatehouse.close();
    await issuer.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
