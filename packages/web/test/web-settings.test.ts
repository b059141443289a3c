import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadWebSettings } from '../src/web-settings.ts';

const serve = (body: unknown): typeof fetch => (async () => new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } })) as typeof fetch;
const arn = 'arn:aws:bedrock-agentcore:eu-west-1:123456789012:runtime/ops_agent-AbC123';

test('locally the hosted endpoints and the runtime share the issuer\'s origin', async () => {
  const settings = await loadWebSettings('http://localhost:8080/', serve({ region: 'local', userPoolId: 'local_Pool1', clientId: 'c1', issuer: 'http://localhost:8080/local_Pool1', runtimeArn: arn }));
  assert.equal(settings.oauthBase, 'http://localhost:8080');
  assert.equal(settings.runtimeBase, `http://localhost:8080/runtimes/${encodeURIComponent(arn)}`);
});

test('a deployed config.json sends logout to the Cognito domain and invocations to AgentCore', async () => {
  const settings = await loadWebSettings('https://d111.cloudfront.net/', serve({
    region: 'eu-west-1',
    userPoolId: 'eu-west-1_Abc',
    clientId: 'c1',
    issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc',
    runtimeArn: arn,
    gatewayUrl: 'https://gw.gateway.bedrock-agentcore.eu-west-1.amazonaws.com/mcp',
    oauthBase: 'https://gatehouse-123456789012.auth.eu-west-1.amazoncognito.com',
    runtimeEndpoint: 'https://bedrock-agentcore.eu-west-1.amazonaws.com',
  }));
  assert.equal(settings.issuer, 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc');
  assert.equal(settings.oauthBase, 'https://gatehouse-123456789012.auth.eu-west-1.amazoncognito.com');
  assert.equal(settings.runtimeBase, `https://bedrock-agentcore.eu-west-1.amazonaws.com/runtimes/${encodeURIComponent(arn)}`);
});

test('a config.json with a malformed runtimeEndpoint is refused, naming the field', async () => {
  await assert.rejects(
    loadWebSettings('https://d111.cloudfront.net/', serve({ region: 'r', userPoolId: 'p', clientId: 'c', issuer: 'https://i.example.com/p', runtimeArn: arn, runtimeEndpoint: 'not a url' })),
    { code: 'settings_invalid', message: /"runtimeEndpoint"/ },
  );
});

test('runtimeProtocol defaults to HTTP, takes AGUI, and refuses MCP naming the field and what the chat speaks', async () => {
  const base = { region: 'local', userPoolId: 'local_Pool1', clientId: 'c1', issuer: 'http://localhost:8080/local_Pool1', runtimeArn: arn };
  assert.equal((await loadWebSettings('http://localhost:8080/', serve(base))).runtimeProtocol, 'HTTP');
  assert.equal((await loadWebSettings('http://localhost:8080/', serve({ ...base, runtimeProtocol: 'AGUI' }))).runtimeProtocol, 'AGUI');
  await assert.rejects(loadWebSettings('http://localhost:8080/', serve({ ...base, runtimeProtocol: 'MCP' })), { code: 'settings_invalid', message: /"runtimeProtocol".*HTTP or AGUI/ });
});
