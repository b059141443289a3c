import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BedrockAgentCoreClient, InvokeAgentRuntimeCommand } from '@aws-sdk/client-bedrock-agentcore';
import { fromIni } from '@aws-sdk/credential-providers';
import { startCli } from './support/run-cli.ts';

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
    const events = text.split('\n\n').filter(Boolean).map((block) => /^event: (.+)$/m.exec(block)?.[1]);
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
