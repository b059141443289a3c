// Seed 004's commands, and the control plane's lifecycle, with the real AWS CLI against `gatehouse up`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger } from '@gatehouse/core';
import { startGatehouse, type RunningGatehouse } from '../src/start-gatehouse.ts';
import { runCli, startCli } from '@gatehouse/testing/run-cli';

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function adminEnvironment(gatehouse: RunningGatehouse): NodeJS.ProcessEnv {
  const text = readFileSync(gatehouse.adminCredentialsFile, 'utf8');
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('AWS_')) env[name] = value;
  return {
    ...env,
    AWS_ACCESS_KEY_ID: /aws_access_key_id\s*=\s*(\S+)/.exec(text)![1]!,
    AWS_SECRET_ACCESS_KEY: /aws_secret_access_key\s*=\s*(\S+)/.exec(text)![1]!,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_MAX_ATTEMPTS: '1',
  };
}

function aws(gatehouse: RunningGatehouse, env: NodeJS.ProcessEnv, args: readonly string[], service = 'bedrock-agentcore-control'): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile('aws', [service, ...args, '--endpoint-url', gatehouse.url, '--region', gatehouse.config.region, '--output', 'json'], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function awsJson<T>(gatehouse: RunningGatehouse, env: NodeJS.ProcessEnv, args: readonly string[]): Promise<T> {
  const result = await aws(gatehouse, env, args);
  assert.equal(result.code, 0, `aws ${args.join(' ')} failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

async function withGatehouse(work: (gatehouse: RunningGatehouse, env: NodeJS.ProcessEnv) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-control-'));
  const start = (): Promise<RunningGatehouse> =>
    startGatehouse({ dataDir: path.join(dir, 'data'), port: 0, logger: createLogger({ level: 'silent' }), config: { tools: { sandbox: { enabled: false } } } });
  let gatehouse = await start();
  try {
    await work(gatehouse, adminEnvironment(gatehouse));
    // Restart on the same data dir: what the API created is still there.
    const before = await awsJson<{ agentRuntimes: { agentRuntimeId: string }[] }>(gatehouse, adminEnvironment(gatehouse), ['list-agent-runtimes']);
    await gatehouse.close();
    gatehouse = await start();
    const after = await awsJson<{ agentRuntimes: { agentRuntimeId: string }[] }>(gatehouse, adminEnvironment(gatehouse), ['list-agent-runtimes']);
    assert.deepEqual(after.agentRuntimes.map((entry) => entry.agentRuntimeId), before.agentRuntimes.map((entry) => entry.agentRuntimeId));
  } finally {
    await gatehouse.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('seed 004: get-agent-runtime, list-agent-runtimes and list-gateways answer for the default runtime and gateway', async () => {
  await withGatehouse(async (gatehouse, env) => {
    const runtime = await awsJson<{ agentRuntimeArn: string; status: string; agentRuntimeName: string }>(gatehouse, env, ['get-agent-runtime', '--agent-runtime-id', 'ops_agent']);
    assert.deepEqual([runtime.agentRuntimeName, runtime.status], ['ops_agent', 'READY']);
    assert.equal(runtime.agentRuntimeArn, gatehouse.settings.runtimeArn, 'the ARN the data plane answers to');
    const runtimes = await awsJson<{ agentRuntimes: { agentRuntimeName: string }[] }>(gatehouse, env, ['list-agent-runtimes']);
    assert.deepEqual(runtimes.agentRuntimes.map((entry) => entry.agentRuntimeName), ['ops_agent']);
    const gateways = await awsJson<{ items: { gatewayId: string; status: string }[] }>(gatehouse, env, ['list-gateways']);
    assert.deepEqual(gateways.items.map((entry) => [entry.gatewayId, entry.status]), [['default', 'READY']]);
    const gateway = await awsJson<{ gatewayUrl: string }>(gatehouse, env, ['get-gateway', '--gateway-identifier', 'default']);
    assert.equal(gateway.gatewayUrl, gatehouse.settings.gatewayUrl);
    const deleted = await aws(gatehouse, env, ['delete-agent-runtime', '--agent-runtime-id', 'ops_agent']);
    assert.notEqual(deleted.code, 0);
    assert.match(deleted.stderr, /ConflictException.*managed by gatehouse\.yaml/);
  });
});

test('the AWS CLI creates, updates, pins and deletes a runtime; bad input and unsigned calls change nothing', async () => {
  await withGatehouse(async (gatehouse, env) => {
    const artifact = (entry: string): string => JSON.stringify({ codeConfiguration: { code: { s3: { bucket: 'agent-code', prefix: 'agent.zip' } }, runtime: 'PYTHON_3_12', entryPoint: [entry] } });
    const common = ['--role-arn', 'arn:aws:iam::000000000000:role/agent', '--network-configuration', 'networkMode=PUBLIC'];
    const created = await awsJson<{ agentRuntimeId: string; agentRuntimeVersion: string; status: string }>(gatehouse, env, ['create-agent-runtime', '--agent-runtime-name', 'cli_agent', '--agent-runtime-artifact', artifact('main.py'), ...common]);
    assert.equal(created.agentRuntimeVersion, '1');
    const id = created.agentRuntimeId;
    const updated = await awsJson<{ agentRuntimeVersion: string }>(gatehouse, env, ['update-agent-runtime', '--agent-runtime-id', id, '--agent-runtime-artifact', artifact('v2.py'), ...common]);
    assert.equal(updated.agentRuntimeVersion, '2');
    await awsJson(gatehouse, env, ['create-agent-runtime-endpoint', '--agent-runtime-id', id, '--name', 'PROD', '--agent-runtime-version', '1']);
    const prod = await awsJson<{ liveVersion: string }>(gatehouse, env, ['get-agent-runtime-endpoint', '--agent-runtime-id', id, '--endpoint-name', 'PROD']);
    assert.equal(prod.liveVersion, '1');
    const versions = await awsJson<{ agentRuntimes: { agentRuntimeVersion: string }[] }>(gatehouse, env, ['list-agent-runtime-versions', '--agent-runtime-id', id]);
    assert.deepEqual(versions.agentRuntimes.map((entry) => entry.agentRuntimeVersion), ['2', '1']);

    const bad = await aws(gatehouse, env, ['create-agent-runtime', '--agent-runtime-name', 'bad name', '--agent-runtime-artifact', artifact('main.py'), ...common]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /ValidationException.*agentRuntimeName/);
    const missing = await aws(gatehouse, env, ['get-agent-runtime', '--agent-runtime-id', 'ghost-AAAAAAAAAA']);
    assert.match(missing.stderr, /ResourceNotFoundException/);
    const unsigned = await aws(gatehouse, env, ['create-agent-runtime', '--no-sign-request', '--agent-runtime-name', 'sneaky', '--agent-runtime-artifact', artifact('main.py'), ...common]);
    assert.match(unsigned.stderr, /AccessDeniedException/);

    const listed = await awsJson<{ agentRuntimes: { agentRuntimeName: string }[] }>(gatehouse, env, ['list-agent-runtimes']);
    assert.deepEqual(listed.agentRuntimes.map((entry) => entry.agentRuntimeName), ['ops_agent', 'cli_agent']);
    // The data plane does not serve API-created runtimes yet: 404, as the status says.
    const invoke = await fetch(`${gatehouse.url}/runtimes/${encodeURIComponent(`arn:aws:bedrock-agentcore:${gatehouse.config.region}:${gatehouse.config.accountId}:runtime/${id}`)}/invocations`, { method: 'POST', body: '{}' });
    assert.equal(invoke.status, 404);
    const gatewayArgs = ['create-gateway', '--name', 'cli-tools', '--role-arn', 'arn:aws:iam::000000000000:role/gw', '--authorizer-type', 'NONE', '--client-token', `retry-${'7'.repeat(40)}`];
    const gateway = await awsJson<{ gatewayId: string }>(gatehouse, env, gatewayArgs);
    // A retry with the same --client-token is the same gateway; the token with other input is a ConflictException.
    assert.equal((await awsJson<{ gatewayId: string }>(gatehouse, env, gatewayArgs)).gatewayId, gateway.gatewayId);
    const mismatch = await aws(gatehouse, env, [...gatewayArgs, '--description', 'different']);
    assert.match(mismatch.stderr, /ConflictException.*IdempotentParameterMismatch/);
    const target = await awsJson<{ targetId: string }>(gatehouse, env, ['create-gateway-target', '--gateway-identifier', gateway.gatewayId, '--name', 'remote', '--target-configuration', JSON.stringify({ mcp: { mcpServer: { endpoint: 'https://tools.example/mcp' } } })]);
    await awsJson(gatehouse, env, ['delete-gateway-target', '--gateway-identifier', gateway.gatewayId, '--target-id', target.targetId]);
    await awsJson(gatehouse, env, ['delete-gateway', '--gateway-identifier', gateway.gatewayId]);
    const key = await awsJson<{ credentialProviderArn: string }>(gatehouse, env, ['create-api-key-credential-provider', '--name', 'search', '--api-key', 'sk-cli-secret-value']);
    assert.match(key.credentialProviderArn, /token-vault\/default\/apikeycredentialprovider\/search$/);
    const shown = await aws(gatehouse, env, ['get-api-key-credential-provider', '--name', 'search']);
    assert.equal(shown.code, 0);
    assert.ok(!shown.stdout.includes('sk-cli-secret-value'));
    await awsJson(gatehouse, env, ['delete-agent-runtime', '--agent-runtime-id', id]);

    // A workload identity created here mints workload access tokens at once (AgentCore Identity's data plane); deleted, it no longer does.
    const before = await aws(gatehouse, env, ['get-workload-access-token-for-user-id', '--workload-name', 'batch-worker', '--user-id', 'ada'], 'bedrock-agentcore');
    assert.match(before.stderr, /ResourceNotFoundException|ValidationException/);
    await awsJson(gatehouse, env, ['create-workload-identity', '--name', 'batch-worker']);
    const minted = await aws(gatehouse, env, ['get-workload-access-token-for-user-id', '--workload-name', 'batch-worker', '--user-id', 'ada'], 'bedrock-agentcore');
    assert.equal(minted.code, 0, minted.stderr);
    assert.ok((JSON.parse(minted.stdout) as { workloadAccessToken: string }).workloadAccessToken.length > 100);
    assert.equal((await aws(gatehouse, env, ['delete-workload-identity', '--name', 'batch-worker'])).code, 0);
    const after = await aws(gatehouse, env, ['get-workload-access-token-for-user-id', '--workload-name', 'batch-worker', '--user-id', 'ada'], 'bedrock-agentcore');
    assert.notEqual(after.code, 0);

    await awsJson(gatehouse, env, ['create-agent-runtime', '--agent-runtime-name', 'kept_agent', '--agent-runtime-artifact', artifact('main.py'), ...common]);
  });
});

test('seed 004 as the README says it: a fresh `gatehouse up` process, its admin-credentials file, and the real aws CLI', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-seed004-'));
  const cli = await startCli(['up', '--port', '0', '--data-dir', dataDir]);
  try {
    const env: NodeJS.ProcessEnv = {};
    for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('AWS_')) env[name] = value;
    Object.assign(env, { AWS_SHARED_CREDENTIALS_FILE: path.join(dataDir, 'admin-credentials'), AWS_CONFIG_FILE: '/dev/null', AWS_REGION: 'local', AWS_MAX_ATTEMPTS: '1' });
    const run = (args: readonly string[]): Promise<CliResult> =>
      new Promise((resolve) => {
        execFile('aws', ['bedrock-agentcore-control', ...args, '--endpoint-url', cli.url, '--output', 'json'], { env, timeout: 60_000 }, (error, stdout, stderr) => {
          resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
        });
      });
    const got = await run(['get-agent-runtime', '--agent-runtime-id', 'ops_agent']);
    assert.equal(got.code, 0, got.stderr);
    const runtime = JSON.parse(got.stdout) as { agentRuntimeName: string; status: string; agentRuntimeArn: string };
    assert.deepEqual([runtime.agentRuntimeName, runtime.status], ['ops_agent', 'READY']);
    const settings = (await (await fetch(`${cli.url}/config.json`)).json()) as { runtimeArn: string };
    assert.equal(runtime.agentRuntimeArn, settings.runtimeArn, 'the ARN the web UI and data plane use');
    const gateways = await run(['list-gateways']);
    assert.equal(gateways.code, 0, gateways.stderr);
    assert.deepEqual((JSON.parse(gateways.stdout) as { items: { gatewayId: string }[] }).items.map((item) => item.gatewayId), ['default']);
    // Without the admin key the same command is refused (positive control above).
    const anonymous = await run(['get-agent-runtime', '--agent-runtime-id', 'ops_agent', '--no-sign-request']);
    assert.notEqual(anonymous.code, 0);
    assert.match(anonymous.stderr, /AccessDeniedException/);
  } finally {
    await cli.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('there is no second code path: `gatehouse runtimes|gateways` point to the control-plane API', async () => {
  for (const [verb, operation] of [['runtimes', 'list-agent-runtimes'], ['gateways', 'list-gateways']] as const) {
    const result = await runCli([verb, 'list']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, new RegExp(`aws bedrock-agentcore-control ${operation}`));
  }
});
