// A gateway tool that needs the user's consent at a SaaS first: URLElicitationRequired (-32042, MCP 2025-11-25)
// from a real MCP server (official SDK) becomes a failed tool result carrying the consent link — the turn goes
// on and the chat can show "Connect <provider>" — and so does the tool error older clients get.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { UrlElicitationRequiredError } from '@modelcontextprotocol/sdk/types.js';
import { openGatewaySession } from '../src/gateway-session.ts';
import { planByToolName } from '../src/offline-planner.ts';

const elicitation = { mode: 'url' as const, elicitationId: 'urn:ietf:params:oauth:request_uri:1', url: 'https://saas.example/authorize?state=s', message: 'Connect saas: tool target tickets acts with your own saas account.', provider: 'saas' };

async function startGateway(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    void (async () => {
      const mcp = new McpServer({ name: 'gateway-stand-in', version: '1.0.0' });
      mcp.registerTool('tickets___list_tickets', { description: 'tickets' }, async () => {
        throw new UrlElicitationRequiredError([elicitation], elicitation.message);
      });
      mcp.registerTool('tickets___connect', { description: 'connect' }, async () => ({
        isError: true,
        content: [{ type: 'text', text: `ConsentRequired: ${elicitation.message}` }],
        structuredContent: { error: 'ConsentRequired', message: elicitation.message, provider: 'saas', elicitation },
      }));
      const transport = new StreamableHTTPServerTransport({ enableJsonResponse: true });
      response.on('close', () => void transport.close());
      await mcp.connect(transport);
      await transport.handleRequest(request, response);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

test('URLElicitationRequired and the older consent tool error both become a "Connect saas" tool outcome with the link', async () => {
  const gateway = await startGateway();
  const session = openGatewaySession({ url: gateway.url, workloadToken: 'workload-token' });
  try {
    const expected = { error: 'ConsentRequired', provider: 'saas', elicitation: { mode: 'url', elicitationId: elicitation.elicitationId, url: elicitation.url, message: elicitation.message } };
    const elicited = await session.callTool('tickets___list_tickets', {});
    assert.equal(elicited.ok, false);
    assert.equal(elicited.summary, 'Connect saas');
    assert.deepEqual(elicited.result, expected);
    assert.match(elicited.content, /Do not call the tool again now/);
    const older = await session.callTool('tickets___connect', {});
    assert.equal(older.ok, false);
    assert.equal(older.summary, 'Connect saas');
    assert.deepEqual(older.result, expected);
  } finally {
    await session.close();
    await gateway.close();
  }
});

test('the offline planner calls a gateway tool spelled in the prompt, or the connect stand-in of a named target', () => {
  const tool = (name: string) => ({ name, description: '', inputSchema: {} });
  assert.deepEqual(planByToolName('list tickets', [tool('tickets___connect')]), { tool: 'tickets___connect', input: {} });
  assert.deepEqual(planByToolName('Please list tickets!', [tool('tickets___list_tickets'), tool('ops___list_accounts')]), { tool: 'tickets___list_tickets', input: {} });
  assert.equal(planByToolName('list my accounts in prod', [tool('tickets___connect')]), undefined);
});
