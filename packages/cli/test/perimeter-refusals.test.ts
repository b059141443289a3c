// Every surface that refuses a token names the actual cause, logs it at info with the reason code, and
// the gateway audits it; the default runtime and gateway accept every app client of the default pool.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '@gatehouse/core';
import { gatewayCommands } from '@gatehouse/gateway';
import { startGatehouse, type RunningGatehouse } from '../src/start-gatehouse.ts';
import { runCli, parseSse } from '@gatehouse/testing/run-cli';

async function signIn(gatehouse: RunningGatehouse, clientId: string): Promise<string> {
  const response = await fetch(`${gatehouse.url}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth' },
    body: JSON.stringify({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId, AuthParameters: { USERNAME: 'admin', PASSWORD: gatehouse.firstRun!.password } }),
  });
  const body = (await response.json()) as { AuthenticationResult: { AccessToken: string } };
  return body.AuthenticationResult.AccessToken;
}

test('a client refused by the gateway only: the agent reports the named cause, the gateway logs the reason code and audits the refusal', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-perimeter-'));
  let logged = '';
  const destination = new Writable({ write(chunk: Buffer, _encoding, done) { logged += chunk.toString(); done(); } });
  const gatehouse = await startGatehouse({ dataDir, port: 0, logger: createLogger({ level: 'info', destination }) });
  try {
    const created = await runCli(['clients', 'create', 'second-app', '--callback-url', 'http://127.0.0.1:5173/', '--data-dir', dataDir]);
    assert.equal(created.code, 0, created.stderr);
    const clientId = (JSON.parse(created.stdout) as { clientId: string }).clientId;
    const denied = await runCli(['perimeter', 'deny-client', 'gateway:default', clientId, '--data-dir', dataDir]);
    assert.equal(denied.code, 0, denied.stderr);
    await new Promise((resolve) => setTimeout(resolve, 1100));

    const token = await signIn(gatehouse, clientId);
    const response = await fetch(`${gatehouse.url}/runtimes/ops_agent/invocations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'text/event-stream', 'x-amzn-bedrock-agentcore-runtime-session-id': `perimeter-refusal-${'s'.repeat(30)}` },
      body: JSON.stringify({ prompt: 'List S3 buckets in the Production account' }),
    });
    assert.equal(response.status, 200, 'the runtime accepts every app client of the default pool');
    const events = parseSse(await response.text());
    const failure = JSON.stringify(events.filter((event) => event.event === 'tool-result' || event.event === 'error'));
    assert.match(failure, /client \\?"[^"\\]+\\?" is not allowed/, `the named cause reaches the user: ${failure}`);
    assert.match(failure, /allow-client gateway:default/);
    assert.doesNotMatch(failure, /scope or group/, 'not the wrong fix');

    const lines = logged.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    const refusal = lines.find((line) => line.msg === 'caller refused' && line.component === 'gateway');
    assert.equal(refusal?.reason, 'wrong_client', 'logged at info with the reason code');
    assert.equal(refusal?.level, 30);
    assert.equal(refusal?.clientId, clientId);
    assert.ok(!logged.includes(token), 'no token in the log');

    let printed = '';
    await gatewayCommands.audit(['--json'], { config: gatehouse.config, dataDir: gatehouse.dataDir, baseUrl: gatehouse.url, stdout: (line) => (printed += line), stderr: () => undefined });
    const rows = JSON.parse(printed) as { decision: string; outcome: string; clientId: string; user: string }[];
    const audited = rows.find((row) => row.decision === 'refused');
    assert.deepEqual({ outcome: audited?.outcome, clientId: audited?.clientId }, { outcome: 'wrong_client', clientId });
    assert.ok(audited?.user, 'the verified user is named');
  } finally {
    await gatehouse.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('`gatehouse perimeter` names unknown resources and refuses a client list on a resource that checks none', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-perimeter-cli-'));
  try {
    const unknown = await runCli(['perimeter', 'allow-client', 'runtime:nope', 'abc', '--data-dir', dataDir]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no runtime or gateway "runtime:nope".*runtime:ops_agent/s);
    const badOrigin = await runCli(['perimeter', 'allow-origin', 'gateway:default', 'not a url', '--data-dir', dataDir]);
    assert.equal(badOrigin.code, 2);
    assert.match(badOrigin.stderr, /not a URL/);
    const shown = await runCli(['perimeter', 'show', '--json', '--data-dir', dataDir]);
    assert.equal(shown.code, 0, shown.stderr);
    const rows = JSON.parse(shown.stdout) as { resource: string; mode: string }[];
    assert.deepEqual(rows.map((row) => [row.resource, row.mode]), [['runtime:ops_agent', 'every app client of the default pool'], ['gateway:default', 'every app client of the default pool']]);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
