import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { EmbeddedStore } from '@gatehouse/core';
import { startTestIssuer, type TestIssuer } from '@gatehouse/testing/test-issuer';
import { DEFAULT_POLICIES } from '../src/index.ts';
import { MCP_HEADERS, connectClient, rpc, startGatewayStack, type GatewayStack } from '@gatehouse/testing/gateway-stack';

// Two gateway instances sharing the store and data dir, as replicas behind a round-robin balancer.
describe('gateway replicas sharing state', () => {
  let issuer: TestIssuer;
  let store: EmbeddedStore;
  let dataDir: string;
  let first: GatewayStack;
  let second: GatewayStack;

  before(async () => {
    issuer = await startTestIssuer();
    store = new EmbeddedStore();
    dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-gateway-shared-'));
    const config = {
      name: 'default',
      authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: issuer.discoveryUrl, allowedClients: ['test-client'] } },
      targets: [{ name: 'fn', targetConfiguration: { mcp: { lambda: { module: 'test:ping' } } } }],
    };
    const deps = { functions: { 'test:ping': { toolSchema: [{ name: 'ping_list', inputSchema: { type: 'object' as const } }], handler: async () => ({ pong: true }) } } };
    first = await startGatewayStack([config], deps, { store, dataDir });
    second = await startGatewayStack([config], deps, { store, dataDir });
  });

  after(async () => {
    await first.close();
    await second.close();
    await store.close();
    await issuer.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('a session opened on one instance continues on another, for its user only', async () => {
    const token = issuer.sign({ sub: 'alice' });
    const { client, transport } = await connectClient(`${first.baseUrl}/mcp`, token);
    const sessionId = transport.sessionId!;
    const headers = { ...MCP_HEADERS, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' };
    const elsewhere = await fetch(`${second.baseUrl}/mcp`, { method: 'POST', headers: { ...headers, authorization: `Bearer ${token}` }, body: rpc('tools/call', { name: 'fn___ping_list', arguments: {} }) });
    assert.equal(elsewhere.status, 200);
    assert.deepEqual(((await elsewhere.json()) as { result: { structuredContent: unknown } }).result.structuredContent, { pong: true });
    const intruder = await fetch(`${second.baseUrl}/mcp`, { method: 'POST', headers: { ...headers, authorization: `Bearer ${issuer.sign({ sub: 'mallory' })}` }, body: rpc('tools/list') });
    assert.equal(intruder.status, 404);
    await client.close();
  });

  test('an edited policy file takes effect without a restart', async () => {
    const file = path.join(dataDir, 'policies', 'default.cedar');
    const { client } = await connectClient(`${second.baseUrl}/mcp`, issuer.sign({ sub: 'alice' }));
    try {
      assert.equal((await client.callTool({ name: 'fn___ping_list', arguments: {} })).isError, undefined);
      writeFileSync(file, `${DEFAULT_POLICIES}\n@id("no-ping")\nforbid (principal, action, resource == Gatehouse::Tool::"fn___ping_list");\n`);
      await new Promise((resolve) => setTimeout(resolve, 1200)); // the file is checked at most once a second
      await assert.rejects(client.callTool({ name: 'fn___ping_list', arguments: {} }), (error: unknown) => error instanceof McpError && error.code === -32003 && /forbidden by policy/.test(error.message));
      assert.deepEqual((await client.listTools()).tools.map((tool) => tool.name), ['x_amz_bedrock_agentcore_search']);
    } finally {
      writeFileSync(file, DEFAULT_POLICIES);
      await client.close();
    }
  });
});
