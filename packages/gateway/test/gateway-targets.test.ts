import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestIssuer, type TestIssuer } from '@gatehouse/testing/test-issuer';
import { gatewayCommands, type LambdaContext } from '../src/index.ts';
import { INITIALIZE, MCP_HEADERS, connectClient, rpc, startGatewayStack, type GatewayStack } from '@gatehouse/testing/gateway-stack';
import { PETS_OPENAPI, startPetsApi, startUpstreamMcpServer, type RecordingServer } from '@gatehouse/testing/upstream-servers';

describe('gateway with MCP, OpenAPI and function targets', () => {
  let issuer: TestIssuer;
  let upstream: RecordingServer;
  let pets: RecordingServer;
  let stack: GatewayStack;
  let mcpUrl: string;
  const functionCalls: { event: unknown; context: LambdaContext }[] = [];

  before(async () => {
    issuer = await startTestIssuer();
    upstream = await startUpstreamMcpServer();
    pets = await startPetsApi();
    stack = await startGatewayStack(
      [
        {
          name: 'default',
          authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: issuer.discoveryUrl, allowedClients: ['test-client'] } },
          allowedOrigins: ['http://app.example'],
          targets: [
            { name: 'upstream', targetConfiguration: { mcp: { mcpServer: { endpoint: upstream.url } } } },
            { name: 'pets', targetConfiguration: { mcp: { openApiSchema: { inlinePayload: PETS_OPENAPI }, baseUrl: pets.url } } },
            { name: 'fn', targetConfiguration: { mcp: { lambda: { module: 'test:whoami' } } } },
          ],
        },
      ],
      {
        functions: {
          'test:whoami': {
            toolSchema: [{ name: 'whoami', description: 'Who is calling', inputSchema: { type: 'object', properties: { note: { type: 'string' } } } }],
            async handler(event, context) {
              functionCalls.push({ event, context });
              return { sub: context.identity.sub, groups: context.identity.groups, tool: context.clientContext.custom.bedrockAgentCoreToolName, event };
            },
          },
        },
      },
    );
    mcpUrl = `${stack.baseUrl}/mcp`;
  });

  after(async () => {
    await stack.close();
    await upstream.close();
    await pets.close();
    await issuer.close();
  });

  test('lists namespaced tools of all three targets and calls each through the official MCP client', async () => {
    const { client } = await connectClient(mcpUrl, issuer.sign({ sub: 'alice', username: 'alice', 'cognito:groups': ['ops-readonly'] }));
    try {
      const { tools } = await client.listTools();
      const names = tools.map((tool) => tool.name).sort();
      assert.deepEqual(names, ['fn___whoami', 'pets___create_pet', 'pets___get_pet', 'upstream___add', 'upstream___echo', 'x_amz_bedrock_agentcore_search']);
      const getPet = tools.find((tool) => tool.name === 'pets___get_pet')!;
      assert.deepEqual(getPet.inputSchema.required, ['petId']);

      const echo = await client.callTool({ name: 'upstream___echo', arguments: { text: 'hi' } });
      assert.deepEqual(echo.content, [{ type: 'text', text: 'echo:hi' }]);
      const sum = await client.callTool({ name: 'upstream___add', arguments: { a: 2, b: 40 } });
      assert.deepEqual(sum.content, [{ type: 'text', text: '42' }]);

      const pet = await client.callTool({ name: 'pets___get_pet', arguments: { petId: 'rex 1', verbose: true } });
      assert.deepEqual(pet.structuredContent, { id: 'rex 1', verbose: 'true' });
      const created = await client.callTool({ name: 'pets___create_pet', arguments: { body: { name: 'tom' } } });
      assert.deepEqual(created.structuredContent, { created: { name: 'tom' } });
      assert.equal(pets.requests.at(-1)?.method, 'POST');

      const who = await client.callTool({ name: 'fn___whoami', arguments: { note: 'n1' } });
      assert.deepEqual(who.structuredContent, { sub: 'alice', groups: ['ops-readonly'], tool: 'fn___whoami', event: { note: 'n1' } });
      const call = functionCalls.at(-1)!;
      assert.equal(call.context.clientContext.custom.bedrockAgentCoreTargetName, 'fn');
      assert.equal(call.context.clientContext.custom.bedrockAgentCoreGatewayName, 'default');
      assert.equal(call.context.identity.credentials, undefined);
      assert.ok(call.context.getRemainingTimeInMillis() > 0);

      // upstream and API never see the caller's token (no passthrough)
      for (const request of [...upstream.requests, ...pets.requests]) assert.equal(request.authorization, undefined);
    } finally {
      await client.close();
    }
  });

  test('ranks the caller\'s visible tools with the search tool', async () => {
    const { client } = await connectClient(mcpUrl, issuer.sign({ sub: 'alice' }));
    try {
      const result = await client.callTool({ name: 'x_amz_bedrock_agentcore_search', arguments: { query: 'echo some text back' } });
      const tools = (result.structuredContent as { tools: { name: string }[] }).tools;
      assert.equal(tools[0]?.name, 'upstream___echo');
    } finally {
      await client.close();
    }
  });

  test('refuses a request without a token with 401 and RFC 9728 resource metadata, and reaches no target', async () => {
    const before = { upstream: upstream.requests.length, pets: pets.requests.length, fn: functionCalls.length };
    const response = await fetch(mcpUrl, { method: 'POST', headers: MCP_HEADERS, body: rpc('tools/call', { name: 'upstream___echo', arguments: { text: 'x' } }) });
    assert.equal(response.status, 401);
    const metadataUrl = `${stack.baseUrl}/.well-known/oauth-protected-resource/mcp`;
    assert.equal(response.headers.get('www-authenticate'), `Bearer resource_metadata="${metadataUrl}"`);
    const initialize = await fetch(mcpUrl, { method: 'POST', headers: MCP_HEADERS, body: rpc('initialize', INITIALIZE) });
    assert.equal(initialize.status, 401);

    const metadata = await fetch(metadataUrl);
    assert.equal(metadata.status, 200);
    assert.deepEqual(await metadata.json(), {
      resource: mcpUrl,
      authorization_servers: [issuer.issuer],
      scopes_supported: [],
      bearer_methods_supported: ['header'],
      resource_name: 'Gatehouse MCP gateway default',
    });
    assert.deepEqual({ upstream: upstream.requests.length, pets: pets.requests.length, fn: functionCalls.length }, before);
  });

  test('refuses a forged token, a token for another resource and a token in the query string', async () => {
    const before = upstream.requests.length;
    const good = issuer.sign({ sub: 'alice' });
    const forged = `${good.slice(0, good.lastIndexOf('.') + 1)}${'A'.repeat(20)}`;
    const otherResource = issuer.sign({ sub: 'alice', aud: 'https://other.example/mcp' });
    for (const token of [forged, otherResource]) {
      const response = await fetch(mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` }, body: rpc('initialize', INITIALIZE) });
      assert.equal(response.status, 401);
      assert.match(response.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    }
    const query = await fetch(`${mcpUrl}?access_token=${good}`, { method: 'POST', headers: MCP_HEADERS, body: rpc('initialize', INITIALIZE) });
    assert.equal(query.status, 400);
    // a token minted for this gateway's own URL is accepted
    const own = await fetch(mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${issuer.sign({ sub: 'alice', aud: mcpUrl })}` }, body: rpc('initialize', INITIALIZE) });
    assert.equal(own.status, 200);
    assert.equal(upstream.requests.length, before);
    assert.ok(!stack.logs().includes(good.split('.')[2]!), 'no token in the logs');
  });

  test('binds the session to its user: another user\'s token is refused, the same user\'s refreshed token is accepted', async () => {
    const { client, transport } = await connectClient(mcpUrl, issuer.sign({ sub: 'alice' }));
    try {
      await client.listTools();
      const sessionId = transport.sessionId!;
      assert.ok(sessionId.length >= 33);
      const before = upstream.requests.length;
      const stolen = await fetch(mcpUrl, {
        method: 'POST',
        headers: { ...MCP_HEADERS, authorization: `Bearer ${issuer.sign({ sub: 'mallory' })}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' },
        body: rpc('tools/call', { name: 'upstream___echo', arguments: { text: 'steal' } }),
      });
      assert.equal(stolen.status, 404);
      assert.equal(upstream.requests.length, before, 'the target saw nothing');

      const refreshed = await fetch(mcpUrl, {
        method: 'POST',
        headers: { ...MCP_HEADERS, authorization: `Bearer ${issuer.sign({ sub: 'alice', iat: Math.floor(Date.now() / 1000) + 1 })}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' },
        body: rpc('tools/call', { name: 'upstream___echo', arguments: { text: 'again' } }),
      });
      assert.equal(refreshed.status, 200);
      const body = (await refreshed.json()) as { result: { content: unknown } };
      assert.deepEqual(body.result.content, [{ type: 'text', text: 'echo:again' }]);

      const missing = await fetch(mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${issuer.sign({ sub: 'alice' })}` }, body: rpc('tools/list') });
      assert.equal(missing.status, 400);
    } finally {
      await client.close();
    }
  });

  test('DELETE ends the session for its owner only', async () => {
    const token = issuer.sign({ sub: 'alice' });
    const { client, transport } = await connectClient(mcpUrl, token);
    const sessionId = transport.sessionId!;
    const headers = { authorization: `Bearer ${token}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' };
    const other = await fetch(mcpUrl, { method: 'DELETE', headers: { ...headers, authorization: `Bearer ${issuer.sign({ sub: 'mallory' })}` } });
    assert.equal(other.status, 404);
    const ended = await fetch(mcpUrl, { method: 'DELETE', headers });
    assert.equal(ended.status, 200);
    const after = await fetch(mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, ...headers }, body: rpc('tools/list') });
    assert.equal(after.status, 404);
    await client.close().catch(() => undefined);
  });

  test('refuses a browser Origin that is not allowed, before authentication', async () => {
    const token = issuer.sign({ sub: 'alice' });
    const evil = await fetch(mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, origin: 'http://evil.example', authorization: `Bearer ${token}` }, body: rpc('initialize', INITIALIZE) });
    assert.equal(evil.status, 403);
    const allowed = await fetch(mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, origin: 'http://app.example', authorization: `Bearer ${token}` }, body: rpc('initialize', INITIALIZE) });
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'http://app.example');
    const preflight = await fetch(mcpUrl, { method: 'OPTIONS', headers: { origin: 'http://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' } });
    assert.equal(preflight.status, 204);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /authorization/);
    const evilPreflight = await fetch(mcpUrl, { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } });
    assert.equal(evilPreflight.status, 403);
    assert.equal(evilPreflight.headers.get('access-control-allow-origin'), null);
  });

  test('rejects an unsupported MCP-Protocol-Version with 400', async () => {
    const token = issuer.sign({ sub: 'alice' });
    const init = await fetch(mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` }, body: rpc('initialize', INITIALIZE) });
    const sessionId = init.headers.get('mcp-session-id')!;
    const response = await fetch(mcpUrl, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${token}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': '1999-01-01' }, body: rpc('tools/list') });
    assert.equal(response.status, 400);
  });

  test('writes an audit row per call that `gatehouse audit` prints without any token', async () => {
    const lines: string[] = [];
    const code = await gatewayCommands.audit(['--user', 'alice', '--limit', '100'], { config: {} as never, dataDir: stack.dataDir, baseUrl: stack.baseUrl, stdout: (line) => lines.push(line), stderr: (line) => lines.push(line) });
    assert.equal(code, 0);
    const text = lines.join('\n');
    assert.match(text, /alice\t\S+\tupstream___echo\tupstream\tallow\tok/);
    assert.match(text, /fn___whoami\tfn\tallow\tok/);
    assert.doesNotMatch(text, /eyJ/);
    const json: string[] = [];
    await gatewayCommands.audit(['--tool', 'pets___get_pet', '--json'], { config: {} as never, dataDir: stack.dataDir, baseUrl: stack.baseUrl, stdout: (line) => json.push(line), stderr: () => undefined });
    const records = JSON.parse(json.join('')) as { tool: string; user: string; decision: string }[];
    assert.ok(records.length >= 1);
    assert.ok(records.every((record) => record.tool === 'pets___get_pet' && record.user === 'alice' && record.decision === 'allow'));
  });
});
