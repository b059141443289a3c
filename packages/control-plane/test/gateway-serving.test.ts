import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '@gatehouse/core';
import type { ControlPlaneContext } from '../src/control-plane-context.ts';
import { servedGateway, servedTarget } from '../src/gateway-serving.ts';

const jwt = { customJWTAuthorizer: { discoveryUrl: 'https://idp.example/.well-known/openid-configuration', allowedClients: ['app'] } };

function context(declared: string[] = []): ControlPlaneContext {
  const config = parseConfig({ gateways: declared.map((name) => ({ name, authorizerConfiguration: jwt })) }, 'test');
  return { declaredGateways: config.gateways ?? [] } as unknown as ControlPlaneContext;
}

function reason(serving: ReturnType<typeof servedGateway> | ReturnType<typeof servedTarget>): string {
  return 'reason' in serving ? serving.reason : '';
}

test('a stored gateway is served only with a CUSTOM_JWT authorizer, an id that fits, and no gatehouse.yaml gateway of that name', () => {
  const record = { gatewayId: 'tools-abcdefghij', authorizerType: 'CUSTOM_JWT', authorizerConfiguration: jwt };
  const served = servedGateway(context(), record);
  assert.ok('config' in served);
  assert.equal(served.config.name, 'tools-abcdefghij');
  assert.deepEqual(served.config.authorizerConfiguration, jwt);
  assert.match(reason(servedGateway(context(), { ...record, authorizerType: 'NONE', authorizerConfiguration: undefined })), /CUSTOM_JWT only/);
  assert.match(reason(servedGateway(context(), { ...record, gatewayId: `${'a'.repeat(40)}-abcdefghij` })), /longer than the 48 characters/);
  assert.match(reason(servedGateway(context(['tools-abcdefghij']), record)), /gatehouse\.yaml declares a gateway named tools-abcdefghij/);
});

test('targets: MCP servers and inline OpenAPI are served; GATEWAY_IAM_ROLE calls without credentials; token-vault providers by providerArn; other kinds and providers say why not', () => {
  const mcp = { name: 'remote', targetConfiguration: { mcp: { mcpServer: { endpoint: 'https://tools.example/mcp' } } }, credentialProviderConfigurations: [{ credentialProviderType: 'GATEWAY_IAM_ROLE' }] };
  const served = servedTarget(mcp);
  assert.ok('config' in served);
  assert.deepEqual(served.config.credentialProviderConfigurations, [{ credentialProviderType: 'NONE' }]);
  const passthrough = servedTarget({ ...mcp, credentialProviderConfigurations: [{ credentialProviderType: 'JWT_PASSTHROUGH' }] });
  assert.ok('config' in passthrough);
  assert.deepEqual(passthrough.config.credentialProviderConfigurations, [{ credentialProviderType: 'JWT_PASSTHROUGH' }]);
  assert.ok('config' in servedTarget({ ...mcp, targetConfiguration: { mcp: { openApiSchema: { inlinePayload: '{"openapi":"3.0.3"}' } } } }));
  assert.match(reason(servedTarget({ ...mcp, targetConfiguration: { mcp: { openApiSchema: { s3: { uri: 's3://b/k' } } } } })), /not fetched from S3/);
  assert.match(reason(servedTarget({ ...mcp, targetConfiguration: { mcp: { smithyModel: { inlinePayload: '{}' } } } })), /not smithyModel targets/);
  // token-vault providers: served by providerArn; without one, the reason names what is missing
  const keyArn = 'arn:aws:bedrock-agentcore:local:000000000000:token-vault/default/apikeycredentialprovider/weather';
  const keyed = servedTarget({ ...mcp, credentialProviderConfigurations: [{ credentialProviderType: 'API_KEY', credentialProvider: { apiKeyCredentialProvider: { providerArn: keyArn } } }] });
  assert.ok('config' in keyed);
  assert.deepEqual(keyed.config.credentialProviderConfigurations, [{ credentialProviderType: 'API_KEY', apiKeyCredentialProvider: { providerArn: keyArn, credentialParameterName: 'Authorization', credentialLocation: 'HEADER' } }]);
  assert.match(reason(servedTarget({ ...mcp, credentialProviderConfigurations: [{ credentialProviderType: 'API_KEY', credentialProvider: {} }] })), /API_KEY needs secretName or providerArn/);
  assert.match(reason(servedTarget({ ...mcp, credentialProviderConfigurations: [{ credentialProviderType: 'OAUTH', credentialProvider: { oauthCredentialProvider: { scopes: [] } } }] })), /AUTHORIZATION_CODE needs providerArn/);
});

test('lambda targets: the ARN’s function name is a local function of controlPlane.functions; unknown names and S3 schemas say why not', () => {
  const functions = { 'order-tools': { module: './orders.mjs', handler: 'handler' } };
  const tools = [{ name: 'get_order', inputSchema: { type: 'object' } }];
  const lambda = (lambdaArn: string, toolSchema: unknown) => ({ name: 'orders', targetConfiguration: { mcp: { lambda: { lambdaArn, toolSchema } } }, credentialProviderConfigurations: [{ credentialProviderType: 'GATEWAY_IAM_ROLE' }] });
  const served = servedTarget(lambda('arn:aws:lambda:us-east-1:123456789012:function:order-tools:PROD', { inlinePayload: tools }), functions);
  assert.ok('config' in served, JSON.stringify(served));
  assert.deepEqual(served.config.targetConfiguration, { mcp: { lambda: { module: './orders.mjs', handler: 'handler', toolSchema: { inlinePayload: tools } } } });
  assert.match(reason(servedTarget(lambda('arn:aws:lambda:us-east-1:123456789012:function:other', { inlinePayload: tools }), functions)), /no local function named other.*controlPlane\.functions/);
  assert.match(reason(servedTarget(lambda('arn:aws:lambda:us-east-1:123456789012:function:order-tools', { s3: { uri: 's3://b/k' } }), functions)), /not fetched from S3/);
  // An instance without the function (another config on the same data dir) does not serve it.
  assert.ok('reason' in servedTarget(lambda('arn:aws:lambda:us-east-1:123456789012:function:order-tools', { inlinePayload: tools })));
});
