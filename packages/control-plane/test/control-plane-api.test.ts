import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  BedrockAgentCoreControlServiceException,
  CreateAgentRuntimeCommand,
  CreateAgentRuntimeEndpointCommand,
  CreateApiKeyCredentialProviderCommand,
  CreateGatewayCommand,
  CreateGatewayTargetCommand,
  CreateOauth2CredentialProviderCommand,
  CreateWorkloadIdentityCommand,
  DeleteAgentRuntimeCommand,
  DeleteAgentRuntimeEndpointCommand,
  DeleteApiKeyCredentialProviderCommand,
  DeleteGatewayCommand,
  DeleteGatewayTargetCommand,
  DeleteOauth2CredentialProviderCommand,
  DeleteWorkloadIdentityCommand,
  GetAgentRuntimeCommand,
  GetAgentRuntimeEndpointCommand,
  GetApiKeyCredentialProviderCommand,
  GetGatewayCommand,
  GetGatewayTargetCommand,
  GetOauth2CredentialProviderCommand,
  GetTokenVaultCommand,
  GetWorkloadIdentityCommand,
  ListAgentRuntimeEndpointsCommand,
  ListAgentRuntimesCommand,
  ListAgentRuntimeVersionsCommand,
  ListApiKeyCredentialProvidersCommand,
  ListGatewaysCommand,
  ListGatewayTargetsCommand,
  ListOauth2CredentialProvidersCommand,
  ListWorkloadIdentitiesCommand,
  UpdateAgentRuntimeCommand,
  UpdateAgentRuntimeEndpointCommand,
  UpdateApiKeyCredentialProviderCommand,
  UpdateGatewayCommand,
  UpdateWorkloadIdentityCommand,
  type BedrockAgentCoreControlClient,
  type CreateAgentRuntimeCommandInput,
} from '@aws-sdk/client-bedrock-agentcore-control';
import type { GatewayConfig } from '@gatehouse/core';
import { RUNTIME_NOT_SERVED } from '../src/index.ts';
import { READER, startControlPlane, type ControlPlaneServer } from './support/control-plane-server.ts';

const ROLE = 'arn:aws:iam::000000000000:role/agent';
const codeRuntime = (name: string, entryPoint = 'main.py'): CreateAgentRuntimeCommandInput => ({
  agentRuntimeName: name,
  agentRuntimeArtifact: { codeConfiguration: { code: { s3: { bucket: 'agent-code', prefix: 'agent.zip' } }, runtime: 'PYTHON_3_12', entryPoint: [entryPoint] } },
  roleArn: ROLE,
  networkConfiguration: { networkMode: 'PUBLIC' },
});

async function refusal(promise: Promise<unknown>): Promise<{ name: string; status: number | undefined; message: string; fieldList?: { name: string; message: string }[] }> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof BedrockAgentCoreControlServiceException, `expected a service exception, got ${String(error)}`);
    const fieldList = (error as unknown as { fieldList?: { name: string; message: string }[] }).fieldList;
    return { name: error.name, status: error.$metadata.httpStatusCode, message: error.message, ...(fieldList ? { fieldList } : {}) };
  }
  assert.fail('expected the call to be refused');
}

async function withServer(work: (server: ControlPlaneServer, client: BedrockAgentCoreControlClient) => Promise<void>): Promise<void> {
  const server = await startControlPlane();
  try {
    await work(server, server.client());
  } finally {
    await server.close();
  }
}

test('runtimes and gateways declared in gatehouse.yaml are listed READY and read by name', async () => {
  await withServer(async (_server, client) => {
    const runtimes = await client.send(new ListAgentRuntimesCommand({}));
    assert.deepEqual(runtimes.agentRuntimes?.map((runtime) => [runtime.agentRuntimeId, runtime.status, runtime.agentRuntimeVersion]), [['ops_agent', 'READY', '1']]);
    const runtime = await client.send(new GetAgentRuntimeCommand({ agentRuntimeId: 'ops_agent' }));
    assert.equal(runtime.agentRuntimeArn, 'arn:aws:bedrock-agentcore:us-east-1:000000000000:runtime/ops_agent');
    assert.equal(runtime.description, 'declared in the file');
    assert.ok(runtime.createdAt instanceof Date);
    const endpoints = await client.send(new ListAgentRuntimeEndpointsCommand({ agentRuntimeId: 'ops_agent' }));
    assert.deepEqual(endpoints.runtimeEndpoints?.map((endpoint) => [endpoint.name, endpoint.liveVersion, endpoint.status]), [['DEFAULT', '1', 'READY']]);
    const gateways = await client.send(new ListGatewaysCommand({}));
    assert.deepEqual(gateways.items?.map((gateway) => [gateway.gatewayId, gateway.status, gateway.authorizerType]), [['default', 'READY', 'CUSTOM_JWT']]);
    const gateway = await client.send(new GetGatewayCommand({ gatewayIdentifier: 'default' }));
    assert.equal(gateway.gatewayUrl, 'http://127.0.0.1/mcp');
    const targets = await client.send(new ListGatewayTargetsCommand({ gatewayIdentifier: 'default' }));
    assert.deepEqual(targets.items?.map((target) => [target.targetId, target.status]), [['ops', 'READY']]);
    const workloads = await client.send(new ListWorkloadIdentitiesCommand({}));
    assert.deepEqual(workloads.workloadIdentities?.map((identity) => identity.name), ['ops_agent']);
  });
});

test('a runtime created by the API keeps immutable versions, DEFAULT follows the latest and a named endpoint pins one', async () => {
  await withServer(async (_server, client) => {
    const created = await client.send(new CreateAgentRuntimeCommand({ ...codeRuntime('shop_agent'), description: 'first' }));
    assert.match(created.agentRuntimeId ?? '', /^shop_agent-[a-zA-Z0-9]{10}$/);
    assert.equal(created.agentRuntimeArn, `arn:aws:bedrock-agentcore:us-east-1:000000000000:runtime/${created.agentRuntimeId}`);
    assert.equal(created.agentRuntimeVersion, '1');
    // Not served yet: said as the status and its reason, never READY.
    assert.equal(created.status, 'CREATE_FAILED');
    const id = created.agentRuntimeId!;
    const first = await client.send(new GetAgentRuntimeCommand({ agentRuntimeId: id }));
    assert.equal(first.failureReason, RUNTIME_NOT_SERVED);
    assert.deepEqual(first.lifecycleConfiguration, { idleRuntimeSessionTimeout: 900, maxLifetime: 28800 });
    const identity = await client.send(new GetWorkloadIdentityCommand({ name: id }));
    assert.equal(identity.workloadIdentityArn, created.workloadIdentityDetails?.workloadIdentityArn);

    const updated = await client.send(new UpdateAgentRuntimeCommand({ ...codeRuntime('ignored', 'app.py'), agentRuntimeId: id, description: 'second' }));
    assert.equal(updated.agentRuntimeVersion, '2');
    const versions = await client.send(new ListAgentRuntimeVersionsCommand({ agentRuntimeId: id }));
    assert.deepEqual(versions.agentRuntimes?.map((version) => [version.agentRuntimeVersion, version.description]), [['2', 'second'], ['1', 'first']]);
    const old = await client.send(new GetAgentRuntimeCommand({ agentRuntimeId: id, agentRuntimeVersion: '1' }));
    assert.deepEqual(old.agentRuntimeArtifact?.codeConfiguration?.entryPoint, ['main.py']);
    assert.deepEqual((await client.send(new GetAgentRuntimeCommand({ agentRuntimeId: id }))).agentRuntimeArtifact?.codeConfiguration?.entryPoint, ['app.py']);

    const prod = await client.send(new CreateAgentRuntimeEndpointCommand({ agentRuntimeId: id, name: 'PROD', agentRuntimeVersion: '1' }));
    assert.equal(prod.targetVersion, '1');
    const defaultEndpoint = await client.send(new GetAgentRuntimeEndpointCommand({ agentRuntimeId: id, endpointName: 'DEFAULT' }));
    assert.deepEqual([defaultEndpoint.targetVersion, defaultEndpoint.liveVersion], ['2', undefined], 'no version runs here, so none is live');
    assert.equal((await client.send(new GetAgentRuntimeEndpointCommand({ agentRuntimeId: id, endpointName: 'PROD' }))).liveVersion, '1');
    await client.send(new UpdateAgentRuntimeCommand({ ...codeRuntime('ignored', 'three.py'), agentRuntimeId: id }));
    assert.equal((await client.send(new GetAgentRuntimeEndpointCommand({ agentRuntimeId: id, endpointName: 'PROD' }))).liveVersion, '1', 'PROD stays pinned');
    assert.equal((await client.send(new GetAgentRuntimeEndpointCommand({ agentRuntimeId: id, endpointName: 'DEFAULT' }))).targetVersion, '3');
    await client.send(new UpdateAgentRuntimeEndpointCommand({ agentRuntimeId: id, endpointName: 'PROD', agentRuntimeVersion: '3' }));
    assert.equal((await client.send(new GetAgentRuntimeEndpointCommand({ agentRuntimeId: id, endpointName: 'PROD' }))).liveVersion, '3');
    assert.equal((await refusal(client.send(new UpdateAgentRuntimeEndpointCommand({ agentRuntimeId: id, endpointName: 'PROD', agentRuntimeVersion: '9' })))).name, 'ResourceNotFoundException');
    const pinDefault = await refusal(client.send(new UpdateAgentRuntimeEndpointCommand({ agentRuntimeId: id, endpointName: 'DEFAULT', agentRuntimeVersion: '1' })));
    assert.deepEqual(pinDefault.fieldList?.map((field) => field.name), ['agentRuntimeVersion']);
    await client.send(new DeleteAgentRuntimeEndpointCommand({ agentRuntimeId: id, endpointName: 'PROD' }));
    assert.deepEqual((await client.send(new ListAgentRuntimeEndpointsCommand({ agentRuntimeId: id }))).runtimeEndpoints?.map((endpoint) => endpoint.name), ['DEFAULT']);

    const deleted = await client.send(new DeleteAgentRuntimeCommand({ agentRuntimeId: id }));
    assert.equal(deleted.status, 'DELETING');
    assert.equal((await refusal(client.send(new GetAgentRuntimeCommand({ agentRuntimeId: id })))).name, 'ResourceNotFoundException');
    assert.equal((await refusal(client.send(new GetWorkloadIdentityCommand({ name: id })))).name, 'ResourceNotFoundException', 'its workload identity goes with it');
    assert.deepEqual((await client.send(new ListAgentRuntimesCommand({}))).agentRuntimes?.map((runtime) => runtime.agentRuntimeName), ['ops_agent']);
  });
});

test('an agent URL in gatehouseAgent makes a runtime READY; local commands and remote plain http are refused', async () => {
  await withServer(async (server, client) => {
    const ready = await server.clientWithAgent({ url: 'http://127.0.0.1:9999' }).send(new CreateAgentRuntimeCommand(codeRuntime('url_agent')));
    assert.equal(ready.status, 'READY');
    assert.equal((await client.send(new GetAgentRuntimeCommand({ agentRuntimeId: ready.agentRuntimeId }))).failureReason, undefined);
    const command = await refusal(server.clientWithAgent({ command: ['/bin/sh', '-c', 'id'] }).send(new CreateAgentRuntimeCommand(codeRuntime('cmd_agent'))));
    assert.deepEqual([command.name, command.fieldList?.map((field) => field.name)], ['ValidationException', ['gatehouseAgent.command']]);
    const remote = await refusal(server.clientWithAgent({ url: 'http://agent.example:8080' }).send(new CreateAgentRuntimeCommand(codeRuntime('remote_agent'))));
    assert.deepEqual([remote.name, remote.fieldList?.map((field) => field.name)], ['ValidationException', ['gatehouseAgent.url']]);
    const garbage = await refusal(server.clientWithAgent({ url: 'not a url' }).send(new CreateAgentRuntimeCommand(codeRuntime('bad_agent'))));
    assert.deepEqual(garbage.fieldList?.map((field) => field.name), ['gatehouseAgent.url']);
    assert.deepEqual((await client.send(new ListAgentRuntimesCommand({}))).agentRuntimes?.map((runtime) => runtime.agentRuntimeName), ['ops_agent', 'url_agent']);
  });
});

test('protocolConfiguration.serverProtocol is stored, returned by Get and passed to the runtime that serves it', async () => {
  const served = new Map<string, string>();
  const host = {
    async addRuntime(runtime: { id: string; config: { protocolConfiguration: { serverProtocol: string } } }) {
      served.set(runtime.id, runtime.config.protocolConfiguration.serverProtocol);
    },
    async removeRuntime(id: string) {
      served.delete(id);
    },
  };
  const server = await startControlPlane(undefined, { runtimes: host, pollIntervalMs: 50 });
  try {
    const client = server.client();
    const created = await server.clientWithAgent({ url: 'http://127.0.0.1:9999' }).send(new CreateAgentRuntimeCommand({ ...codeRuntime('mcp_tools'), protocolConfiguration: { serverProtocol: 'MCP' } }));
    assert.deepEqual((await client.send(new GetAgentRuntimeCommand({ agentRuntimeId: created.agentRuntimeId }))).protocolConfiguration, { serverProtocol: 'MCP' });
    for (let attempt = 0; attempt < 100 && !served.has(created.agentRuntimeId!); attempt++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(served.get(created.agentRuntimeId!), 'MCP');
    // A runtime declared in gatehouse.yaml reports the protocol it was declared with (HTTP by default).
    assert.deepEqual((await client.send(new GetAgentRuntimeCommand({ agentRuntimeId: 'ops_agent' }))).protocolConfiguration, { serverProtocol: 'HTTP' });
    const bad = await refusal(client.send(new CreateAgentRuntimeCommand({ ...codeRuntime('bad_protocol'), protocolConfiguration: { serverProtocol: 'GRPC' as 'MCP' } })));
    assert.deepEqual([bad.name, bad.fieldList?.map((field) => field.name)], ['ValidationException', ['protocolConfiguration.serverProtocol']]);
  } finally {
    await server.close();
  }
});

test('a container runtime says it cannot run without a container engine', async () => {
  await withServer(async (_server, client) => {
    const created = await client.send(new CreateAgentRuntimeCommand({ ...codeRuntime('boxed'), agentRuntimeArtifact: { containerConfiguration: { containerUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/agent:latest' } } }));
    const runtime = await client.send(new GetAgentRuntimeCommand({ agentRuntimeId: created.agentRuntimeId }));
    assert.equal(runtime.status, 'CREATE_FAILED');
    assert.match(runtime.failureReason ?? '', /container engine/);
  });
});

test('resources declared in gatehouse.yaml are read-only through the API, and their names are taken', async () => {
  await withServer(async (_server, client) => {
    const update = await refusal(client.send(new UpdateAgentRuntimeCommand({ ...codeRuntime('x'), agentRuntimeId: 'ops_agent' })));
    assert.deepEqual([update.name, update.status], ['ConflictException', 409]);
    assert.match(update.message, /managed by gatehouse\.yaml/);
    for (const call of [
      () => client.send(new DeleteAgentRuntimeCommand({ agentRuntimeId: 'ops_agent' })),
      () => client.send(new CreateAgentRuntimeEndpointCommand({ agentRuntimeId: 'ops_agent', name: 'PROD' })),
      () => client.send(new DeleteGatewayCommand({ gatewayIdentifier: 'default' })),
      () => client.send(new UpdateGatewayCommand({ gatewayIdentifier: 'default', name: 'default', roleArn: ROLE, authorizerType: 'NONE' })),
      () => client.send(new CreateGatewayTargetCommand({ gatewayIdentifier: 'default', name: 'extra', targetConfiguration: { mcp: { mcpServer: { endpoint: 'https://x.example/mcp' } } } })),
      () => client.send(new DeleteWorkloadIdentityCommand({ name: 'ops_agent' })),
    ]) {
      const refused = await refusal(call());
      assert.deepEqual([refused.name, /managed by gatehouse\.yaml/.test(refused.message)], ['ConflictException', true], refused.message);
    }
    assert.equal((await refusal(client.send(new CreateAgentRuntimeCommand(codeRuntime('ops_agent'))))).name, 'ConflictException');
    assert.equal((await refusal(client.send(new CreateGatewayCommand({ name: 'default', roleArn: ROLE, authorizerType: 'NONE' })))).name, 'ConflictException');
    // Nothing changed: still the one declared runtime with its DEFAULT endpoint, the gateway with its one target.
    assert.deepEqual((await client.send(new ListAgentRuntimesCommand({}))).agentRuntimes?.map((runtime) => runtime.agentRuntimeName), ['ops_agent']);
    assert.deepEqual((await client.send(new ListGatewayTargetsCommand({ gatewayIdentifier: 'default' }))).items?.map((target) => target.name), ['ops']);
  });
});

test('bad input to every operation is a ValidationException naming the field', async () => {
  await withServer(async (_server, client) => {
    const runtime = await client.send(new CreateAgentRuntimeCommand(codeRuntime('valid_agent')));
    const id = runtime.agentRuntimeId!;
    const gateway = await client.send(new CreateGatewayCommand({ name: 'tools', roleArn: ROLE, authorizerType: 'NONE' }));
    const cases: [string, () => Promise<unknown>, string][] = [
      ['runtime name', () => client.send(new CreateAgentRuntimeCommand(codeRuntime('9-bad name'))), 'agentRuntimeName'],
      ['role', () => client.send(new CreateAgentRuntimeCommand({ ...codeRuntime('a1'), roleArn: 'not-a-role' })), 'roleArn'],
      ['network', () => client.send(new CreateAgentRuntimeCommand({ ...codeRuntime('a2'), networkConfiguration: { networkMode: 'VPC' } })), 'networkConfiguration.networkMode'],
      ['entry point', () => client.send(new CreateAgentRuntimeCommand({ ...codeRuntime('a3'), agentRuntimeArtifact: { codeConfiguration: { code: { s3: { bucket: 'agent-code', prefix: 'a.zip' } }, runtime: 'PYTHON_3_12', entryPoint: [] } } })), 'agentRuntimeArtifact.codeConfiguration.entryPoint'],
      ['bucket', () => client.send(new CreateAgentRuntimeCommand({ ...codeRuntime('a4'), agentRuntimeArtifact: { codeConfiguration: { code: { s3: { bucket: 'UPPER', prefix: 'a.zip' } }, runtime: 'PYTHON_3_12', entryPoint: ['m.py'] } } })), 'agentRuntimeArtifact.codeConfiguration.code.s3.bucket'],
      ['container uri', () => client.send(new CreateAgentRuntimeCommand({ ...codeRuntime('a5'), agentRuntimeArtifact: { containerConfiguration: { containerUri: 'docker.io/library/agent' } } })), 'agentRuntimeArtifact.containerConfiguration.containerUri'],
      ['discovery url off loopback', () => client.send(new CreateAgentRuntimeCommand({ ...codeRuntime('a6'), authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: 'http://issuer.example/.well-known/openid-configuration', allowedClients: ['c'] } } })), 'authorizerConfiguration.customJWTAuthorizer.discoveryUrl'],
      ['lifecycle', () => client.send(new CreateAgentRuntimeCommand({ ...codeRuntime('a7'), lifecycleConfiguration: { idleRuntimeSessionTimeout: 5 } })), 'lifecycleConfiguration.idleRuntimeSessionTimeout'],
      ['version query', () => client.send(new GetAgentRuntimeCommand({ agentRuntimeId: id, agentRuntimeVersion: 'x' })), 'version'],
      ['update runtime', () => client.send(new UpdateAgentRuntimeCommand({ ...codeRuntime('x'), agentRuntimeId: id, roleArn: 'arn:aws:iam::1:user/me' })), 'roleArn'],
      ['list page size', () => client.send(new ListAgentRuntimesCommand({ maxResults: 1000 })), 'maxResults'],
      ['list token', () => client.send(new ListAgentRuntimeVersionsCommand({ agentRuntimeId: id, nextToken: 'forged!' })), 'nextToken'],
      ['endpoint name', () => client.send(new CreateAgentRuntimeEndpointCommand({ agentRuntimeId: id, name: 'bad-name' })), 'name'],
      ['endpoint version', () => client.send(new UpdateAgentRuntimeEndpointCommand({ agentRuntimeId: id, endpointName: 'DEFAULT', agentRuntimeVersion: '0' })), 'agentRuntimeVersion'],
      ['endpoint list size', () => client.send(new ListAgentRuntimeEndpointsCommand({ agentRuntimeId: id, maxResults: 0 })), 'maxResults'],
      ['gateway name', () => client.send(new CreateGatewayCommand({ name: 'bad_name', roleArn: ROLE, authorizerType: 'NONE' })), 'name'],
      ['gateway authorizer', () => client.send(new CreateGatewayCommand({ name: 'jwt', roleArn: ROLE, authorizerType: 'CUSTOM_JWT' })), 'authorizerConfiguration'],
      ['gateway update', () => client.send(new UpdateGatewayCommand({ gatewayIdentifier: gateway.gatewayId, name: 'tools', roleArn: ROLE, authorizerType: 'SOMETHING' as 'NONE' })), 'authorizerType'],
      ['gateway list', () => client.send(new ListGatewaysCommand({ maxResults: 0 })), 'maxResults'],
      ['target endpoint', () => client.send(new CreateGatewayTargetCommand({ gatewayIdentifier: gateway.gatewayId, name: 'remote', targetConfiguration: { mcp: { mcpServer: { endpoint: 'http://tools.example/mcp' } } } })), 'targetConfiguration.mcp.mcpServer.endpoint'],
      ['target provider', () => client.send(new CreateGatewayTargetCommand({ gatewayIdentifier: gateway.gatewayId, name: 'keyed', targetConfiguration: { mcp: { mcpServer: { endpoint: 'https://tools.example/mcp' } } }, credentialProviderConfigurations: [{ credentialProviderType: 'API_KEY', credentialProvider: { apiKeyCredentialProvider: { providerArn: 'arn:aws:bedrock-agentcore:us-east-1:000000000000:token-vault/default/apikeycredentialprovider/none' } } }] })), 'credentialProviderConfigurations[0].credentialProvider.apiKeyCredentialProvider.providerArn'],
      ['target list', () => client.send(new ListGatewayTargetsCommand({ gatewayIdentifier: gateway.gatewayId, maxResults: 0 })), 'maxResults'],
      ['target id', () => client.send(new GetGatewayTargetCommand({ gatewayIdentifier: gateway.gatewayId, targetId: 'short' })), 'targetId'],
      ['workload name', () => client.send(new CreateWorkloadIdentityCommand({ name: 'a b' })), 'name'],
      ['workload urls', () => client.send(new UpdateWorkloadIdentityCommand({ name: id, allowedResourceOauth2ReturnUrls: ['http://app.example/cb'] })), 'allowedResourceOauth2ReturnUrls[0]'],
      ['workload get', () => client.send(new GetWorkloadIdentityCommand({ name: 'ab' })), 'name'],
      ['oauth2 vendor', () => client.send(new CreateOauth2CredentialProviderCommand({ name: 'p', credentialProviderVendor: 'Nope' as 'CustomOauth2', oauth2ProviderConfigInput: {} as never })), 'credentialProviderVendor'],
      ['oauth2 discovery', () => client.send(new CreateOauth2CredentialProviderCommand({ name: 'p', credentialProviderVendor: 'CustomOauth2', oauth2ProviderConfigInput: { customOauth2ProviderConfig: { oauthDiscovery: { discoveryUrl: 'http://idp.example/.well-known/openid-configuration' }, clientId: 'c', clientSecret: 's' } } })), 'oauth2ProviderConfigInput.customOauth2ProviderConfig.oauthDiscovery.discoveryUrl'],
      ['oauth2 get', () => client.send(new GetOauth2CredentialProviderCommand({ name: 'bad name' })), 'name'],
      ['api key name', () => client.send(new CreateApiKeyCredentialProviderCommand({ name: 'bad name', apiKey: 'k' })), 'name'],
      ['api key value', () => client.send(new CreateApiKeyCredentialProviderCommand({ name: 'good', apiKey: '' })), 'apiKey'],
      ['api key list', () => client.send(new ListApiKeyCredentialProvidersCommand({ maxResults: 500 })), 'maxResults'],
      ['oauth2 list', () => client.send(new ListOauth2CredentialProvidersCommand({ nextToken: '%%%' })), 'nextToken'],
      ['token vault', () => client.send(new GetTokenVaultCommand({ tokenVaultId: 'bad id' })), 'tokenVaultId'],
    ];
    for (const [label, call, field] of cases) {
      const refused = await refusal(call());
      assert.deepEqual([refused.name, refused.status, refused.fieldList?.map((entry) => entry.name)], ['ValidationException', 400, [field]], `${label}: ${refused.message}`);
    }
    // None of them left anything behind.
    assert.deepEqual((await client.send(new ListAgentRuntimesCommand({}))).agentRuntimes?.map((entry) => entry.agentRuntimeName), ['ops_agent', 'valid_agent']);
    assert.deepEqual((await client.send(new ListGatewayTargetsCommand({ gatewayIdentifier: gateway.gatewayId }))).items, []);
    assert.deepEqual((await client.send(new ListApiKeyCredentialProvidersCommand({}))).credentialProviders, []);
  });
});

test('unknown ids are ResourceNotFoundException, duplicate names ConflictException', async () => {
  await withServer(async (_server, client) => {
    const missing = 'ghost_agent-AAAAAAAAAA';
    for (const call of [
      () => client.send(new GetAgentRuntimeCommand({ agentRuntimeId: missing })),
      () => client.send(new UpdateAgentRuntimeCommand({ ...codeRuntime('x'), agentRuntimeId: missing })),
      () => client.send(new DeleteAgentRuntimeCommand({ agentRuntimeId: missing })),
      () => client.send(new ListAgentRuntimeVersionsCommand({ agentRuntimeId: missing })),
      () => client.send(new GetAgentRuntimeEndpointCommand({ agentRuntimeId: 'ops_agent', endpointName: 'PROD' })),
      () => client.send(new GetGatewayCommand({ gatewayIdentifier: 'ghost-aaaaaaaaaa' })),
      () => client.send(new GetGatewayTargetCommand({ gatewayIdentifier: 'default', targetId: 'AAAAAAAAAA' })),
      () => client.send(new GetWorkloadIdentityCommand({ name: 'ghost' })),
      () => client.send(new GetOauth2CredentialProviderCommand({ name: 'ghost' })),
      () => client.send(new DeleteApiKeyCredentialProviderCommand({ name: 'ghost' })),
      () => client.send(new GetTokenVaultCommand({ tokenVaultId: 'other' })),
    ]) {
      const refused = await refusal(call());
      assert.deepEqual([refused.name, refused.status], ['ResourceNotFoundException', 404], refused.message);
    }
    await client.send(new CreateAgentRuntimeCommand(codeRuntime('twice')));
    assert.equal((await refusal(client.send(new CreateAgentRuntimeCommand(codeRuntime('twice'))))).name, 'ConflictException');
    await client.send(new CreateWorkloadIdentityCommand({ name: 'batch-job' }));
    assert.equal((await refusal(client.send(new CreateWorkloadIdentityCommand({ name: 'batch-job' })))).name, 'ConflictException');
  });
});

test('unsigned, badly signed and under-privileged calls are refused with nothing written', async () => {
  await withServer(async (server, client) => {
    const body = JSON.stringify(codeRuntime('sneaky'));
    const unsigned = await fetch(`${server.url}/runtimes/`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body });
    assert.equal(unsigned.status, 403);
    assert.equal(unsigned.headers.get('x-amzn-errortype'), 'AccessDeniedException');
    assert.match(((await unsigned.json()) as { message: string }).message, /SigV4/);
    const forged = server.client({ accessKeyId: 'AKIAGATEHOUSEADMIN01', secretAccessKey: 'wrong-secret-0000000000000000000000000000' });
    assert.equal((await refusal(forged.send(new CreateAgentRuntimeCommand(codeRuntime('sneaky'))))).name, 'AccessDeniedException');
    const stranger = server.client({ accessKeyId: 'AKIANOTAKEY000000000', secretAccessKey: 'x'.repeat(40) });
    assert.equal((await refusal(stranger.send(new CreateWorkloadIdentityCommand({ name: 'sneaky' })))).name, 'AccessDeniedException');
    const reader = server.client(READER);
    // Positive control: the reader's one permitted action works.
    assert.equal((await reader.send(new GetAgentRuntimeCommand({ agentRuntimeId: 'ops_agent' }))).status, 'READY');
    const refused = await refusal(reader.send(new CreateAgentRuntimeCommand(codeRuntime('sneaky'))));
    assert.deepEqual([refused.name, refused.status], ['AccessDeniedException', 403]);
    assert.match(refused.message, /bedrock-agentcore:CreateAgentRuntime/);
    assert.deepEqual((await client.send(new ListAgentRuntimesCommand({}))).agentRuntimes?.map((runtime) => runtime.agentRuntimeName), ['ops_agent']);
    assert.deepEqual((await client.send(new ListWorkloadIdentitiesCommand({}))).workloadIdentities?.map((identity) => identity.name), ['ops_agent']);
  });
});

test('credential provider secrets are sealed at rest and never returned', async () => {
  await withServer(async (server, client) => {
    const apiKey = 'sk-live-THIS-MUST-NOT-LEAK-1234567890';
    const clientSecret = 'oauth-client-secret-THAT-MUST-NOT-LEAK';
    const responses: unknown[] = [];
    const keep = <T>(value: T): T => {
      responses.push(value);
      return value;
    };
    const created = keep(await client.send(new CreateApiKeyCredentialProviderCommand({ name: 'search-key', apiKey })));
    assert.match(created.apiKeySecretArn?.secretArn ?? '', /^arn:aws:secretsmanager:us-east-1:000000000000:secret:/);
    keep(await client.send(new GetApiKeyCredentialProviderCommand({ name: 'search-key' })));
    keep(await client.send(new UpdateApiKeyCredentialProviderCommand({ name: 'search-key', apiKey: `${apiKey}-2` })));
    keep(await client.send(new ListApiKeyCredentialProvidersCommand({})));
    const oauth = keep(
      await client.send(
        new CreateOauth2CredentialProviderCommand({
          name: 'idp',
          credentialProviderVendor: 'CustomOauth2',
          oauth2ProviderConfigInput: { customOauth2ProviderConfig: { oauthDiscovery: { discoveryUrl: 'https://idp.example/.well-known/openid-configuration' }, clientId: 'gatehouse', clientSecret } },
        }),
      ),
    );
    assert.deepEqual(oauth.oauth2ProviderConfigOutput?.customOauth2ProviderConfig?.clientId, 'gatehouse');
    keep(await client.send(new GetOauth2CredentialProviderCommand({ name: 'idp' })));
    keep(await client.send(new ListOauth2CredentialProvidersCommand({})));
    const text = JSON.stringify(responses);
    assert.ok(!text.includes(apiKey) && !text.includes(clientSecret), 'no response carries a secret');
    assert.match(server.log(), /CreateApiKeyCredentialProvider/, 'positive control: the calls were logged');
    assert.ok(!server.log().includes(apiKey) && !server.log().includes(clientSecret), 'no log line carries a secret');
    const database = ['control-plane.db', 'control-plane.db-wal']
      .map((file) => path.join(server.dataDir, file))
      .filter((file) => existsSync(file))
      .map((file) => readFileSync(file).toString('latin1'))
      .join('');
    assert.ok(database.includes('search-key'), 'positive control: the file holds the provider');
    assert.ok(!database.includes(apiKey) && !database.includes(clientSecret), 'secrets are sealed in the file');
    assert.deepEqual(await server.service.store.secret('api-key-credential-provider', 'search-key'), { apiKey: `${apiKey}-2` });
    assert.deepEqual(await server.service.store.secret('oauth2-credential-provider', 'idp'), { clientSecret });

    // A target that uses the key holds it: neither the provider nor the gateway can go while it does.
    const gateway = await client.send(new CreateGatewayCommand({ name: 'search', roleArn: ROLE, authorizerType: 'NONE' }));
    assert.equal(gateway.status, 'FAILED');
    assert.match(gateway.statusReasons?.[0] ?? '', /authorizerType CUSTOM_JWT only/, 'a gateway without inbound auth is never served');
    const target = await client.send(
      new CreateGatewayTargetCommand({
        gatewayIdentifier: gateway.gatewayId,
        name: 'web-search',
        targetConfiguration: { mcp: { mcpServer: { endpoint: 'https://search.example/mcp' } } },
        credentialProviderConfigurations: [{ credentialProviderType: 'API_KEY', credentialProvider: { apiKeyCredentialProvider: { providerArn: created.credentialProviderArn!, credentialParameterName: 'x-api-key' } } }],
      }),
    );
    assert.match(target.targetId ?? '', /^[0-9A-Z]{10}$/);
    assert.equal((await client.send(new GetGatewayTargetCommand({ gatewayIdentifier: gateway.gatewayId, targetId: target.targetId }))).name, 'web-search');
    assert.equal((await refusal(client.send(new DeleteApiKeyCredentialProviderCommand({ name: 'search-key' })))).name, 'ConflictException');
    assert.equal((await refusal(client.send(new DeleteGatewayCommand({ gatewayIdentifier: gateway.gatewayId })))).name, 'ConflictException');
    await client.send(new DeleteGatewayTargetCommand({ gatewayIdentifier: gateway.gatewayId, targetId: target.targetId }));
    await client.send(new DeleteApiKeyCredentialProviderCommand({ name: 'search-key' }));
    await client.send(new DeleteOauth2CredentialProviderCommand({ name: 'idp' }));
    await client.send(new DeleteGatewayCommand({ gatewayIdentifier: gateway.gatewayId }));
    assert.deepEqual((await client.send(new ListGatewaysCommand({}))).items?.map((entry) => entry.name), ['default']);
    assert.equal(await server.service.store.secret('api-key-credential-provider', 'search-key'), undefined);
  });
});

test('two instances on one data dir see each other’s changes at once', async () => {
  const first = await startControlPlane();
  const second = await startControlPlane(first.dataDir);
  try {
    const created = await first.client().send(new CreateAgentRuntimeCommand(codeRuntime('shared')));
    assert.equal((await second.client().send(new GetAgentRuntimeCommand({ agentRuntimeId: created.agentRuntimeId }))).agentRuntimeName, 'shared');
    await second.client().send(new UpdateAgentRuntimeCommand({ ...codeRuntime('shared', 'b.py'), agentRuntimeId: created.agentRuntimeId }));
    assert.equal((await first.client().send(new GetAgentRuntimeCommand({ agentRuntimeId: created.agentRuntimeId }))).agentRuntimeVersion, '2');
    assert.equal((await refusal(second.client().send(new CreateAgentRuntimeCommand(codeRuntime('shared'))))).name, 'ConflictException');
  } finally {
    await second.close();
    await first.close();
  }
});

test('an instance serves runtimes another instance on the same data dir creates, changes and deletes', async () => {
  const served = new Map<string, string[]>();
  const host = {
    async addRuntime(runtime: { id: string; endpoints: ReadonlyMap<string, unknown> }) {
      served.set(runtime.id, [...runtime.endpoints.keys()]);
    },
    async removeRuntime(id: string) {
      served.delete(id);
    },
  };
  const first = await startControlPlane();
  const second = await startControlPlane(first.dataDir, { runtimes: host, pollIntervalMs: 50 });
  const eventually = async (check: () => boolean, what: string): Promise<void> => {
    for (let attempt = 0; attempt < 100 && !check(); attempt++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(check(), what);
  };
  try {
    const agent = first.clientWithAgent({ url: 'http://127.0.0.1:9999' });
    const created = await agent.send(new CreateAgentRuntimeCommand(codeRuntime('elsewhere')));
    await eventually(() => served.has(created.agentRuntimeId!), 'created on A, served on B');
    await agent.send(new UpdateAgentRuntimeCommand({ ...codeRuntime('elsewhere', 'b.py'), agentRuntimeId: created.agentRuntimeId }));
    await first.client().send(new CreateAgentRuntimeEndpointCommand({ agentRuntimeId: created.agentRuntimeId, name: 'PROD', agentRuntimeVersion: '1' }));
    await eventually(() => served.get(created.agentRuntimeId!)?.includes('PROD') === true, 'the endpoint follows');
    // A runtime without an agent Gatehouse can run is never served.
    const stored = await first.client().send(new CreateAgentRuntimeCommand(codeRuntime('zip_only')));
    await first.client().send(new DeleteAgentRuntimeCommand({ agentRuntimeId: created.agentRuntimeId }));
    await eventually(() => !served.has(created.agentRuntimeId!), 'deleted on A, no longer served on B');
    assert.equal(served.has(stored.agentRuntimeId!), false);
  } finally {
    await second.close();
    await first.close();
  }
});

test('an instance serves gateways another instance on the same data dir creates, changes and deletes; a refused build shows in the status', async () => {
  const served = new Map<string, string[]>();
  const host = {
    async addGateway(config: GatewayConfig) {
      if (config.targets.some((target) => target.name === 'unreadable')) throw new Error('Target unreadable: the gateway component refused it');
      served.set(config.name, config.targets.map((target) => target.name));
      return { url: `http://127.0.0.1/gateways/${config.name}/mcp` };
    },
    async removeGateway(name: string) {
      served.delete(name);
    },
  };
  const first = await startControlPlane();
  const second = await startControlPlane(first.dataDir, { gateways: host, pollIntervalMs: 50 });
  const eventually = async (check: () => boolean, what: string): Promise<void> => {
    for (let attempt = 0; attempt < 100 && !check(); attempt++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(check(), what);
  };
  try {
    const client = first.client();
    const authorizerConfiguration = { customJWTAuthorizer: { discoveryUrl: 'https://idp.example/.well-known/openid-configuration', allowedClients: ['app'] } };
    const gateway = await client.send(new CreateGatewayCommand({ name: 'shared', roleArn: ROLE, authorizerType: 'CUSTOM_JWT', authorizerConfiguration }));
    await eventually(() => served.get(gateway.gatewayId!)?.length === 0, 'created on A, served on B');
    const target = await client.send(new CreateGatewayTargetCommand({ gatewayIdentifier: gateway.gatewayId, name: 'tools', targetConfiguration: { mcp: { mcpServer: { endpoint: 'https://tools.example/mcp' } } } }));
    await eventually(() => served.get(gateway.gatewayId!)?.[0] === 'tools', 'the target follows');
    // A gateway without inbound auth is never served.
    const open = await client.send(new CreateGatewayCommand({ name: 'open', roleArn: ROLE, authorizerType: 'NONE' }));
    // A change the gateway component refuses: B keeps serving the old one, and says why on B.
    const bad = await second.client().send(new CreateGatewayTargetCommand({ gatewayIdentifier: gateway.gatewayId, name: 'unreadable', targetConfiguration: { mcp: { mcpServer: { endpoint: 'https://unreadable.example/mcp' } } } }));
    assert.deepEqual(served.get(gateway.gatewayId!), ['tools']);
    assert.equal(bad.status, 'FAILED', 'the create answer already says the change was not served');
    const seen = await second.client().send(new GetGatewayCommand({ gatewayIdentifier: gateway.gatewayId }));
    assert.equal(seen.status, 'FAILED');
    assert.match(seen.statusReasons?.[0] ?? '', /Not served as stored: Target unreadable: the gateway component refused it/);
    await second.client().send(new DeleteGatewayTargetCommand({ gatewayIdentifier: gateway.gatewayId, targetId: bad.targetId }));
    assert.equal((await second.client().send(new GetGatewayCommand({ gatewayIdentifier: gateway.gatewayId }))).status, 'READY');
    await client.send(new DeleteGatewayTargetCommand({ gatewayIdentifier: gateway.gatewayId, targetId: target.targetId }));
    await client.send(new DeleteGatewayCommand({ gatewayIdentifier: gateway.gatewayId }));
    await eventually(() => !served.has(gateway.gatewayId!), 'deleted on A, no longer served on B');
    assert.equal(served.has(open.gatewayId!), false);
  } finally {
    await second.close();
    await first.close();
  }
});

test('resources survive a restart on the same data dir', async () => {
  const first = await startControlPlane();
  let runtimeId: string;
  let gatewayId: string;
  try {
    const client = first.client();
    runtimeId = (await client.send(new CreateAgentRuntimeCommand(codeRuntime('durable')))).agentRuntimeId!;
    await client.send(new UpdateAgentRuntimeCommand({ ...codeRuntime('durable', 'v2.py'), agentRuntimeId: runtimeId }));
    await client.send(new CreateAgentRuntimeEndpointCommand({ agentRuntimeId: runtimeId, name: 'PROD', agentRuntimeVersion: '1' }));
    gatewayId = (await client.send(new CreateGatewayCommand({ name: 'durable', roleArn: ROLE, authorizerType: 'NONE' }))).gatewayId!;
    await client.send(new CreateApiKeyCredentialProviderCommand({ name: 'kept', apiKey: 'kept-key' }));
  } finally {
    await first.close();
  }
  const second = await startControlPlane(first.dataDir);
  try {
    const client = second.client();
    assert.equal((await client.send(new GetAgentRuntimeCommand({ agentRuntimeId: runtimeId }))).agentRuntimeVersion, '2');
    assert.equal((await client.send(new GetAgentRuntimeEndpointCommand({ agentRuntimeId: runtimeId, endpointName: 'PROD' }))).liveVersion, '1');
    assert.equal((await client.send(new GetGatewayCommand({ gatewayIdentifier: gatewayId }))).name, 'durable');
    assert.deepEqual(await second.service.store.secret('api-key-credential-provider', 'kept'), { apiKey: 'kept-key' });
  } finally {
    await second.close();
  }
});

test('lambda targets: malformed ARNs and tool schemas are ValidationExceptions naming the field; a known function with a qualifier is stored', async () => {
  const server = await startControlPlane(undefined, { controlPlane: { functions: { 'order-tools': { module: './orders.mjs' } } } });
  try {
    const client = server.client();
    const gateway = await client.send(new CreateGatewayCommand({ name: 'fns', roleArn: ROLE, authorizerType: 'NONE' }));
    const arn = 'arn:aws:lambda:us-east-1:123456789012:function:order-tools';
    const tool = { name: 'get_order', description: 'One order', inputSchema: { type: 'object' as const } };
    const target = (lambda: Record<string, unknown>) => client.send(new CreateGatewayTargetCommand({ gatewayIdentifier: gateway.gatewayId, name: 'orders', targetConfiguration: { mcp: { lambda: lambda as never } } }));
    const cases: [string, Record<string, unknown>, string][] = [
      ['not an ARN', { lambdaArn: 'order-tools', toolSchema: { inlinePayload: [tool] } }, 'targetConfiguration.mcp.lambda.lambdaArn'],
      ['unknown function', { lambdaArn: arn.replace('order-tools', 'ghost'), toolSchema: { inlinePayload: [tool] } }, 'targetConfiguration.mcp.lambda.lambdaArn'],
      ['no tools', { lambdaArn: arn, toolSchema: { inlinePayload: [] } }, 'targetConfiguration.mcp.lambda.toolSchema.inlinePayload'],
      ['bad tool name', { lambdaArn: arn, toolSchema: { inlinePayload: [{ ...tool, name: 'a b' }] } }, 'targetConfiguration.mcp.lambda.toolSchema.inlinePayload[0].name'],
      ['no description', { lambdaArn: arn, toolSchema: { inlinePayload: [{ name: 't', inputSchema: { type: 'object' } }] } }, 'targetConfiguration.mcp.lambda.toolSchema.inlinePayload[0].description'],
      ['no input schema', { lambdaArn: arn, toolSchema: { inlinePayload: [{ name: 't', description: 'd' }] } }, 'targetConfiguration.mcp.lambda.toolSchema.inlinePayload[0].inputSchema'],
      ['two schema sources', { lambdaArn: arn, toolSchema: { inlinePayload: [tool], s3: { uri: 's3://b/k' } } }, 'targetConfiguration.mcp.lambda.toolSchema'],
    ];
    for (const [label, lambda, field] of cases) {
      const refused = await refusal(target(lambda));
      assert.deepEqual([refused.name, refused.fieldList?.map((entry) => entry.name)], ['ValidationException', [field]], `${label}: ${refused.message}`);
    }
    assert.deepEqual((await client.send(new ListGatewayTargetsCommand({ gatewayIdentifier: gateway.gatewayId }))).items, [], 'nothing created');
    const created = await target({ lambdaArn: `${arn}:PROD`, toolSchema: { inlinePayload: [tool] } });
    assert.equal((await client.send(new GetGatewayTargetCommand({ gatewayIdentifier: gateway.gatewayId, targetId: created.targetId }))).targetConfiguration?.mcp?.lambda?.lambdaArn, `${arn}:PROD`);
  } finally {
    await server.close();
  }
});

test('duplicate names of every kind are ConflictException; a gateway discovery URL off loopback over http is refused by field', async () => {
  await withServer(async (_server, client) => {
    const gateway = await client.send(new CreateGatewayCommand({ name: 'dupes', roleArn: ROLE, authorizerType: 'NONE' }));
    assert.equal((await refusal(client.send(new CreateGatewayCommand({ name: 'dupes', roleArn: ROLE, authorizerType: 'NONE' })))).name, 'ConflictException');
    const target = { gatewayIdentifier: gateway.gatewayId, name: 'one', targetConfiguration: { mcp: { mcpServer: { endpoint: 'https://tools.example/mcp' } } } };
    await client.send(new CreateGatewayTargetCommand(target));
    assert.equal((await refusal(client.send(new CreateGatewayTargetCommand(target)))).name, 'ConflictException');
    await client.send(new CreateApiKeyCredentialProviderCommand({ name: 'search', apiKey: 'k-1234567890' }));
    assert.equal((await refusal(client.send(new CreateApiKeyCredentialProviderCommand({ name: 'search', apiKey: 'k-0987654321' })))).name, 'ConflictException');
    const runtime = await client.send(new CreateAgentRuntimeCommand(codeRuntime('endpointed')));
    await client.send(new CreateAgentRuntimeEndpointCommand({ agentRuntimeId: runtime.agentRuntimeId, name: 'PROD' }));
    assert.equal((await refusal(client.send(new CreateAgentRuntimeEndpointCommand({ agentRuntimeId: runtime.agentRuntimeId, name: 'PROD' })))).name, 'ConflictException');
    const offLoopback = await refusal(
      client.send(new CreateGatewayCommand({ name: 'plain', roleArn: ROLE, authorizerType: 'CUSTOM_JWT', authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: 'http://issuer.example/.well-known/openid-configuration', allowedClients: ['c'] } } })),
    );
    assert.deepEqual([offLoopback.name, offLoopback.fieldList?.map((field) => field.name)], ['ValidationException', ['authorizerConfiguration.customJWTAuthorizer.discoveryUrl']]);
    // Positive control: the same over loopback http is taken.
    await client.send(new CreateGatewayCommand({ name: 'local', roleArn: ROLE, authorizerType: 'CUSTOM_JWT', authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: 'http://127.0.0.1:9/.well-known/openid-configuration', allowedClients: ['c'] } } }));
  });
});

test('racing creates of one name on two instances: one runtime, with exactly one workload identity, and the rest ConflictException', async () => {
  const first = await startControlPlane();
  const second = await startControlPlane(first.dataDir);
  try {
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, index) => (index % 2 ? second : first).client().send(new CreateAgentRuntimeCommand(codeRuntime('contested')))));
    const created = results.filter((result) => result.status === 'fulfilled');
    assert.equal(created.length, 1, 'exactly one create wins');
    for (const result of results) if (result.status === 'rejected') assert.equal((result.reason as Error).name, 'ConflictException');
    const runtimes = (await first.client().send(new ListAgentRuntimesCommand({}))).agentRuntimes ?? [];
    const identities = (await first.client().send(new ListWorkloadIdentitiesCommand({}))).workloadIdentities?.map((identity) => identity.name) ?? [];
    // Every runtime has its workload identity, and no identity is left without its runtime.
    assert.deepEqual(identities.sort(), runtimes.map((runtime) => runtime.agentRuntimeId!).sort());
  } finally {
    await second.close();
    await first.close();
  }
});

test('DeleteAgentRuntime with a version deletes only that version, never the latest, the live one or a pinned one', async () => {
  await withServer(async (server, client) => {
    const agent = server.clientWithAgent({ url: 'http://127.0.0.1:9999' });
    const created = await agent.send(new CreateAgentRuntimeCommand(codeRuntime('versioned')));
    const id = created.agentRuntimeId!;
    await agent.send(new UpdateAgentRuntimeCommand({ ...codeRuntime('x'), agentRuntimeId: id }));
    await agent.send(new UpdateAgentRuntimeCommand({ ...codeRuntime('x'), agentRuntimeId: id }));
    await client.send(new CreateAgentRuntimeEndpointCommand({ agentRuntimeId: id, name: 'PROD', agentRuntimeVersion: '1' }));
    const pinned = await refusal(client.send(new DeleteAgentRuntimeCommand({ agentRuntimeId: id, agentRuntimeVersion: '1' })));
    assert.deepEqual([pinned.name, /PROD/.test(pinned.message)], ['ConflictException', true]);
    assert.equal((await refusal(client.send(new DeleteAgentRuntimeCommand({ agentRuntimeId: id, agentRuntimeVersion: '3' })))).name, 'ConflictException', 'the latest');
    assert.equal((await refusal(client.send(new DeleteAgentRuntimeCommand({ agentRuntimeId: id, agentRuntimeVersion: '9' })))).name, 'ResourceNotFoundException');
    assert.deepEqual((await refusal(client.send(new DeleteAgentRuntimeCommand({ agentRuntimeId: id, agentRuntimeVersion: 'x' })))).fieldList?.map((field) => field.name), ['agentRuntimeVersion']);
    assert.equal((await client.send(new DeleteAgentRuntimeCommand({ agentRuntimeId: id, agentRuntimeVersion: '2' }))).status, 'DELETING');
    assert.deepEqual((await client.send(new ListAgentRuntimeVersionsCommand({ agentRuntimeId: id }))).agentRuntimes?.map((version) => version.agentRuntimeVersion), ['3', '1']);
    assert.equal((await refusal(client.send(new GetAgentRuntimeCommand({ agentRuntimeId: id, agentRuntimeVersion: '2' })))).name, 'ResourceNotFoundException');
    assert.equal((await client.send(new GetAgentRuntimeCommand({ agentRuntimeId: id }))).status, 'READY', 'the runtime itself stays');
  });
});
