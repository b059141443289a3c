import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '@gatehouse/core';
import { synthesizeApp, type SynthesizedApp } from '../src/index.ts';
import { fakeWebDist } from './run-gatehouse.ts';
import { onlyResource, policyStatements, resourcesOfType, type CfnTemplate, type Json } from './template-lookup.ts';

// Two runtimes, an MCP server target and an OpenAPI target next to the ops tools, two member accounts.
let work: string;
let app: SynthesizedApp;
const template = (name: string): CfnTemplate => app.template(`Team-${name}`) as unknown as CfnTemplate;
const runtimeNamed = (name: string): Record<string, Json> => {
  const found = resourcesOfType(template('Runtime'), 'AWS::BedrockAgentCore::Runtime').find(([, props]) => props.AgentRuntimeName === name);
  assert.ok(found, `runtime ${name}`);
  return found[1];
};

const externalIdp = 'https://login.example.com/realms/ops/.well-known/openid-configuration';

before(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-deploy-custom-'));
  for (const agent of ['support', 'batch']) {
    mkdirSync(path.join(work, agent));
    writeFileSync(path.join(work, agent, 'Dockerfile'), 'FROM --platform=linux/arm64 node:24-slim\nCOPY agent.mjs .\nCMD ["node", "agent.mjs"]\n');
    writeFileSync(path.join(work, agent, 'agent.mjs'), `console.log('${agent} agent');\n`);
  }
  const config = parseConfig({
    region: 'eu-west-1',
    runtimes: [
      {
        agentRuntimeName: 'support_agent',
        agent: { command: ['node', 'agent.mjs'], cwd: 'support' },
        authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: externalIdp, allowedClients: ['support-web'], allowedScopes: ['agent:invoke'] } },
        requestHeaderConfiguration: { requestHeaderAllowlist: ['X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant'] },
        lifecycleConfiguration: { idleRuntimeSessionTimeout: 600, maxLifetime: 3600 },
        environmentVariables: { LOG_LEVEL: 'debug' },
      },
      { agentRuntimeName: 'batch_agent', agent: { command: ['node', 'agent.mjs'], cwd: 'batch' }, protocolConfiguration: { serverProtocol: 'MCP' } },
    ],
    gateways: [
      {
        name: 'team-tools',
        authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: externalIdp, allowedAudience: ['team-tools'] } },
        targets: [
          { name: 'ops', targetConfiguration: { mcp: { lambda: { module: 'gatehouse:ops-tools' } } } },
          { name: 'docs', targetConfiguration: { mcp: { mcpServer: { endpoint: 'https://docs.example.com/mcp' } } } },
          { name: 'petstore', targetConfiguration: { mcp: { openApiSchema: { inlinePayload: JSON.stringify({ openapi: '3.0.0', info: { title: 'pets', version: '1' }, paths: {} }) }, baseUrl: 'https://pets.example.com/v1' } } },
        ],
      },
    ],
    tools: {
      registry: { backend: 'dynamodb', tableName: 'team-accounts' },
      accounts: [
        { accountId: '111111111111', name: 'Production', externalId: 'gatehouse-prod-7f3a' },
        { accountId: '222222222222', name: 'Staging', roleName: 'TeamReadOnly' },
      ],
    },
  });
  app = await synthesizeApp({ config, configDir: work, outDir: path.join(work, 'cdk.out'), webDist: fakeWebDist(), stackPrefix: 'Team' });
});

after(() => rmSync(work, { recursive: true, force: true }));

test('each declared runtime keeps its own authorizer: the external IdP as given, none → IAM (as locally)', () => {
  const support = runtimeNamed('support_agent');
  assert.deepEqual(support.AuthorizerConfiguration, { CustomJWTAuthorizer: { DiscoveryUrl: externalIdp, AllowedClients: ['support-web'], AllowedScopes: ['agent:invoke'] } });
  const batch = runtimeNamed('batch_agent');
  assert.equal(batch.AuthorizerConfiguration, undefined, 'no JWT authorizer: SigV4 (IAM) inbound, as AgentCore does without one');
});

test('the request-header allowlist, lifecycle and environment of a runtime come from its config', () => {
  const support = runtimeNamed('support_agent');
  assert.deepEqual(support.RequestHeaderConfiguration, { RequestHeaderAllowlist: ['X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant'] });
  assert.deepEqual(support.LifecycleConfiguration, { IdleRuntimeSessionTimeout: 600, MaxLifetime: 3600 });
  assert.equal((support.EnvironmentVariables as Record<string, Json>).LOG_LEVEL, 'debug');
  const manifest = JSON.parse(readFileSync(path.join(work, 'cdk.out', 'Team-Runtime.assets.json'), 'utf8')) as { dockerImages: Record<string, { source: { dockerFile?: string; platform?: string } }> };
  const images = Object.values(manifest.dockerImages).map((image) => image.source);
  assert.deepEqual(images, [{ ...images[0], dockerFile: 'Dockerfile', platform: 'linux/arm64' }, { ...images[1], dockerFile: 'Dockerfile', platform: 'linux/arm64' }]);
});

test('each runtime keeps its declared serverProtocol (HTTP by default)', () => {
  assert.equal(runtimeNamed('support_agent').ProtocolConfiguration, 'HTTP');
  assert.equal(runtimeNamed('batch_agent').ProtocolConfiguration, 'MCP');
});

test('the MCP server and OpenAPI targets sit next to the ops tools on the declared gateway', () => {
  const [, gateway] = onlyResource(template('Gateway'), 'AWS::BedrockAgentCore::Gateway');
  assert.equal(gateway.Name, 'team-tools');
  assert.deepEqual(gateway.AuthorizerConfiguration, { CustomJWTAuthorizer: { DiscoveryUrl: externalIdp, AllowedAudience: ['team-tools'] } });
  const targets = Object.fromEntries(resourcesOfType(template('Gateway'), 'AWS::BedrockAgentCore::GatewayTarget').map(([, props]) => [props.Name, (props.TargetConfiguration as { Mcp: Record<string, Json> }).Mcp]));
  assert.deepEqual(Object.keys(targets).sort(), ['docs', 'ops', 'petstore']);
  assert.deepEqual(targets.docs, { McpServer: { Endpoint: 'https://docs.example.com/mcp' } });
  const petstore = JSON.parse(String((targets.petstore as { OpenApiSchema: { InlinePayload: string } }).OpenApiSchema.InlinePayload)) as { info: { title: string }; servers: unknown };
  assert.equal(petstore.info.title, 'pets');
  assert.deepEqual(petstore.servers, [{ url: 'https://pets.example.com/v1' }], 'the local baseUrl becomes the schema\'s server');
  assert.ok((targets.ops as Record<string, Json>).Lambda);
});

test('a member-account stack per account, with ExternalId required where the account has one', () => {
  const trust = (name: string) => (onlyResource(template(`Member-${name}`), 'AWS::IAM::Role')[1].AssumeRolePolicyDocument as { Statement: Record<string, Json>[] }).Statement;
  assert.deepEqual(trust('111111111111')[0]!.Condition, { StringEquals: { 'sts:ExternalId': 'gatehouse-prod-7f3a' } });
  assert.equal(trust('222222222222')[0]!.Condition, undefined);
  assert.equal(onlyResource(template('Member-222222222222'), 'AWS::IAM::Role')[1].RoleName, 'TeamReadOnly');
  assert.equal(app.assembly.getStackByName('Team-Member-111111111111').environment.account, '111111111111');
});

test('the bridge may assume exactly the role names the accounts use', () => {
  const assume = policyStatements(template('Tools')).filter(({ resource, statement }) => resource.startsWith('BridgeRoleDefaultPolicy') && statement.Action === 'sts:AssumeRole');
  assert.equal(assume.length, 1);
  const resources = (assume[0]!.statement.Resource as { 'Fn::Join': [string, Json[]] }[]).map((resource) => String(resource['Fn::Join'][1].at(-1)));
  assert.deepEqual(resources, [':iam::*:role/GatehouseOpsReadOnly', ':iam::*:role/TeamReadOnly']);
});

test('the configured accounts become registry rows, in the columns the DynamoDB registry reads', () => {
  const [tableId] = onlyResource(template('Registry'), 'AWS::DynamoDB::GlobalTable');
  // Each call is JSON with the table's name spliced in as a reference to this table.
  const rows = resourcesOfType(template('Registry'), 'Custom::AWS').map(([, props]) => {
    const parts = (props.Create as { 'Fn::Join': [string, Json[]] })['Fn::Join'][1];
    const text = parts.map((part) => (typeof part === 'string' ? part : JSON.stringify(part) === JSON.stringify({ Ref: tableId }) ? 'THIS_TABLE' : 'OTHER')).join('');
    return JSON.parse(text) as { action: string; parameters: { TableName: string; Item: Record<string, unknown> } };
  });
  assert.deepEqual(rows.map((row) => row.parameters.TableName), ['THIS_TABLE', 'THIS_TABLE']);
  assert.deepEqual(rows.map((row) => row.action), ['putItem', 'putItem']);
  assert.deepEqual(rows.map((row) => row.parameters.Item), [
    { account_id: { S: '111111111111' }, name: { S: 'Production' }, environment: { S: '' }, enabled: { BOOL: true }, role_name: { S: 'GatehouseOpsReadOnly' }, external_id: { S: 'gatehouse-prod-7f3a' } },
    { account_id: { S: '222222222222' }, name: { S: 'Staging' }, environment: { S: '' }, enabled: { BOOL: true }, role_name: { S: 'TeamReadOnly' } },
  ]);
  // The row writer may touch this table only.
  const statements = policyStatements(template('Registry')).filter(({ statement }) => JSON.stringify(statement.Action).includes('dynamodb:'));
  assert.ok(statements.length > 0);
  for (const { statement } of statements) assert.deepEqual(statement.Resource, { 'Fn::GetAtt': [tableId, 'Arn'] });
});

test('the configured registry table name and region are used', () => {
  assert.equal(onlyResource(template('Registry'), 'AWS::DynamoDB::GlobalTable')[1].TableName, 'team-accounts');
  assert.equal(app.assembly.getStackByName('Team-Runtime').environment.region, 'eu-west-1');
});
