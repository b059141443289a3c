import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { closeServer, listen } from '@gatehouse/core';
import { startTestIssuer, type TestIssuer } from '@gatehouse/testing/test-issuer';
import { INITIALIZE, MCP_HEADERS, connectClient, rpc, startGatewayStack, type GatewayStack } from '@gatehouse/testing/gateway-stack';
import { PETS_OPENAPI } from '@gatehouse/testing/upstream-servers';

const here = path.dirname(fileURLToPath(import.meta.url));

describe('stdio targets, unprefixed names, scopes and limits', () => {
  let issuer: TestIssuer;
  let stack: GatewayStack;
  let slowCalls = 0;
  // A real HTTP API that accepts requests and never answers them.
  const hungRequests: IncomingMessage[] = [];
  const hungServer: Server = createServer((request) => void hungRequests.push(request));

  before(async () => {
    issuer = await startTestIssuer();
    const hungUrl = `http://127.0.0.1:${await listen(hungServer, 0)}`;
    const jwt = { discoveryUrl: issuer.discoveryUrl, allowedClients: ['test-client'] };
    stack = await startGatewayStack(
      [
        {
          name: 'local',
          exposeUnprefixed: true,
          authorizerConfiguration: { customJWTAuthorizer: jwt },
          targets: [{ name: 'stdio', targetConfiguration: { mcp: { stdioServer: { command: [process.execPath, path.join(here, 'support', 'stdio-server.ts')] } } } }],
        },
        {
          name: 'scoped',
          authorizerConfiguration: { customJWTAuthorizer: { ...jwt, allowedScopes: ['mcp/tools'] } },
          targets: [],
        },
        {
          name: 'limited',
          authorizerConfiguration: { customJWTAuthorizer: jwt },
          limits: { maxRequestBytes: 4096, requestsPerMinutePerPrincipal: 6 },
          targets: [{ name: 'slow', timeoutSeconds: 0.3, maxConcurrency: 1, targetConfiguration: { mcp: { lambda: { module: 'test:slow' } } } }],
        },
        {
          name: 'isolated',
          authorizerConfiguration: { customJWTAuthorizer: jwt },
          targets: [
            { name: 'hung', timeoutSeconds: 1, targetConfiguration: { mcp: { openApiSchema: { inlinePayload: PETS_OPENAPI }, baseUrl: hungUrl } } },
            { name: 'quick', targetConfiguration: { mcp: { lambda: { module: 'test:slow' } } } },
          ],
        },
      ],
      {
        functions: {
          'test:slow': {
            toolSchema: [{ name: 'wait', inputSchema: { type: 'object', properties: { ms: { type: 'number' } } } }],
            async handler(event) {
              slowCalls++;
              const { ms } = event as { ms: number };
              await new Promise((resolve) => setTimeout(resolve, ms));
              return { waited: ms };
            },
          },
        },
      },
    );
  });

  after(async () => {
    await stack.close();
    hungServer.closeAllConnections();
    await closeServer(hungServer);
    await issuer.close();
  });

  test('a target that hangs gets TargetTimeout and the request to it is abandoned, while another target answers at once', async () => {
    const { client } = await connectClient(`${stack.baseUrl}/gateways/isolated/mcp`, issuer.sign({ sub: 'patient' }));
    try {
      let hungSettled = false;
      const hung = client.callTool({ name: 'hung___get_pet', arguments: { petId: 'rex' } }).finally(() => (hungSettled = true));
      while (hungRequests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(hungRequests[0]!.url, '/pets/rex', 'the call reached the hung API');
      const quick = await client.callTool({ name: 'quick___wait', arguments: { ms: 1 } });
      assert.deepEqual(quick.structuredContent, { waited: 1 });
      assert.equal(hungSettled, false, 'the other target answered while the hung call was still waiting');
      const late = await hung;
      assert.equal(late.isError, true);
      assert.match(JSON.stringify(late.content), /TargetTimeout/);
      // The gateway gave up on the upstream request rather than leaving its socket open.
      const request = hungRequests[0]!;
      if (!request.socket.destroyed) await Promise.race([new Promise((resolve) => request.socket.once('close', resolve)), new Promise((resolve) => setTimeout(resolve, 5000))]);
      assert.equal(request.socket.destroyed, true);
      assert.deepEqual((await client.callTool({ name: 'quick___wait', arguments: { ms: 2 } })).structuredContent, { waited: 2 });
    } finally {
      await client.close();
    }
  });

  test('a lone stdio MCP server is exposed with its own tool names', async () => {
    const { client } = await connectClient(`${stack.baseUrl}/gateways/local/mcp`, issuer.sign({ sub: 'alice' }));
    try {
      const names = (await client.listTools()).tools.map((tool) => tool.name).sort();
      assert.deepEqual(names, ['shout', 'x_amz_bedrock_agentcore_search']);
      const result = await client.callTool({ name: 'shout', arguments: { text: 'hello' } });
      assert.match((result.content as { text: string }[])[0]!.text, /^HELLO from pid \d+$/);
      assert.notEqual((result.content as { text: string }[])[0]!.text, `HELLO from pid ${process.pid}`);
    } finally {
      await client.close();
    }
  });

  test('a token without the required scope gets 403 insufficient_scope with the scope to ask for', async () => {
    const url = `${stack.baseUrl}/gateways/scoped/mcp`;
    const response = await fetch(url, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${issuer.sign({ sub: 'alice', scope: 'openid' })}` }, body: rpc('initialize', INITIALIZE) });
    assert.equal(response.status, 403);
    const challenge = response.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /error="insufficient_scope"/);
    assert.match(challenge, /scope="mcp\/tools"/);
    assert.match(challenge, /resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/gateways\/scoped\/mcp"/);
    const ok = await fetch(url, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${issuer.sign({ sub: 'alice', scope: 'openid mcp/tools' })}` }, body: rpc('initialize', INITIALIZE) });
    assert.equal(ok.status, 200);
    const metadata = (await (await fetch(`${stack.baseUrl}/.well-known/oauth-protected-resource/gateways/scoped/mcp`)).json()) as { scopes_supported: string[] };
    assert.deepEqual(metadata.scopes_supported, ['mcp/tools']);
  });

  test('a call over the target timeout is abandoned with TargetTimeout; a call over its concurrency gets TargetBusy', async () => {
    const { client } = await connectClient(`${stack.baseUrl}/gateways/limited/mcp`, issuer.sign({ sub: 'timer' }));
    try {
      const late = await client.callTool({ name: 'slow___wait', arguments: { ms: 1500 } });
      assert.equal(late.isError, true);
      assert.match(JSON.stringify(late.content), /TargetTimeout/);
      const [first, second] = await Promise.all([
        client.callTool({ name: 'slow___wait', arguments: { ms: 150 } }),
        new Promise((resolve) => setTimeout(resolve, 30)).then(() => client.callTool({ name: 'slow___wait', arguments: { ms: 10 } })),
      ]);
      assert.deepEqual(first.structuredContent, { waited: 150 });
      assert.equal(second.isError, true);
      assert.match(JSON.stringify(second.content), /TargetBusy/);
    } finally {
      await client.close();
    }
  });

  test('an oversized request gets 413 and a chatty user gets 429, both before any target work', async () => {
    const url = `${stack.baseUrl}/gateways/limited/mcp`;
    const token = issuer.sign({ sub: 'chatty' });
    const calls = slowCalls;
    const big = await fetch(url, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` }, body: rpc('tools/call', { name: 'slow___wait', arguments: { ms: 1, pad: 'x'.repeat(10_000) } }) });
    assert.equal(big.status, 413);
    const statuses: number[] = [];
    let refusal = '';
    for (let index = 0; index < 7; index++) {
      const response = await fetch(url, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` }, body: rpc('initialize', INITIALIZE) });
      statuses.push(response.status);
      if (response.status === 429) refusal = await response.text();
      else await response.arrayBuffer();
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429]);
    // the 429 names the limit, its value and the setting that raises it
    assert.match(refusal, /More than 6 requests per minute/);
    assert.match(refusal, /gateways\[\]\.limits\.requestsPerMinutePerPrincipal/);
    assert.equal(slowCalls, calls);
    // another user is not affected by the first one's budget
    const other = await fetch(url, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${issuer.sign({ sub: 'quiet' })}` }, body: rpc('initialize', INITIALIZE) });
    assert.equal(other.status, 200);
  });
});
