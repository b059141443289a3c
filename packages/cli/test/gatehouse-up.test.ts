import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CognitoIdentityProviderClient, InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { createServer } from 'node:http';
import { SANDBOX_ACCOUNTS } from '@gatehouse/sandbox';
import { closeServer, listen } from '@gatehouse/core';
import { startCli, runCli, readSse } from '@gatehouse/testing/run-cli';

const SESSION = (suffix: string): string => `e2e-session-${suffix}-${'x'.repeat(40)}`;

async function signIn(url: string, region: string, clientId: string, username: string, password: string): Promise<string> {
  const cognito = new CognitoIdentityProviderClient({ endpoint: url, region, credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' } });
  const result = await cognito.send(
    new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId, AuthParameters: { USERNAME: username, PASSWORD: password } }),
  );
  cognito.destroy();
  const token = result.AuthenticationResult?.AccessToken;
  assert.ok(token, 'InitiateAuth returned an access token');
  return token;
}

test('gatehouse up with no config file: the first-run admin asks the offline agent for the Production buckets and gets the sandbox list, attributed in the audit', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gh-up-'));
  const cli = await startCli(['up', '--port', '0', '--data-dir', dataDir]);
  try {
    assert.ok(cli.password, `first start prints the admin password once:\n${cli.output()}`);
    const credentialsFile = path.join(dataDir, 'admin-credentials');
    assert.equal(statSync(credentialsFile).mode & 0o777, 0o600, 'admin-credentials is readable by its owner only');
    assert.match(readFileSync(credentialsFile, 'utf8'), /\[default\]\s+aws_access_key_id\s*=\s*\S+\s+aws_secret_access_key\s*=\s*\S+/);

    const ping = await fetch(`${cli.url}/ping`);
    assert.equal(ping.status, 200);
    const settings = (await (await fetch(`${cli.url}/config.json`)).json()) as Record<string, string>;
    assert.deepEqual(Object.keys(settings).sort(), ['acceptedClients', 'authority', 'clientId', 'gatewayUrl', 'issuer', 'region', 'runtimeArn', 'runtimeProtocol', 'userPoolId'].sort());
    assert.equal(settings.acceptedClients, 'pool', 'with no config, every app client of the default pool is accepted');
    assert.equal(settings.runtimeProtocol, 'HTTP', 'the default runtime speaks the HTTP protocol');
    assert.equal(settings.issuer, `${cli.url}/${settings.userPoolId}`);
    assert.equal(settings.gatewayUrl, `${cli.url}/mcp`);

    const token = await signIn(cli.url, settings.region!, settings.clientId!, 'admin', cli.password);
    const invoke = await fetch(`${cli.url}/runtimes/${encodeURIComponent(settings.runtimeArn!)}/invocations?qualifier=DEFAULT`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'text/event-stream',
        'x-amzn-bedrock-agentcore-runtime-session-id': SESSION('a'),
      },
      body: JSON.stringify({ prompt: 'List S3 buckets in the Production account' }),
    });
    assert.equal(invoke.status, 200, await invoke.clone().text());
    assert.match(invoke.headers.get('content-type') ?? '', /text\/event-stream/);
    assert.equal(invoke.headers.get('x-amzn-bedrock-agentcore-runtime-session-id'), SESSION('a'));
    const events = await readSse(invoke);
    const types = events.map((event) => event.event);
    assert.ok(types.includes('text-delta'), `streams text: ${types.join(',')}`);
    const call = events.find((event) => event.event === 'tool-call');
    assert.ok(call, `calls a tool: ${JSON.stringify(events)}`);
    assert.match(String(call.data.name), /___call_aws$/);
    assert.equal((call.data.arguments as Record<string, unknown>).account, 'Production');
    const result = events.find((event) => event.event === 'tool-result');
    assert.equal(result?.data.ok, true, JSON.stringify(result));
    const final = events.find((event) => event.event === 'message');
    assert.ok(final, 'ends with the final message');
    assert.match(String(final.data.text), /offline planner/i, 'the offline planner says what it is');

    // Exactly the Production account's seeded buckets, as listed by the real S3 request; none of another account's.
    const listed = JSON.stringify(result.data) + String(final.data.text);
    for (const account of SANDBOX_ACCOUNTS) {
      for (const bucket of Object.keys(account.buckets)) {
        if (account.name === 'Production') assert.ok(listed.includes(bucket), `lists ${bucket}: ${listed}`);
        else assert.ok(!listed.includes(bucket), `does not list ${account.name}'s ${bucket}`);
      }
    }

    // A call without a token is refused (and counted by reason); the agent's tool call is counted by decision.
    const anonymous = await fetch(`${cli.url}/runtimes/${encodeURIComponent(settings.runtimeArn!)}/invocations`, { method: 'POST', body: '{}' });
    assert.equal(anonymous.status, 401);
    const anonymousMcp = await fetch(`${cli.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(anonymousMcp.status, 401);
    const metrics = await (await fetch(`${cli.url}/metrics`)).text();
    assert.match(metrics, /gatehouse_http_requests_total\{component="runtime",method="POST",status="200"\} [1-9]/);
    assert.match(metrics, /gatehouse_auth_failures_total\{component="runtime",reason="missing"\} 1/);
    assert.match(metrics, /gatehouse_auth_failures_total\{component="gateway",reason="missing"\} 1/);
    assert.match(metrics, /gatehouse_tool_calls_total\{decision="allow",gateway="default",outcome="ok",target="ops"\} [1-9]/);
    // Gauges read live state: the session's process plus the warm pool's replacement.
    assert.match(metrics, /^gatehouse_runtime_sessions\{runtime="ops_agent"\} 1$/m);
    assert.match(metrics, /^gatehouse_agent_processes\{runtime="ops_agent"\} 2$/m);
    const stop = await fetch(`${cli.url}/runtimes/${encodeURIComponent(settings.runtimeArn!)}/stopruntimesession`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'x-amzn-bedrock-agentcore-runtime-session-id': SESSION('a') },
    });
    assert.equal(stop.status, 200, await stop.clone().text());
    const afterStop = await (await fetch(`${cli.url}/metrics`)).text();
    assert.match(afterStop, /^gatehouse_runtime_sessions\{runtime="ops_agent"\} 0$/m);
    assert.match(afterStop, /^gatehouse_agent_processes\{runtime="ops_agent"\} 1$/m);

    // The gateway recorded the call as this user's, with no token in the record.
    const audit = await runCli(['audit', '--data-dir', dataDir, '--json']);
    assert.equal(audit.code, 0, audit.stderr);
    assert.match(audit.stdout, /call_aws/);
    assert.match(audit.stdout, /admin/);
    assert.doesNotMatch(audit.stdout, /eyJ[A-Za-z0-9_-]{10,}/, 'no token in the audit');
    assert.doesNotMatch(cli.output(), /eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/, 'no token in the logs');

    // Regression: an admin verb run beside a server on another port must not rewrite the default
    // client's callback to http://localhost:8080/ (it derives URLs from the server it shares the data dir with).
    const created = await runCli(['users', 'create', 'bob', '--data-dir', dataDir, '--password', 'Bob-pass-1234!']);
    assert.equal(created.code, 0, created.stderr);
    const authorize = new URL(`${cli.url}/oauth2/authorize`);
    authorize.search = new URLSearchParams({
      response_type: 'code',
      client_id: settings.clientId!,
      redirect_uri: `${cli.url}/`,
      state: 'state-1',
      scope: 'openid',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    }).toString();
    const redirect = await fetch(authorize, { redirect: 'manual' });
    assert.ok(redirect.status === 302 || redirect.status === 200, `the callback ${cli.url}/ is still registered (got ${redirect.status})`);
    assert.doesNotMatch(redirect.headers.get('location') ?? '', /error=/);
  } finally {
    await cli.stop();
  }

  // Restart on the same data dir keeps the admin user and does not print a password again.
  const again = await startCli(['up', '--port', '0', '--data-dir', dataDir]);
  try {
    assert.equal(again.password, undefined, 'the password is shown only on first start');
    const settings = (await (await fetch(`${again.url}/config.json`)).json()) as Record<string, string>;
    await signIn(again.url, settings.region!, settings.clientId!, 'admin', cli.password);
  } finally {
    await again.stop();
  }
});

test('a configuration error names the file and the field and exits with 78, serving nothing', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gh-badcfg-'));
  const file = path.join(dir, 'gatehouse.yaml');
  writeFileSync(file, 'runtimes:\n  - agentRuntimeName: a\n    agent: { url: "http://127.0.0.1:9" }\n    lifecycleConfiguration: { idleRuntimeSessionTimeout: 10 }\n');
  const result = await runCli(['up', '--port', '0', '--data-dir', dir, '--config', file]);
  assert.equal(result.code, 78);
  assert.match(result.stderr, new RegExp(`Invalid configuration in ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.match(result.stderr, /runtimes\[0\]\.lifecycleConfiguration\.idleRuntimeSessionTimeout/);
});

test('an unknown command prints the usage and exits non-zero', async () => {
  const result = await runCli(['frobnicate']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /unknown command "frobnicate"/);
  assert.match(result.stderr, /Usage: gatehouse/);
});

test('a port already in use is named with how to choose another, exit 69, and nothing is left running', async () => {
  const blocker = createServer();
  const port = await listen(blocker, 0);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gh-inuse-'));
  try {
    const result = await runCli(['up', '--port', String(port), '--data-dir', dataDir]);
    assert.equal(result.code, 69, result.stderr);
    assert.match(result.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
    assert.match(result.stderr, /--port N/);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  } finally {
    await closeServer(blocker);
  }
});
