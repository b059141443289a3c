import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '@gatehouse/core';
import { DeployConfigError, synthesizeApp } from '../src/index.ts';
import { fakeWebDist, runGatehouse } from './run-gatehouse.ts';

const work = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-deploy-refused-'));
const webDist = fakeWebDist();
after(() => rmSync(work, { recursive: true, force: true }));

const agentWithDockerfile = path.join(work, 'with-dockerfile');
mkdirSync(agentWithDockerfile);
writeFileSync(path.join(agentWithDockerfile, 'Dockerfile'), 'FROM scratch\n');
const runtime = (overrides: Record<string, unknown>) => ({ agentRuntimeName: 'agent', agent: { command: ['node', 'agent.mjs'], cwd: 'with-dockerfile' }, ...overrides });

/** Synthesizes `input`, expects a DeployConfigError naming `field`, and checks that no assembly was written. */
async function refused(input: unknown, field: string, message: RegExp): Promise<void> {
  const outDir = path.join(work, `out-${Math.random().toString(36).slice(2)}`);
  await assert.rejects(synthesizeApp({ config: parseConfig(input), configDir: work, outDir, webDist }), (error: unknown) => {
    assert.ok(error instanceof DeployConfigError, String(error));
    assert.equal(error.code, 'DeployConfigError');
    assert.equal(error.field, field);
    assert.match(error.message, message);
    return true;
  });
  assert.equal(existsSync(outDir), false, 'nothing half-written');
}

test('a local command agent without a Dockerfile is refused, naming agent.cwd', async () => {
  await refused({ runtimes: [runtime({ agent: { command: ['node', 'agent.mjs'] } })] }, 'runtimes[0].agent.cwd', /Dockerfile/);
  await refused({ runtimes: [runtime({ agent: { url: 'https://agent.example.com' } })] }, 'runtimes[0].agent.url', /Dockerfile/);
});

test('a non-https discovery URL is refused, naming the field', async () => {
  const local = { customJWTAuthorizer: { discoveryUrl: 'http://127.0.0.1:8080/local_pool/.well-known/openid-configuration' } };
  await refused({ runtimes: [runtime({ authorizerConfiguration: local })] }, 'runtimes[0].authorizerConfiguration.customJWTAuthorizer.discoveryUrl', /https/);
  await refused({ gateways: [{ name: 'tools', authorizerConfiguration: local }] }, 'gateways[0].authorizerConfiguration.customJWTAuthorizer.discoveryUrl', /https/);
});

test('targets AgentCore Gateway cannot reach or authenticate are refused, naming the field', async () => {
  const gateway = (target: Record<string, unknown>) => ({ gateways: [{ name: 'tools', targets: [{ name: 't', ...target }] }] });
  await refused(gateway({ targetConfiguration: { mcp: { stdioServer: { command: ['npx', 'server'] } } } }), 'gateways[0].targets[0].targetConfiguration.mcp.stdioServer', /local processes/);
  await refused(gateway({ targetConfiguration: { mcp: { mcpServer: { endpoint: 'http://internal:9000/mcp' } } } }), 'gateways[0].targets[0].targetConfiguration.mcp.mcpServer.endpoint', /https/);
  await refused(gateway({ targetConfiguration: { mcp: { openApiSchema: { inlinePayload: '{"openapi":"3.0.0","paths":{}}' } } } }), 'gateways[0].targets[0].targetConfiguration.mcp.openApiSchema', /servers\[0\]\.url/);
  await refused(
    gateway({
      targetConfiguration: { mcp: { mcpServer: { endpoint: 'https://mcp.example.com/mcp' } } },
      credentialProviderConfigurations: [{ credentialProviderType: 'API_KEY', apiKeyCredentialProvider: { secretName: 'key' } }],
    }),
    'gateways[0].targets[0].credentialProviderConfigurations[0].credentialProviderType',
    /secret/,
  );
});

test('a secret-looking environment variable is refused rather than written into the template', async () => {
  await refused({ runtimes: [runtime({ environmentVariables: { OPENAI_API_KEY: 'sk-live-123' } })] }, 'runtimes[0].environmentVariables.OPENAI_API_KEY', /clear text/);
  await refused({ runtimes: [runtime({ agent: { command: ['node'], cwd: 'with-dockerfile', env: { DB_PASSWORD: 'hunter2' } } })] }, 'runtimes[0].agent.env.DB_PASSWORD', /Secrets Manager/);
  // Positive control: the same runtime with a harmless variable synthesizes.
  const outDir = path.join(work, 'out-ok');
  const app = await synthesizeApp({ config: parseConfig({ runtimes: [runtime({ environmentVariables: { LOG_LEVEL: 'info' } })] }), configDir: work, outDir, webDist });
  assert.ok(existsSync(path.join(outDir, 'Gatehouse-Runtime.template.json')));
  assert.ok(JSON.stringify(app.template('Gatehouse-Runtime')).includes('"LOG_LEVEL":"info"'));
});

test('gatehouse deploy synth reports the refused field and exits 78 without writing templates', async () => {
  const configFile = path.join(work, 'bad.yaml');
  writeFileSync(configFile, 'runtimes:\n  - agentRuntimeName: agent\n    agent: { command: [node, agent.mjs] }\n');
  const outDir = path.join(work, 'cli-out');
  const result = await runGatehouse(['deploy', 'synth', '--config', configFile, '--out', outDir, '--web-dist', webDist], { cwd: work });
  assert.equal(result.code, 78, result.stderr);
  assert.match(result.stderr, /runtimes\[0\]\.agent\.cwd: AgentCore runs agents as linux\/arm64 containers/);
  assert.ok(!/\n\s+at /.test(result.stderr), 'no stack trace');
  assert.equal(existsSync(outDir), false);
});

test('gatehouse deploy deploy without AWS credentials says it needs them and does nothing', async () => {
  const outDir = path.join(work, 'no-creds-out');
  const home = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-home-'));
  const env: NodeJS.ProcessEnv = { HOME: home, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '', AWS_SHARED_CREDENTIALS_FILE: '', AWS_CONFIG_FILE: '' };
  const result = await runGatehouse(['deploy', 'deploy', '--out', outDir, '--web-dist', webDist], { cwd: work, env });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /needs AWS credentials/);
  assert.equal(existsSync(outDir), false);
  rmSync(home, { recursive: true, force: true });
});
