// Gateways and targets created through the control plane are served at once at /gateways/{id}/mcp, follow target
// changes without a restart, answer 404 once deleted, and are served again after a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CognitoIdentityProviderClient, InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import {
  BedrockAgentCoreControlClient,
  CreateGatewayCommand,
  CreateGatewayTargetCommand,
  DeleteGatewayCommand,
  DeleteGatewayTargetCommand,
  GetGatewayCommand,
  GetGatewayTargetCommand,
  ListGatewaysCommand,
  ListGatewayTargetsCommand,
  SynchronizeGatewayTargetsCommand,
  UpdateGatewayTargetCommand,
} from '@aws-sdk/client-bedrock-agentcore-control';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createLogger } from '@gatehouse/core';
import { startGatehouse, type RunningGatehouse } from '../src/start-gatehouse.ts';
import { PETS_OPENAPI, startPetsApi, startUpstreamMcpServer } from '@gatehouse/testing/upstream-servers';

const ROLE = 'arn:aws:iam::123456789012:role/gateway';

function controlClient(gatehouse: RunningGatehouse): BedrockAgentCoreControlClient {
  const text = readFileSync(gatehouse.adminCredentialsFile, 'utf8');
  const credentials = { accessKeyId: /aws_access_key_id\s*=\s*(\S+)/.exec(text)![1]!, secretAccessKey: /aws_secret_access_key\s*=\s*(\S+)/.exec(text)![1]! };
  return new BedrockAgentCoreControlClient({ endpoint: gatehouse.url, region: gatehouse.config.region, credentials, maxAttempts: 1 });
}

async function accessToken(gatehouse: RunningGatehouse, password: string): Promise<string> {
  const cognito = new CognitoIdentityProviderClient({ endpoint: gatehouse.url, region: gatehouse.config.region, credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' } });
  const answer = await cognito.send(
    new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: gatehouse.identity.defaultPool.webClientId, AuthParameters: { USERNAME: 'admin', PASSWORD: password } }),
  );
  const token = answer.AuthenticationResult?.AccessToken;
  assert.ok(token, 'InitiateAuth returned an access token');
  return token;
}

async function mcpClient(url: string, token: string): Promise<Client> {
  const client = new Client({ name: 'control-plane-gateways-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return client;
}

/** The targets' tools (the gateway's own search tool left out). */
async function toolNames(client: Client): Promise<string[]> {
  return (await client.listTools()).tools.map((tool) => tool.name).filter((name) => name.includes('___')).sort();
}

function firstText(result: Awaited<ReturnType<Client['callTool']>>): string {
  return ((result.content as { type: string; text: string }[])[0]?.text) ?? '';
}

async function refusal(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number }; fieldList?: { name: string }[] }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  assert.fail('the call was expected to be refused');
}

test('a gateway created through the API with a JWT authorizer and an MCP target is served at once, follows its targets without a restart, 404s when deleted, and is served again after a restart', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-cp-gateways-'));
  const upstream = await startUpstreamMcpServer();
  const pets = await startPetsApi();
  // The restart keeps the port: the gateway's stored discovery URL names the issuer at it.
  const functionFile = path.join(dir, 'orders.mjs');
  writeFileSync(functionFile, 'export async function handler(event, context) { return { order: event.id, tool: context.clientContext.custom.bedrockAgentCoreToolName }; }\n');
  const start = (port = 0): Promise<RunningGatehouse> =>
    startGatehouse({ dataDir: path.join(dir, 'data'), port, logger: createLogger({ level: 'silent' }), config: { tools: { sandbox: { enabled: false } }, controlPlane: { functions: { 'order-tools': { module: functionFile } } } } });
  let gatehouse = await start();
  const password = gatehouse.firstRun!.password;
  try {
    const control = controlClient(gatehouse);
    const pool = gatehouse.identity.defaultPool;
    const created = await control.send(
      new CreateGatewayCommand({
        name: 'team-tools',
        roleArn: ROLE,
        authorizerType: 'CUSTOM_JWT',
        authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: pool.discoveryUrl, allowedClients: [pool.webClientId] } },
        protocolType: 'MCP',
      }),
    );
    const gatewayId = created.gatewayId!;
    assert.match(gatewayId, /^team-tools-[0-9a-z]{10}$/);
    const target = await control.send(
      new CreateGatewayTargetCommand({ gatewayIdentifier: gatewayId, name: 'upstream', targetConfiguration: { mcp: { mcpServer: { endpoint: upstream.url } } } }),
    );
    assert.equal(target.status, 'READY', JSON.stringify(target.statusReasons));
    const gateway = await control.send(new GetGatewayCommand({ gatewayIdentifier: gatewayId }));
    assert.equal(gateway.status, 'READY', JSON.stringify(gateway.statusReasons));
    const mcpUrl = `${gatehouse.url}/gateways/${gatewayId}/mcp`;
    assert.equal(gateway.gatewayUrl, mcpUrl);

    // Unauthenticated callers are refused by the served gateway (positive control below).
    const anonymous = await fetch(mcpUrl, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}' });
    assert.equal(anonymous.status, 401);

    const token = await accessToken(gatehouse, password);
    const client = await mcpClient(mcpUrl, token);
    assert.deepEqual(await toolNames(client), ['upstream___add', 'upstream___echo']);
    assert.equal(firstText(await client.callTool({ name: 'upstream___echo', arguments: { text: 'hello' } })), 'echo:hello');

    // A second target (OpenAPI, inline) appears in the same MCP session without a restart.
    const second = await control.send(
      new CreateGatewayTargetCommand({ gatewayIdentifier: gatewayId, name: 'pets', targetConfiguration: { mcp: { openApiSchema: { inlinePayload: JSON.stringify({ ...(JSON.parse(PETS_OPENAPI) as object), servers: [{ url: pets.url }] }) } } } }),
    );
    assert.equal(second.status, 'READY', JSON.stringify(second.statusReasons));
    const withPets = await toolNames(client);
    assert.deepEqual(withPets, ['pets___create_pet', 'pets___get_pet', 'upstream___add', 'upstream___echo']);
    assert.match(firstText(await client.callTool({ name: 'pets___get_pet', arguments: { petId: 'rex' } })), /"id":"rex"/);

    // Renamed target → renamed tools; SynchronizeGatewayTargets answers with the targets, still served.
    await control.send(new UpdateGatewayTargetCommand({ gatewayIdentifier: gatewayId, targetId: target.targetId, name: 'mirror', targetConfiguration: { mcp: { mcpServer: { endpoint: upstream.url } } } }));
    assert.ok((await toolNames(client)).includes('mirror___echo'));
    const upstreamLists = (): number => upstream.requests.filter((request) => request.body.includes('"tools/list"')).length;
    const listed = upstreamLists();
    await toolNames(client);
    assert.equal(upstreamLists(), listed, 'the catalog is memoized between changes');
    const synced = await control.send(new SynchronizeGatewayTargetsCommand({ gatewayIdentifier: gatewayId, targetIdList: [target.targetId!] }));
    assert.equal(synced.targets?.[0]?.status, 'READY');
    assert.ok(synced.targets?.[0]?.lastSynchronizedAt instanceof Date);
    await toolNames(client);
    assert.equal(upstreamLists(), listed + 1, 'synchronizing reloads the tool list from the target');
    assert.equal(firstText(await client.callTool({ name: 'mirror___add', arguments: { a: 2, b: 3 } })), '5');

    // A Lambda target in AWS's shape: the ARN's function name is a local function of controlPlane.functions.
    const orders = await control.send(
      new CreateGatewayTargetCommand({
        gatewayIdentifier: gatewayId,
        name: 'orders',
        targetConfiguration: { mcp: { lambda: { lambdaArn: 'arn:aws:lambda:us-east-1:123456789012:function:order-tools', toolSchema: { inlinePayload: [{ name: 'get_order', description: 'One order', inputSchema: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } }] } } } },
      }),
    );
    assert.equal(orders.status, 'READY', JSON.stringify(orders.statusReasons));
    assert.ok((await toolNames(client)).includes('orders___get_order'));
    assert.deepEqual(JSON.parse(firstText(await client.callTool({ name: 'orders___get_order', arguments: { id: 'o-7' } }))), { order: 'o-7', tool: 'orders___get_order' });
    const unknownFunction = await refusal(
      control.send(new CreateGatewayTargetCommand({ gatewayIdentifier: gatewayId, name: 'ghost', targetConfiguration: { mcp: { lambda: { lambdaArn: 'arn:aws:lambda:us-east-1:123456789012:function:ghost', toolSchema: { inlinePayload: [{ name: 't', description: 'A tool', inputSchema: { type: 'object' } }] } } } } })),
    );
    assert.deepEqual([unknownFunction.name, unknownFunction.fieldList?.map((field) => field.name)], ['ValidationException', ['targetConfiguration.mcp.lambda.lambdaArn']]);
    assert.match(unknownFunction.message, /controlPlane\.functions/);

    // A target Gatehouse cannot serve says so, and leaves the rest served.
    const smithy = await control.send(
      new CreateGatewayTargetCommand({ gatewayIdentifier: gatewayId, name: 'fn', targetConfiguration: { mcp: { smithyModel: { inlinePayload: '{}' } } } }),
    );
    assert.equal(smithy.status, 'FAILED');
    assert.match(smithy.statusReasons?.[0] ?? '', /not smithyModel targets/);
    await control.send(new DeleteGatewayTargetCommand({ gatewayIdentifier: gatewayId, targetId: smithy.targetId }));
    await control.send(new DeleteGatewayTargetCommand({ gatewayIdentifier: gatewayId, targetId: orders.targetId }));
    await control.send(new DeleteGatewayTargetCommand({ gatewayIdentifier: gatewayId, targetId: second.targetId }));
    assert.deepEqual(await toolNames(client), ['mirror___add', 'mirror___echo']);
    await client.close();

    // Restart: the API-created gateway is served again from the store.
    const port = gatehouse.port;
    await gatehouse.close();
    gatehouse = await start(port);
    const afterRestart = await mcpClient(mcpUrl, await accessToken(gatehouse, password));
    const restartedUrl = mcpUrl;
    assert.equal((await controlClient(gatehouse).send(new GetGatewayCommand({ gatewayIdentifier: gatewayId }))).gatewayUrl, restartedUrl);
    assert.equal(firstText(await afterRestart.callTool({ name: 'mirror___echo', arguments: { text: 'again' } })), 'echo:again');

    // Delete: its session ends and the path answers 404 (the default gateway still answers: positive control).
    const restartedControl = controlClient(gatehouse);
    assert.equal((await refusal(restartedControl.send(new DeleteGatewayCommand({ gatewayIdentifier: gatewayId })))).name, 'ConflictException', 'targets first');
    await restartedControl.send(new DeleteGatewayTargetCommand({ gatewayIdentifier: gatewayId, targetId: target.targetId }));
    const sessionId = (afterRestart.transport as StreamableHTTPClientTransport).sessionId!;
    const sessionKey = `gateway:${gatewayId}:session:${sessionId}`;
    assert.ok(await gatehouse.store.get(sessionKey), 'positive control: the session is bound in the store');
    await restartedControl.send(new DeleteGatewayCommand({ gatewayIdentifier: gatewayId }));
    assert.equal(await gatehouse.store.get(sessionKey), undefined, 'deleting the gateway ended its session');
    const gone = await fetch(restartedUrl, { method: 'POST', headers: { authorization: `Bearer ${await accessToken(gatehouse, password)}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' });
    assert.equal(gone.status, 404);
    await assert.rejects(afterRestart.listTools(), 'the open session no longer answers');
    const stillDefault = await mcpClient(`${gatehouse.url}/mcp`, await accessToken(gatehouse, password));
    assert.ok((await stillDefault.listTools()).tools.length > 0, "the default gateway still answers");
    await stillDefault.close();
    await afterRestart.close().catch(() => undefined);
    assert.deepEqual((await restartedControl.send(new ListGatewaysCommand({}))).items?.map((item) => item.gatewayId), ['default']);
  } finally {
    await gatehouse.close();
    await upstream.close();
    await pets.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('gateway calls are refused unsigned and bad input is named by field, creating nothing', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-cp-gateways-bad-'));
  const gatehouse = await startGatehouse({ dataDir: path.join(dir, 'data'), port: 0, logger: createLogger({ level: 'silent' }), config: { tools: { sandbox: { enabled: false } } } });
  try {
    const control = controlClient(gatehouse);
    const pool = gatehouse.identity.defaultPool;
    const body = JSON.stringify({ name: 'sneaky', roleArn: ROLE, authorizerType: 'CUSTOM_JWT', authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: pool.discoveryUrl, allowedClients: [pool.webClientId] } } });
    const unsigned = await fetch(`${gatehouse.url}/gateways/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(unsigned.status, 403);
    assert.equal(((await unsigned.json()) as { message?: string }).message?.includes('SigV4'), true);

    const jwt = { customJWTAuthorizer: { discoveryUrl: pool.discoveryUrl, allowedClients: [pool.webClientId] } };
    // Sent one at a time: a call started early would reject while another is awaited (an unhandled rejection).
    const cases: [string, () => Promise<unknown>, string][] = [
      ['off-loopback http discovery', () => control.send(new CreateGatewayCommand({ name: 'insecure', roleArn: ROLE, authorizerType: 'CUSTOM_JWT', authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: 'http://idp.example/.well-known/openid-configuration', allowedClients: ['x'] } } })), 'authorizerConfiguration.customJWTAuthorizer.discoveryUrl'],
      ['bad name', () => control.send(new CreateGatewayCommand({ name: 'bad_name', roleArn: ROLE, authorizerType: 'CUSTOM_JWT', authorizerConfiguration: jwt })), 'name'],
    ];
    for (const [label, call, field] of cases) {
      const error = await refusal(call());
      assert.equal(error.name, 'ValidationException', label);
      assert.ok(error.fieldList?.some((entry) => entry.name === field), `${label}: ${JSON.stringify(error.fieldList)}`);
    }
    const created = await control.send(new CreateGatewayCommand({ name: 'ok', roleArn: ROLE, authorizerType: 'CUSTOM_JWT', authorizerConfiguration: jwt }));
    const badTarget = await refusal(control.send(new CreateGatewayTargetCommand({ gatewayIdentifier: created.gatewayId, name: 'remote', targetConfiguration: { mcp: { mcpServer: { endpoint: 'http://tools.example/mcp' } } } })));
    assert.ok(badTarget.fieldList?.some((entry) => entry.name === 'targetConfiguration.mcp.mcpServer.endpoint'), JSON.stringify(badTarget.fieldList));
    const offLoopbackApi = await refusal(control.send(new CreateGatewayTargetCommand({ gatewayIdentifier: created.gatewayId, name: 'api', targetConfiguration: { mcp: { openApiSchema: { inlinePayload: JSON.stringify({ ...(JSON.parse(PETS_OPENAPI) as object), servers: [{ url: 'http://pets.example' }] }) } } } })));
    assert.ok(offLoopbackApi.fieldList?.some((entry) => entry.name === 'targetConfiguration.mcp.openApiSchema.inlinePayload'), JSON.stringify(offLoopbackApi.fieldList));
    assert.match(offLoopbackApi.message, /servers\[0\]\.url must be an https URL/);
    const badSync = await refusal(control.send(new SynchronizeGatewayTargetsCommand({ gatewayIdentifier: created.gatewayId, targetIdList: [] })));
    assert.ok(badSync.fieldList?.some((entry) => entry.name === 'targetIdList'), JSON.stringify(badSync.fieldList));
    assert.equal((await refusal(control.send(new GetGatewayTargetCommand({ gatewayIdentifier: created.gatewayId, targetId: 'AAAAAAAAAA' })))).name, 'ResourceNotFoundException');
    assert.deepEqual((await control.send(new ListGatewayTargetsCommand({ gatewayIdentifier: created.gatewayId }))).items, [], 'no refused target was stored');
    // Nothing was created by the refused calls; the unsigned one did not create "sneaky".
    assert.deepEqual((await control.send(new ListGatewaysCommand({}))).items?.map((item) => item.name).sort(), ['default', 'ok']);
    assert.equal((await fetch(`${gatehouse.url}/gateways/sneaky/mcp`, { method: 'POST' })).status, 404);
  } finally {
    await gatehouse.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
