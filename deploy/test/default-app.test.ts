import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { CreateTableCommand, DynamoDBClient, PutItemCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { closeServer, listen } from '@gatehouse/core';
import { TOOL_SCHEMA, createDynamoDbAccountRegistry, createOpsTools } from '@gatehouse/tools';
import { startTestIssuer } from '@gatehouse/testing/test-issuer';
import { connectClient, startGatewayStack } from '@gatehouse/testing/gateway-stack';
import { missingSeed001Controls } from './seed-001-controls.ts';
import { canIsolateNetwork, fakeWebDist, runGatehouse } from './run-gatehouse.ts';
import { onlyResource, policyStatements, readTemplates, renderExpression, resolveImports, resourcesOfType, type CfnTemplate, type Json } from './template-lookup.ts';

// One synthesis (through the CLI, as a user runs it) shared by every assertion in this file: synth takes seconds.
let work: string;
let outDir: string;
let cli: { code: number | null; stdout: string; stderr: string };
let templates: Map<string, CfnTemplate>;
let isolated = false;
const stack = (name: string): CfnTemplate => {
  const template = templates.get(`Gatehouse-${name}`);
  assert.ok(template, `stack Gatehouse-${name} synthesized`);
  return template;
};
const output = (name: string, key: string): Json => {
  const found = stack(name).Outputs?.[key];
  assert.ok(found, `output ${key} of ${name}`);
  return found.Value;
};

before(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-deploy-default-'));
  const configFile = path.join(work, 'gatehouse.yaml');
  writeFileSync(configFile, '# the default configuration: the reference agent, the ops tools gateway, one pool\n');
  outDir = path.join(work, 'cdk.out');
  // Offline as the issue asks: no AWS credentials anywhere, and (where the machine allows it) no network either.
  isolated = canIsolateNetwork();
  const noAws = { HOME: work, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_SESSION_TOKEN: '', AWS_PROFILE: '', AWS_SHARED_CREDENTIALS_FILE: path.join(work, 'none'), AWS_CONFIG_FILE: path.join(work, 'none') };
  cli = await runGatehouse(['deploy', 'synth', '--config', configFile, '--out', outDir, '--web-dist', fakeWebDist()], { cwd: work, env: noAws, isolated });
  templates = existsSync(outDir) ? readTemplates(outDir) : new Map();
});

after(() => rmSync(work, { recursive: true, force: true }));

test('gatehouse deploy synth, without AWS credentials or network, writes one CloudFormation template per stack seed 004 names', (t) => {
  if (!isolated) t.diagnostic('unshare --net is not available here: synthesized without AWS credentials, but with the network present');
  assert.equal(cli.code, 0, cli.stderr);
  assert.deepEqual([...templates.keys()].sort(), [
    'Gatehouse-Cognito', 'Gatehouse-Frontend', 'Gatehouse-Gateway', 'Gatehouse-Member-Template', 'Gatehouse-Registry', 'Gatehouse-Runtime', 'Gatehouse-Tools', 'Gatehouse-WebContent',
  ]);
  assert.match(cli.stdout, /Synthesized 8 stacks/);
  assert.match(cli.stdout, /Gatehouse-Runtime\s+\S*Gatehouse-Runtime\.template\.json/);
});

test('the web bucket and distribution carry every seed 001 control', () => {
  assert.deepEqual(missingSeed001Controls(stack('Frontend')), []);
  Template.fromJSON(stack('Frontend')).hasResourceProperties('AWS::S3::Bucket', {
    PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true },
  });
});

test('the seed 001 check notices each control that goes missing', () => {
  const mutate = (change: (template: CfnTemplate) => void): string[] => {
    const copy = structuredClone(stack('Frontend'));
    change(copy);
    return missingSeed001Controls(copy);
  };
  const bucket = (template: CfnTemplate) => onlyResource(template, 'AWS::S3::Bucket')[1];
  const config = (template: CfnTemplate) => onlyResource(template, 'AWS::CloudFront::Distribution')[1].DistributionConfig as Record<string, Json>;
  assert.deepEqual(mutate((t) => delete bucket(t).PublicAccessBlockConfiguration), ['public-access block']);
  assert.deepEqual(mutate((t) => ((bucket(t).PublicAccessBlockConfiguration as Record<string, Json>).RestrictPublicBuckets = false)), ['public-access block']);
  assert.deepEqual(mutate((t) => ((config(t).DefaultCacheBehavior as Record<string, Json>).ViewerProtocolPolicy = 'allow-all')), ['redirect-to-https']);
  assert.deepEqual(mutate((t) => (config(t).CustomErrorResponses = [])), ['403 → /index.html', '404 → /index.html']);
  assert.deepEqual(
    mutate((t) => {
      for (const { statement } of policyStatements(t)) if ((statement.Condition as Record<string, Json> | undefined)?.StringEquals) delete statement.Condition;
    }),
    ['bucket policy conditioned on the distribution ARN'],
  );
});

test('the bucket refuses plain-HTTP requests and is readable only by CloudFront', () => {
  const statements = policyStatements(stack('Frontend')).map(({ statement }) => statement);
  assert.ok(statements.some((s) => s.Effect === 'Deny' && JSON.stringify(s.Condition) === JSON.stringify({ Bool: { 'aws:SecureTransport': 'false' } })));
  for (const s of statements.filter((entry) => entry.Effect === 'Allow')) assert.deepEqual(s.Principal, { Service: 'cloudfront.amazonaws.com' });
});

test('the web client is public (no secret), code flow only, with the CloudFront URL as callback', () => {
  const template = Template.fromJSON(stack('Cognito'));
  template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
    GenerateSecret: false,
    AllowedOAuthFlows: ['code'],
    AllowedOAuthFlowsUserPoolClient: true,
    SupportedIdentityProviders: ['COGNITO'],
  });
  const [, client] = onlyResource(stack('Cognito'), 'AWS::Cognito::UserPoolClient');
  const callbacks = resolveImports(client.CallbackURLs, templates);
  const webUrl = resolveImports(output('Frontend', 'WebUrl'), templates);
  assert.deepEqual(callbacks, [webUrl]);
  assert.ok(!JSON.stringify(client.ExplicitAuthFlows).includes('USER_PASSWORD_AUTH'), 'no password flow for the browser client');
  template.resourceCountIs('AWS::Cognito::UserPoolDomain', 1);
});

test('the runtime\'s JWT authorizer allows exactly the web client of the deployed pool', () => {
  const [, runtime] = onlyResource(stack('Runtime'), 'AWS::BedrockAgentCore::Runtime');
  const jwt = resolveImports((runtime.AuthorizerConfiguration as Record<string, Json>).CustomJWTAuthorizer, templates) as Record<string, Json>;
  assert.deepEqual(Object.keys(jwt).sort(), ['AllowedClients', 'DiscoveryUrl']);
  assert.deepEqual(jwt.AllowedClients, [output('Cognito', 'UserPoolClientId')]);
  assert.deepEqual(jwt.DiscoveryUrl, output('Cognito', 'DiscoveryUrl'));
  assert.equal(runtime.AgentRuntimeName, 'ops_agent');
  assert.deepEqual(runtime.LifecycleConfiguration, { IdleRuntimeSessionTimeout: 900, MaxLifetime: 28_800 });
  assert.equal(runtime.ProtocolConfiguration, 'HTTP');
});

test('the runtime\'s application logs are delivered to a log group with retention', () => {
  const template = stack('Runtime');
  const [runtimeId] = onlyResource(template, 'AWS::BedrockAgentCore::Runtime');
  const [, source] = onlyResource(template, 'AWS::Logs::DeliverySource');
  assert.deepEqual(source.ResourceArn, { 'Fn::GetAtt': [runtimeId, 'AgentRuntimeArn'] });
  assert.equal(source.LogType, 'APPLICATION_LOGS');
  const [, destination] = onlyResource(template, 'AWS::Logs::DeliveryDestination');
  const [groupId, group] = onlyResource(template, 'AWS::Logs::LogGroup');
  assert.deepEqual(destination.DestinationResourceArn, { 'Fn::GetAtt': [groupId, 'Arn'] });
  assert.equal(group.RetentionInDays, 30);
  onlyResource(template, 'AWS::Logs::Delivery');
});

test('the reference agent gets the caller\'s token to show the gateway (Authorization allow-listed, caller-token mode)', () => {
  const [, runtime] = onlyResource(stack('Runtime'), 'AWS::BedrockAgentCore::Runtime');
  assert.deepEqual(runtime.RequestHeaderConfiguration, { RequestHeaderAllowlist: ['Authorization'] });
  const variables = runtime.EnvironmentVariables as Record<string, Json>;
  assert.equal(variables.GATEHOUSE_GATEWAY_CREDENTIAL, 'caller-token');
  assert.deepEqual(resolveImports(variables.GATEHOUSE_GATEWAY_URL, templates), output('Gateway', 'GatewayUrlDefault'));
});

test('the reference agent image is built from the repository\'s Dockerfile for linux/arm64', () => {
  const manifest = JSON.parse(readFileSync(path.join(outDir, 'Gatehouse-Runtime.assets.json'), 'utf8')) as { dockerImages: Record<string, { source: { directory: string; dockerFile?: string; platform?: string } }> };
  const images = Object.values(manifest.dockerImages);
  assert.equal(images.length, 1);
  assert.equal(images[0]!.source.platform, 'linux/arm64');
  assert.equal(images[0]!.source.dockerFile, 'deploy/agent.Dockerfile');
  const context = path.join(outDir, images[0]!.source.directory);
  assert.ok(existsSync(path.join(context, 'deploy', 'agent.Dockerfile')));
  assert.ok(existsSync(path.join(context, 'packages', 'agent', 'src', 'main.ts')));
  assert.ok(!existsSync(path.join(context, 'node_modules')), 'the build context leaves node_modules out');
  assert.ok(!existsSync(path.join(context, 'packages', 'identity', 'src')), 'the build context holds only what the agent needs');
});

test('the gateway takes JWTs of the web client and serves the ops tools from the tools Lambda', () => {
  const [, gateway] = onlyResource(stack('Gateway'), 'AWS::BedrockAgentCore::Gateway');
  assert.equal(gateway.AuthorizerType, 'CUSTOM_JWT');
  const jwt = resolveImports((gateway.AuthorizerConfiguration as Record<string, Json>).CustomJWTAuthorizer, templates) as Record<string, Json>;
  assert.deepEqual(jwt.AllowedClients, [output('Cognito', 'UserPoolClientId')]);
  assert.deepEqual(jwt.DiscoveryUrl, output('Cognito', 'DiscoveryUrl'));
  const [, target] = onlyResource(stack('Gateway'), 'AWS::BedrockAgentCore::GatewayTarget');
  assert.equal(target.Name, 'ops');
  const lambda = ((target.TargetConfiguration as Record<string, Record<string, Record<string, Json>>>).Mcp!.Lambda!) as Record<string, Json>;
  assert.deepEqual(resolveImports(lambda.LambdaArn, templates), output('Tools', 'ToolsFunctionArn'));
  const tools = ((lambda.ToolSchema as Record<string, Json>).InlinePayload as { Name: string }[]).map((tool) => tool.Name);
  assert.deepEqual(tools, TOOL_SCHEMA.map((tool) => tool.name));
});

test('the tools Lambda runs packages/tools\' lambda-handler, bundled into its code asset', () => {
  const [, fn] = onlyResource(stack('Tools'), 'AWS::Lambda::Function');
  assert.equal(fn.Handler, 'lambda-handler.handler');
  assert.equal(fn.Runtime, 'nodejs24.x');
  assert.deepEqual(fn.Architectures, ['arm64']);
  const variables = (fn.Environment as { Variables: Record<string, Json> }).Variables;
  assert.deepEqual(resolveImports(variables.GATEHOUSE_ACCOUNTS_TABLE, templates), output('Registry', 'AccountsTableName'));
});

test('through a Gatehouse gateway, the deployed Lambda bundle and Gatehouse\'s own function target serve the same tools and answers', async () => {
  const [, fn] = onlyResource(stack('Tools'), 'AWS::Lambda::Function');
  const key = String((fn.Code as Record<string, Json>).S3Key);
  const bundle = path.join(outDir, `asset.${key.replace(/\.zip$/, '')}`, 'lambda-handler.mjs');
  assert.ok(existsSync(bundle), 'the Lambda asset holds lambda-handler.mjs');

  const dynalite = (createRequire(import.meta.url)('dynalite') as (options: Record<string, unknown>) => Server)({ createTableMs: 0 });
  const endpoint = `http://127.0.0.1:${await listen(dynalite, 0)}`;
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials });
  const issuer = await startTestIssuer();
  const closers: (() => Promise<unknown>)[] = [async () => client.destroy(), () => closeServer(dynalite), () => issuer.close()];
  try {
    await client.send(new CreateTableCommand({ TableName: 'accounts', AttributeDefinitions: [{ AttributeName: 'account_id', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'account_id', KeyType: 'HASH' }], BillingMode: 'PAY_PER_REQUEST' }));
    await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1 }, { TableName: 'accounts' });
    // A row exactly as seed 004's `aws dynamodb put-item` writes it.
    await client.send(new PutItemCommand({ TableName: 'accounts', Item: { account_id: { S: '123456789012' }, name: { S: 'Production' }, environment: { S: 'prod' }, enabled: { BOOL: true } } }));
    // The Lambda's environment, as the Tools stack sets it (the table endpoint is the local stand-in).
    Object.assign(process.env, { GATEHOUSE_ACCOUNTS_TABLE: 'accounts', GATEHOUSE_DYNAMODB_ENDPOINT: endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' });
    const ops = createOpsTools({ registry: createDynamoDbAccountRegistry({ tableName: 'accounts', endpoint, region: 'us-east-1', credentials }), region: 'us-east-1' });
    const gateway = await startGatewayStack(
      [
        {
          name: 'default',
          authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: issuer.discoveryUrl, allowedClients: ['test-client'] } },
          targets: [
            // How `gatehouse up` serves the tools: a named function target.
            { name: 'local', targetConfiguration: { mcp: { lambda: { module: 'gatehouse:ops-tools' } } } },
            // The file the Lambda runs, loaded by the gateway as a module function target.
            { name: 'deployed', targetConfiguration: { mcp: { lambda: { module: bundle, handler: 'handler', toolSchema: { inlinePayload: JSON.stringify(TOOL_SCHEMA) } } } } },
          ],
        },
      ],
      { functions: { 'gatehouse:ops-tools': { handler: ops.handler, toolSchema: ops.toolSchema } } },
    );
    closers.unshift(() => gateway.close());
    const { client: mcp } = await connectClient(`${gateway.baseUrl}/mcp`, issuer.sign({ sub: 'alice' }));
    closers.unshift(() => mcp.close());
    const names = (await mcp.listTools()).tools.map((tool) => tool.name);
    const local = names.filter((name) => name.startsWith('local___')).map((name) => name.slice('local___'.length));
    const deployed = names.filter((name) => name.startsWith('deployed___')).map((name) => name.slice('deployed___'.length));
    assert.deepEqual(deployed, local);
    assert.ok(local.includes('list_accounts'));
    const fromGatehouse = (await mcp.callTool({ name: 'local___list_accounts', arguments: {} })).structuredContent;
    const fromLambda = (await mcp.callTool({ name: 'deployed___list_accounts', arguments: {} })).structuredContent;
    assert.deepEqual(fromLambda, fromGatehouse);
    assert.deepEqual((fromLambda as { accounts: { name: string }[] }).accounts.map((account) => account.name), ['Production']);
  } finally {
    for (const close of closers) await close();
  }
});

test('the registry table has the key the DynamoDB registry reads (account_id, string)', () => {
  const [, table] = onlyResource(stack('Registry'), 'AWS::DynamoDB::GlobalTable');
  assert.deepEqual(table.KeySchema, [{ AttributeName: 'account_id', KeyType: 'HASH' }]);
  assert.deepEqual(table.AttributeDefinitions, [{ AttributeName: 'account_id', AttributeType: 'S' }]);
});

test('the bridge role may assume only the target role name, and read only the registry', () => {
  const statements = policyStatements(stack('Tools')).filter(({ resource }) => resource.startsWith('BridgeRoleDefaultPolicy'));
  const assume = statements.filter(({ statement }) => JSON.stringify(statement.Action).includes('sts:'));
  assert.equal(assume.length, 1);
  assert.equal(assume[0]!.statement.Action, 'sts:AssumeRole');
  assert.deepEqual(assume[0]!.statement.Resource, { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::*:role/GatehouseOpsReadOnly']] });
  for (const { statement } of statements) {
    assert.notEqual(statement.Resource, '*', `no statement on every resource: ${JSON.stringify(statement.Action)}`);
    assert.ok(!JSON.stringify(statement.Action).includes('"*"') && !/:\*"/.test(JSON.stringify(statement.Action)), `no wildcard actions: ${JSON.stringify(statement.Action)}`);
  }
});

test('the member-account role trusts only the bridge role and has ReadOnlyAccess only', () => {
  const [, role] = onlyResource(stack('Member-Template'), 'AWS::IAM::Role');
  assert.equal(role.RoleName, 'GatehouseOpsReadOnly');
  assert.deepEqual(role.ManagedPolicyArns, [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/ReadOnlyAccess']] }]);
  assert.equal(role.Policies, undefined);
  const trust = (role.AssumeRolePolicyDocument as { Statement: Record<string, Json>[] }).Statement;
  assert.deepEqual(trust, [
    {
      Action: 'sts:AssumeRole',
      Effect: 'Allow',
      Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'CentralAccountId' }, ':role/GatehouseToolsBridge']] } },
    },
  ]);
});

test('no template has a wildcard principal, an account id, a credential or a log group without retention', () => {
  for (const [name, template] of templates) {
    // A Deny on every principal (the bucket's TLS-only statement) is what it should be; an Allow on `*` is not.
    for (const { resource, statement } of policyStatements(template).filter((entry) => entry.statement.Effect === 'Allow')) {
      const principal = JSON.stringify(statement.Principal ?? null);
      assert.ok(principal !== '"*"' && !principal.includes('"AWS":"*"'), `${name}/${resource}: wildcard principal`);
    }
    const text = JSON.stringify(template);
    assert.ok(!/\b\d{12}\b/.test(text.replace(/"AWS::AccountId"/g, '')), `${name}: hard-coded account id`);
    assert.ok(!/AKIA[0-9A-Z]{16}|SecretAccessKey|BEGIN [A-Z ]*PRIVATE KEY|ClientSecret/.test(text), `${name}: credential in template`);
    for (const [id, group] of resourcesOfType(template, 'AWS::Logs::LogGroup')) assert.ok(typeof group.RetentionInDays === 'number', `${name}/${id}: retention`);
    for (const [id, fn] of resourcesOfType(template, 'AWS::Lambda::Function')) {
      assert.ok((fn.LoggingConfig as Record<string, Json> | undefined)?.LogGroup, `${name}/${id}: logs to a log group with retention`);
    }
  }
});

test('config.json is generated from the stack outputs', () => {
  const [, deployment] = onlyResource(stack('WebContent'), 'Custom::CDKBucketDeployment');
  const keys = deployment.SourceObjectKeys as Json[];
  const markers = deployment.SourceMarkers as Record<string, Json>[];
  const configIndex = keys.findIndex((_, index) => Object.keys(markers[index] ?? {}).length > 0);
  assert.ok(configIndex >= 0, 'one source carries deploy-time values');
  const keyText = JSON.stringify(keys[configIndex]);
  const hash = /([0-9a-f]{64})\.zip/.exec(keyText)?.[1];
  assert.ok(hash, keyText);
  const assetDir = path.join(outDir, `asset.${hash}`);
  assert.deepEqual(readdirSync(assetDir), ['config.json']);
  // Markers stand for deploy-time values; render both sides as text to compare (imports resolved to the exporters' values).
  let text = readFileSync(path.join(assetDir, 'config.json'), 'utf8');
  for (const [marker, value] of Object.entries(markers[configIndex]!)) text = text.replaceAll(marker, renderExpression(resolveImports(value, templates)));
  const config = JSON.parse(text) as Record<string, string>;
  const expected = (stackName: string, key: string): string => renderExpression(resolveImports(output(stackName, key), templates));
  assert.deepEqual(Object.keys(config).sort(), ['clientId', 'gatewayUrl', 'issuer', 'oauthBase', 'region', 'runtimeArn', 'runtimeEndpoint', 'runtimeProtocol', 'userPoolId']);
  assert.equal(config.runtimeProtocol, 'HTTP');
  assert.equal(config.userPoolId, expected('Cognito', 'UserPoolId'));
  assert.equal(config.clientId, expected('Cognito', 'UserPoolClientId'));
  assert.equal(config.issuer, expected('Cognito', 'Issuer'));
  assert.match(config.issuer!, /^https:\/\/cognito-idp\.\$\{AWS::Region\}\.amazonaws\.com\/\$\{UserPool\w+\}$/);
  assert.equal(config.oauthBase, expected('Cognito', 'HostedUiUrl'));
  assert.equal(config.runtimeArn, expected('Runtime', 'RuntimeArnOpsAgent'));
  assert.equal(config.gatewayUrl, expected('Gateway', 'GatewayUrlDefault'));
  assert.equal(config.region, '${AWS::Region}');
  Template.fromJSON(stack('WebContent')).hasResourceProperties('Custom::CDKBucketDeployment', { DistributionPaths: ['/*'], Prune: true, DestinationBucketName: Match.anyValue() });
});

test('a grant on every resource (*) appears only for actions that have no resource-level permissions', () => {
  // AWS defines these actions without resource types (or, for invalidations, aws-cdk-lib's bucket deployment grants them so).
  const unscoped = new Set([
    'ecr:GetAuthorizationToken', 'xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets',
    'cloudwatch:PutMetricData', 'cloudfront:GetInvalidation', 'cloudfront:CreateInvalidation',
  ]);
  for (const [name, template] of templates) {
    for (const { resource, statement } of policyStatements(template)) {
      if (statement.Effect !== 'Allow' || !JSON.stringify(statement.Resource ?? null).match(/^"\*"$|^\["\*"\]$/)) continue;
      for (const action of [statement.Action].flat() as string[]) assert.ok(unscoped.has(action), `${name}/${resource}: ${action} on *`);
    }
  }
});
