import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '@gatehouse/core';
import { withDefaults, pickModelEnvironment } from '@gatehouse/cli';

const pool = { discoveryUrl: 'http://localhost:8080/local_abc/.well-known/openid-configuration', webClientId: 'webclient1' };
const env = { AWS_PROFILE: 'dev', AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', ANTHROPIC_API_KEY: 'sk-test', UNRELATED_SECRET: 'nope' };

test('the default runtime gets only the configured model provider’s credential variables', () => {
  const bedrock = withDefaults(parseConfig({ model: { provider: 'bedrock' } }), { pool, baseUrl: 'http://localhost:8080', agentCommand: ['node', 'agent.ts'], env });
  const agent = bedrock.runtimes?.[0]?.agent;
  assert.ok(agent && 'command' in agent);
  assert.deepEqual(agent.env, { AWS_PROFILE: 'dev', AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE' });

  const offline = withDefaults(parseConfig({}), { pool, baseUrl: 'http://localhost:8080', agentCommand: ['node', 'agent.ts'], env });
  const offlineAgent = offline.runtimes?.[0]?.agent;
  assert.ok(offlineAgent && 'command' in offlineAgent);
  assert.deepEqual(offlineAgent.env, {}, 'the offline planner gets no credentials at all');
  assert.deepEqual(pickModelEnvironment(parseConfig({ model: { provider: 'anthropic' } }), env), { ANTHROPIC_API_KEY: 'sk-test' });
});

test('the defaults are a JWT runtime for the default pool (clients applied live) and a gateway whose ops target derives user credentials', () => {
  const config = withDefaults(parseConfig({}), { pool, baseUrl: 'http://localhost:9000', agentCommand: ['node', 'agent.ts'], env: {} });
  const runtime = config.runtimes?.[0];
  assert.equal(runtime?.agentRuntimeName, 'ops_agent');
  // No static allowedClients: gatehouse up applies "every app client of the default pool" live (perimeter settings).
  assert.deepEqual(runtime?.authorizerConfiguration, { customJWTAuthorizer: { discoveryUrl: pool.discoveryUrl } });
  assert.deepEqual(runtime?.allowedOrigins, ['http://localhost:9000']);
  assert.equal(runtime?.environmentVariables.GATEHOUSE_GATEWAY_URL, 'http://localhost:9000/mcp');
  const target = config.gateways?.[0]?.targets[0];
  assert.equal(target?.name, 'ops');
  assert.equal(target?.credentialProviderConfigurations[0]?.credentialProviderType, 'GATEWAY_IAM_ROLE');
  // Declaring runtimes replaces the default ones (DESIGN), but the agent still learns the gateway URL.
  const declared = withDefaults(parseConfig({ runtimes: [{ agentRuntimeName: 'mine', agent: { url: 'http://127.0.0.1:9' } }] }), { pool, baseUrl: 'http://localhost:9000', agentCommand: [], env: {} });
  assert.deepEqual(declared.runtimes?.map((entry) => entry.agentRuntimeName), ['mine']);
  assert.equal(declared.runtimes?.[0]?.environmentVariables.GATEHOUSE_GATEWAY_URL, 'http://localhost:9000/mcp');
});
