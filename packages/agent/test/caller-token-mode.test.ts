import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AgentEvent } from '../src/agent-event.ts';
import { readAgentSettings } from '../src/agent-settings.ts';
import { startGatewayStandIn, type GatewayStandIn } from './support/gateway-stand-in.ts';
import { spawnAgent, type SpawnedAgent } from './support/spawn-agent.ts';

// The deployed reference agent (gatehouse deploy): AgentCore forwards the caller's Authorization header
// (allow-listed) and the agent shows that token to the JWT-authorized gateway.
const SESSION = 'session-caller-token-0123456789-0123456789';
const USER_TOKEN = 'user-access-token-abc';
const WAT = 'workload-token-xyz';
let gateway: GatewayStandIn;
let callerMode: SpawnedAgent;
let defaultMode: SpawnedAgent;

before(async () => {
  gateway = await startGatewayStandIn(new Set([USER_TOKEN, WAT]));
  [callerMode, defaultMode] = await Promise.all([
    spawnAgent({ GATEHOUSE_GATEWAY_URL: gateway.url, GATEHOUSE_GATEWAY_CREDENTIAL: 'caller-token' }),
    spawnAgent({ GATEHOUSE_GATEWAY_URL: gateway.url }),
  ]);
});
after(async () => {
  await Promise.all([callerMode.stop(), defaultMode.stop()]);
  await gateway.close();
});

const invoke = (agent: SpawnedAgent, headers: Record<string, string>) =>
  fetch(`${agent.baseUrl}/invocations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-amzn-bedrock-agentcore-runtime-session-id': SESSION, ...headers },
    body: JSON.stringify({ prompt: 'list my accounts' }),
  });

test('with GATEHOUSE_GATEWAY_CREDENTIAL=caller-token the gateway receives the caller\'s bearer token, never the workload token', async () => {
  const before = gateway.calls.length;
  const response = await invoke(callerMode, { authorization: `Bearer ${USER_TOKEN}`, 'x-amz-bedrock-agentcore-identity-wat': WAT });
  assert.equal(response.status, 200);
  const calls = gateway.calls.slice(before);
  assert.ok(calls.length > 0);
  assert.ok(calls.every((call) => call.authorization === `Bearer ${USER_TOKEN}`));
});

test('caller-token mode without an Authorization header calls no tool and sends the gateway nothing', async () => {
  const before = gateway.authorizations.length;
  const body = (await (await invoke(callerMode, { 'x-amz-bedrock-agentcore-identity-wat': WAT })).json()) as { error?: AgentEvent };
  assert.equal(body.error?.type === 'error' && body.error.code, 'NoWorkloadToken');
  assert.equal(gateway.authorizations.length, before);
});

test('by default the caller\'s Authorization header is never forwarded to the gateway', async () => {
  const before = gateway.authorizations.length;
  const body = (await (await invoke(defaultMode, { authorization: `Bearer ${USER_TOKEN}` })).json()) as { error?: AgentEvent };
  assert.equal(body.error?.type === 'error' && body.error.code, 'NoWorkloadToken');
  assert.equal(gateway.authorizations.length, before);
  // Positive control: the workload token still works in the default mode.
  const callsBefore = gateway.calls.length;
  assert.equal((await invoke(defaultMode, { 'x-amz-bedrock-agentcore-identity-wat': WAT })).status, 200);
  assert.equal(gateway.calls.slice(callsBefore)[0]?.authorization, `Bearer ${WAT}`);
});

test('an unknown GATEHOUSE_GATEWAY_CREDENTIAL is refused at start, naming the setting', () => {
  assert.throws(() => readAgentSettings({ GATEHOUSE_GATEWAY_CREDENTIAL: 'user' }), { code: 'AgentSettingsError', message: /GATEHOUSE_GATEWAY_CREDENTIAL must be "workload-token" or "caller-token"/ });
  assert.equal(readAgentSettings({}).gatewayCredential, 'workload-token');
});
