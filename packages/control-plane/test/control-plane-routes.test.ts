import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchRoute } from '../src/control-plane-routes.ts';

const arn = 'arn:aws:bedrock-agentcore:us-east-1:000000000000:runtime/ops_agent';

test('the data plane, MCP and AgentCore Identity token paths are never claimed by the control plane', () => {
  for (const [method, path] of [
    ['POST', `/runtimes/${encodeURIComponent(arn)}/invocations`],
    ['POST', `/runtimes/${arn}/invocations`],
    ['GET', `/runtimes/${encodeURIComponent(arn)}/ws`],
    ['POST', '/runtimes/ops_agent/stopruntimesession'],
    ['POST', '/mcp'],
    ['POST', '/gateways/default/mcp'],
    ['GET', '/gateways/default/mcp'],
    ['POST', '/identities/GetWorkloadAccessToken'],
    ['POST', '/identities/GetWorkloadAccessTokenForJWT'],
    ['POST', '/identities/GetWorkloadAccessTokenForUserId'],
    ['POST', '/'],
  ] as const) {
    assert.equal(matchRoute(method, path), undefined, `${method} ${path}`);
  }
});

test('control-plane paths resolve to their operation, with or without the trailing slash', () => {
  assert.deepEqual(matchRoute('GET', '/runtimes/shop-abcdefghij/'), { operation: 'GetAgentRuntime', rawParams: { agentRuntimeId: 'shop-abcdefghij' } });
  assert.deepEqual(matchRoute('GET', '/runtimes/shop-abcdefghij'), { operation: 'GetAgentRuntime', rawParams: { agentRuntimeId: 'shop-abcdefghij' } });
  assert.deepEqual(matchRoute('POST', '/runtimes/'), { operation: 'ListAgentRuntimes', rawParams: {} });
  assert.deepEqual(matchRoute('PUT', '/runtimes/'), { operation: 'CreateAgentRuntime', rawParams: {} });
  assert.deepEqual(matchRoute('GET', '/runtimes/r-abcdefghij/runtime-endpoints/PROD/'), { operation: 'GetAgentRuntimeEndpoint', rawParams: { agentRuntimeId: 'r-abcdefghij', endpointName: 'PROD' } });
  assert.deepEqual(matchRoute('DELETE', '/gateways/g-abcdefghij/targets/ABCDEFGHIJ/'), { operation: 'DeleteGatewayTarget', rawParams: { gatewayIdentifier: 'g-abcdefghij', targetId: 'ABCDEFGHIJ' } });
  assert.deepEqual(matchRoute('POST', '/identities/CreateWorkloadIdentity'), { operation: 'CreateWorkloadIdentity', rawParams: {} });
  assert.deepEqual(matchRoute('POST', '/identities/get-token-vault'), { operation: 'GetTokenVault', rawParams: {} });
});
