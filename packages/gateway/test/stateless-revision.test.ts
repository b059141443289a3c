import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestIssuer, type TestIssuer } from '@gatehouse/testing/test-issuer';
import { MCP_HEADERS, startGatewayStack, type GatewayStack } from '@gatehouse/testing/gateway-stack';

// MCP 2026-07-28: no initialize, no session; Mcp-Method / Mcp-Name headers must match the body.
describe('the stateless 2026-07-28 revision', () => {
  let issuer: TestIssuer;
  let stack: GatewayStack;
  let url: string;
  const calls: unknown[] = [];

  before(async () => {
    issuer = await startTestIssuer();
    stack = await startGatewayStack(
      [
        {
          name: 'default',
          description: 'Test gateway',
          authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: issuer.discoveryUrl, allowedClients: ['test-client'] } },
          targets: [{ name: 'fn', targetConfiguration: { mcp: { lambda: { module: 'test:double' } } } }],
        },
      ],
      {
        functions: {
          'test:double': {
            toolSchema: [{ name: 'double', inputSchema: { type: 'object', properties: { n: { type: 'number' } } } }],
            async handler(event) {
              calls.push(event);
              return { doubled: (event as { n: number }).n * 2 };
            },
          },
        },
      },
    );
    url = `${stack.baseUrl}/mcp`;
  });

  after(async () => {
    await stack.close();
    await issuer.close();
  });

  function post(body: Record<string, unknown>, headers: Record<string, string>, token: string | null = issuer.sign({ sub: 'alice' })): Promise<Response> {
    return fetch(url, {
      method: 'POST',
      headers: { ...MCP_HEADERS, 'mcp-protocol-version': '2026-07-28', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, ...body }),
    });
  }

  test('server/discover and tools/call work without initialize or a session', async () => {
    const discover = await post({ method: 'server/discover', params: {} }, { 'mcp-method': 'server/discover' });
    assert.equal(discover.status, 200);
    const discovered = (await discover.json()) as { result: { supportedVersions: string[]; instructions: string } };
    assert.equal(discovered.result.supportedVersions[0], '2026-07-28');
    assert.equal(discovered.result.instructions, 'Test gateway');
    const call = await post({ method: 'tools/call', params: { name: 'fn___double', arguments: { n: 21 } } }, { 'mcp-method': 'tools/call', 'mcp-name': 'fn___double' });
    assert.equal(call.status, 200);
    assert.deepEqual(((await call.json()) as { result: { structuredContent: unknown } }).result.structuredContent, { doubled: 42 });
  });

  test('refuses headers that disagree with the body before any tool runs', async () => {
    const before = calls.length;
    const wrongName = await post({ method: 'tools/call', params: { name: 'fn___double', arguments: { n: 1 } } }, { 'mcp-method': 'tools/call', 'mcp-name': 'fn___other' });
    assert.equal(wrongName.status, 400);
    assert.equal(((await wrongName.json()) as { error: { code: number } }).error.code, -32020);
    const wrongMethod = await post({ method: 'tools/call', params: { name: 'fn___double', arguments: { n: 1 } } }, { 'mcp-method': 'tools/list' });
    assert.equal(wrongMethod.status, 400);
    const noToken = await post({ method: 'tools/call', params: { name: 'fn___double', arguments: { n: 1 } } }, { 'mcp-method': 'tools/call', 'mcp-name': 'fn___double' }, null);
    assert.equal(noToken.status, 401);
    assert.equal(calls.length, before, 'the function never ran');
  });

  test('answers an unknown method with 404 and -32601', async () => {
    const response = await post({ method: 'resources/list', params: {} }, { 'mcp-method': 'resources/list' });
    assert.equal(response.status, 404);
    assert.equal(((await response.json()) as { error: { code: number } }).error.code, -32601);
  });
});
