// AWS semantics around every operation: idempotent clientTokens, a per-caller rate (ThrottlingException),
// resource quotas (ServiceQuotaExceededException), and no update or delete of a runtime while a version starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  BedrockAgentCoreControlServiceException, CreateAgentRuntimeCommand, CreateAgentRuntimeEndpointCommand, CreateApiKeyCredentialProviderCommand, CreateGatewayCommand,
  CreateGatewayTargetCommand, CreateOauth2CredentialProviderCommand, CreateWorkloadIdentityCommand, DeleteAgentRuntimeCommand, GetAgentRuntimeCommand,
  ListAgentRuntimesCommand, ListGatewaysCommand, UpdateAgentRuntimeCommand, type CreateAgentRuntimeCommandInput,
} from '@aws-sdk/client-bedrock-agentcore-control';
import { ClientTokens } from '../src/request-guards.ts';
import { ResourceStore } from '../src/resource-store.ts';
import { READER, startControlPlane, type ControlPlaneServer } from './support/control-plane-server.ts';

const ROLE = 'arn:aws:iam::000000000000:role/agent';
const spec = (name: string, description?: string): CreateAgentRuntimeCommandInput => ({
  agentRuntimeName: name,
  agentRuntimeArtifact: { codeConfiguration: { code: { s3: { bucket: 'agent-code', prefix: 'agent.zip' } }, runtime: 'PYTHON_3_12', entryPoint: ['main.py'] } },
  roleArn: ROLE,
  networkConfiguration: { networkMode: 'PUBLIC' },
  ...(description ? { description } : {}),
});
const TOKEN = 'a'.repeat(8) + '-0000-4000-8000-' + '1'.repeat(12);
const OTHER_TOKEN = 'b'.repeat(8) + '-0000-4000-8000-' + '2'.repeat(12);

async function refusal(promise: Promise<unknown>): Promise<{ name: string; status: number | undefined; message: string }> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof BedrockAgentCoreControlServiceException, String(error));
    return { name: error.name, status: error.$metadata.httpStatusCode, message: error.message };
  }
  assert.fail('expected a refusal');
}

async function withServer(controlPlane: Record<string, unknown>, work: (server: ControlPlaneServer) => Promise<void>): Promise<void> {
  const server = await startControlPlane(undefined, { controlPlane });
  try {
    await work(server);
  } finally {
    await server.close();
  }
}

test('the same clientToken and input answer the first call again; other input with it is a ConflictException; nothing is created twice', async () => {
  await withServer({}, async (server) => {
    const client = server.client();
    const first = await client.send(new CreateAgentRuntimeCommand({ ...spec('once', 'first'), clientToken: TOKEN }));
    const again = await client.send(new CreateAgentRuntimeCommand({ ...spec('once', 'first'), clientToken: TOKEN }));
    assert.equal(again.agentRuntimeId, first.agentRuntimeId, 'the same runtime');
    assert.equal(again.agentRuntimeArn, first.agentRuntimeArn);
    const mismatch = await refusal(client.send(new CreateAgentRuntimeCommand({ ...spec('once', 'changed'), clientToken: TOKEN })));
    assert.deepEqual([mismatch.name, mismatch.status], ['ConflictException', 409]);
    assert.match(mismatch.message, /IdempotentParameterMismatch/);
    // Positive control: a new token is a new request (here refused as a duplicate name, as it should be).
    assert.equal((await refusal(client.send(new CreateAgentRuntimeCommand({ ...spec('once', 'first'), clientToken: OTHER_TOKEN })))).name, 'ConflictException');
    assert.deepEqual((await client.send(new ListAgentRuntimesCommand({}))).agentRuntimes?.map((runtime) => runtime.agentRuntimeName), ['ops_agent', 'once']);

    // Update: a retried update is not a second version.
    const updated = await client.send(new UpdateAgentRuntimeCommand({ ...spec('x', 'v2'), agentRuntimeId: first.agentRuntimeId, clientToken: OTHER_TOKEN }));
    const retried = await client.send(new UpdateAgentRuntimeCommand({ ...spec('x', 'v2'), agentRuntimeId: first.agentRuntimeId, clientToken: OTHER_TOKEN }));
    assert.deepEqual([updated.agentRuntimeVersion, retried.agentRuntimeVersion], ['2', '2']);
    assert.equal((await client.send(new GetAgentRuntimeCommand({ agentRuntimeId: first.agentRuntimeId }))).agentRuntimeVersion, '2');

    // The token is the caller's: another caller's same token is its own request.
    const gateway = await client.send(new CreateGatewayCommand({ name: 'tools', roleArn: ROLE, authorizerType: 'NONE', clientToken: TOKEN }));
    assert.equal((await client.send(new CreateGatewayCommand({ name: 'tools', roleArn: ROLE, authorizerType: 'NONE', clientToken: TOKEN }))).gatewayId, gateway.gatewayId);
    assert.equal((await client.send(new ListGatewaysCommand({}))).items?.length, 2);

    // Delete with a token: the retry answers as the first call did rather than ResourceNotFound.
    const deleted = await client.send(new DeleteAgentRuntimeCommand({ agentRuntimeId: first.agentRuntimeId, clientToken: TOKEN }));
    const deletedAgain = await client.send(new DeleteAgentRuntimeCommand({ agentRuntimeId: first.agentRuntimeId, clientToken: TOKEN }));
    assert.deepEqual([deleted.status, deletedAgain.status], ['DELETING', 'DELETING']);
    assert.equal((await refusal(client.send(new DeleteAgentRuntimeCommand({ agentRuntimeId: first.agentRuntimeId, clientToken: OTHER_TOKEN })))).name, 'ResourceNotFoundException');
  });
});

test('a caller over controlPlane.requestsPerSecondPerCaller is throttled (429 ThrottlingException); other callers are not, and the allowance refills', async () => {
  await withServer({ requestsPerSecondPerCaller: 2, burstPerCaller: 3 }, async (server) => {
    const client = server.client();
    for (let call = 0; call < 3; call++) await client.send(new ListAgentRuntimesCommand({}));
    const throttled = await refusal(client.send(new ListAgentRuntimesCommand({})));
    assert.deepEqual([throttled.name, throttled.status], ['ThrottlingException', 429]);
    assert.match(throttled.message, /controlPlane\.requestsPerSecondPerCaller/);
    const throttledCreate = await refusal(client.send(new CreateAgentRuntimeCommand(spec('flood'))));
    assert.equal(throttledCreate.name, 'ThrottlingException');
    assert.equal((await server.client(READER).send(new GetAgentRuntimeCommand({ agentRuntimeId: 'ops_agent' }))).status, 'READY', 'another caller has its own allowance');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.deepEqual((await client.send(new ListAgentRuntimesCommand({}))).agentRuntimes?.map((runtime) => runtime.agentRuntimeName), ['ops_agent'], 'refilled; the throttled create made nothing');
  });
});

test('creates past controlPlane.quotas are ServiceQuotaExceededException (402) naming the quota, and create nothing', async () => {
  const quotas = { agentRuntimes: 1, endpointsPerRuntime: 2, gateways: 1, targetsPerGateway: 1, workloadIdentities: 2, credentialProviders: 1 };
  await withServer({ quotas }, async (server) => {
    const client = server.client();
    const runtime = await client.send(new CreateAgentRuntimeCommand(spec('only')));
    await client.send(new CreateAgentRuntimeEndpointCommand({ agentRuntimeId: runtime.agentRuntimeId, name: 'PROD' }));
    const gateway = await client.send(new CreateGatewayCommand({ name: 'tools', roleArn: ROLE, authorizerType: 'NONE' }));
    await client.send(new CreateGatewayTargetCommand({ gatewayIdentifier: gateway.gatewayId, name: 'one', targetConfiguration: { mcp: { mcpServer: { endpoint: 'https://tools.example/mcp' } } } }));
    await client.send(new CreateWorkloadIdentityCommand({ name: 'batch-job' }));
    await client.send(new CreateApiKeyCredentialProviderCommand({ name: 'search', apiKey: 'k-1234567890' }));
    const cases: [string, () => Promise<unknown>, string][] = [
      ['runtime', () => client.send(new CreateAgentRuntimeCommand(spec('second'))), 'agentRuntimes'],
      ['endpoint', () => client.send(new CreateAgentRuntimeEndpointCommand({ agentRuntimeId: runtime.agentRuntimeId, name: 'STAGE' })), 'endpointsPerRuntime'],
      ['gateway', () => client.send(new CreateGatewayCommand({ name: 'more', roleArn: ROLE, authorizerType: 'NONE' })), 'gateways'],
      ['target', () => client.send(new CreateGatewayTargetCommand({ gatewayIdentifier: gateway.gatewayId, name: 'two', targetConfiguration: { mcp: { mcpServer: { endpoint: 'https://tools.example/mcp' } } } })), 'targetsPerGateway'],
      ['workload identity', () => client.send(new CreateWorkloadIdentityCommand({ name: 'another' })), 'workloadIdentities'],
      ['oauth2 provider', () => client.send(new CreateOauth2CredentialProviderCommand({ name: 'idp', credentialProviderVendor: 'GithubOauth2', oauth2ProviderConfigInput: { githubOauth2ProviderConfig: { clientId: 'c', clientSecret: 's' } } })), 'credentialProviders'],
    ];
    for (const [label, call, quota] of cases) {
      const refused = await refusal(call());
      assert.deepEqual([refused.name, refused.status], ['ServiceQuotaExceededException', 402], `${label}: ${refused.message}`);
      assert.match(refused.message, new RegExp(`controlPlane\\.quotas\\.${quota}`), label);
    }
    assert.deepEqual((await client.send(new ListAgentRuntimesCommand({}))).agentRuntimes?.map((entry) => entry.agentRuntimeName), ['ops_agent', 'only']);
    assert.equal((await client.send(new ListGatewaysCommand({}))).items?.length, 2);
  });
});

test('updating or deleting a runtime while its new version is starting is a ConflictException; afterwards it is not', async () => {
  const base = mkdtempSync(path.join(tmpdir(), 'request-guards-'));
  const root = path.join(base, 'agents');
  mkdirSync(root);
  writeFileSync(path.join(root, 'slow.js'), 'setInterval(() => {}, 1000);');
  await withServer({ commandRoots: [root], startTimeoutSeconds: 2 }, async (server) => {
    const creating = server.clientWithAgent({ command: ['node', path.join(root, 'slow.js')] }).send(new CreateAgentRuntimeCommand(spec('slow')));
    const client = server.client();
    let id: string | undefined;
    for (let attempt = 0; attempt < 50 && !id; attempt++) {
      id = (await client.send(new ListAgentRuntimesCommand({}))).agentRuntimes?.find((runtime) => runtime.agentRuntimeName === 'slow')?.agentRuntimeId;
      if (!id) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(id, 'the row is written before the agent starts');
    assert.equal((await client.send(new GetAgentRuntimeCommand({ agentRuntimeId: id }))).status, 'CREATING');
    const deleting = await refusal(client.send(new DeleteAgentRuntimeCommand({ agentRuntimeId: id })));
    assert.deepEqual([deleting.name, deleting.status], ['ConflictException', 409]);
    assert.equal((await refusal(client.send(new UpdateAgentRuntimeCommand({ ...spec('x'), agentRuntimeId: id })))).name, 'ConflictException');
    assert.equal((await creating).status, 'CREATE_FAILED');
    assert.equal((await client.send(new DeleteAgentRuntimeCommand({ agentRuntimeId: id }))).status, 'DELETING', 'positive control: once settled it can be deleted');
  });
});

test('client tokens are forgotten after 8 hours: then the token is a new request, and expired ones are removed from the store', async () => {
  const store = await ResourceStore.open({ dataDir: mkdtempSync(path.join(tmpdir(), 'client-tokens-')), sealingKey: Buffer.alloc(32, 7) });
  try {
    let now = Date.parse('2026-12-07T00:00:00Z');
    const tokens = new ClientTokens(store, () => now);
    const key = ClientTokens.key('CreateGateway', 'admin', TOKEN);
    await tokens.remember(key, 'input-a', { status: 202, body: { gatewayId: 'g-1' } });
    assert.deepEqual(await tokens.replay(key, 'input-a'), { status: 202, body: { gatewayId: 'g-1' } });
    await assert.rejects(tokens.replay(key, 'input-b'), /IdempotentParameterMismatch/);
    now += 8 * 60 * 60 * 1000 + 1;
    assert.equal(await tokens.replay(key, 'input-b'), undefined, 'expired: a new request');
    await tokens.forgetExpired();
    assert.equal((await store.list('client-token')).length, 0);
  } finally {
    await store.close();
  }
});
