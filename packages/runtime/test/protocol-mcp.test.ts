import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SESSION, sessionId, startHarness, type Harness } from './support/runtime-harness.ts';

const MCP_AGENT = fileURLToPath(new URL('../../../examples/mcp-agent/agent.mjs', import.meta.url));
const INITIALIZE = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };
const MCP_ACCEPT = 'application/json, text/event-stream';

/** The official MCP client pointed at Gatehouse's invocations URL, as a user would point it at AgentCore's. */
async function connect(url: string, token: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport; errors: Error[] }> {
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
  const client = new Client({ name: 'protocol-test', version: '1.0.0' });
  const errors: Error[] = [];
  client.onerror = (error) => errors.push(error);
  await client.connect(transport);
  return { client, transport, errors };
}

function text(result: unknown): string {
  const content = (result as { content: { type: string; text: string }[] }).content;
  return content[0]!.text;
}

describe('serverProtocol MCP: MCP JSON-RPC through /runtimes/{arn}/invocations', () => {
  let harness: Harness;
  let alice: string;
  let bob: string;

  before(async () => {
    harness = await startHarness({
      runtimes: [
        { agentRuntimeName: 'tools', agent: { command: [process.execPath, MCP_AGENT] }, protocolConfiguration: { serverProtocol: 'MCP' }, limits: { warmPoolSize: 0 } },
        // An agent that does not speak MCP behind an MCP runtime (the echo agent serves /invocations only).
        { agentRuntimeName: 'not_mcp', protocolConfiguration: { serverProtocol: 'MCP' }, limits: { warmPoolSize: 0 } },
        { agentRuntimeName: 'plain', limits: { warmPoolSize: 0 } },
        { agentRuntimeName: 'sigv4_tools', authorizer: false, agent: { command: [process.execPath, MCP_AGENT] }, protocolConfiguration: { serverProtocol: 'MCP' }, limits: { warmPoolSize: 0 } },
      ],
    });
    alice = harness.issuer.sign({ sub: 'alice' });
    bob = harness.issuer.sign({ sub: 'bob' });
  });
  after(() => harness.close());

  test('the official MCP client initializes, lists tools and calls one through the perimeter', async () => {
    const { client, transport, errors } = await connect(harness.url('tools'), alice);
    try {
      assert.equal(client.getServerVersion()?.name, 'gatehouse-mcp-agent');
      const tools = await client.listTools();
      assert.deepEqual(tools.tools.map((tool) => tool.name).sort(), ['add', 'whoami']);
      assert.equal(text(await client.callTool({ name: 'add', arguments: { a: 2, b: 40 } })), '42');
      // The runtime handed the client an Mcp-Session-Id (the runtime session id) and routes by it: one process, one user.
      const first = JSON.parse(text(await client.callTool({ name: 'whoami', arguments: {} }))) as Record<string, unknown>;
      const second = JSON.parse(text(await client.callTool({ name: 'whoami', arguments: {} }))) as Record<string, unknown>;
      assert.ok(transport.sessionId && transport.sessionId.length >= 33, `session ${transport.sessionId}`);
      assert.deepEqual(first, { userId: 'alice', sessionId: transport.sessionId, mcpSessionId: transport.sessionId, hasAuthorization: false, pid: first.pid, port: first.port });
      assert.equal(second.pid, first.pid);
      // The client's GET for a standalone stream got MCP's 405 ("none"), which it does not report as an error.
      assert.deepEqual(errors, []);
    } finally {
      await client.close();
    }
  });

  test('two users get two agent processes, and a user cannot use another user’s Mcp-Session-Id', async () => {
    const a = await connect(harness.url('tools'), alice);
    const b = await connect(harness.url('tools'), bob);
    try {
      const pidA = (JSON.parse(text(await a.client.callTool({ name: 'whoami', arguments: {} }))) as { pid: number }).pid;
      const seenB = JSON.parse(text(await b.client.callTool({ name: 'whoami', arguments: {} }))) as { pid: number; userId: string };
      assert.notEqual(seenB.pid, pidA);
      assert.equal(seenB.userId, 'bob');
      const stolen = await fetch(harness.url('tools'), {
        method: 'POST',
        headers: { authorization: `Bearer ${bob}`, 'content-type': 'application/json', accept: MCP_ACCEPT, 'mcp-session-id': a.transport.sessionId!, 'mcp-protocol-version': '2025-06-18' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'whoami', arguments: {} } }),
      });
      assert.equal(stolen.status, 403);
      assert.equal(stolen.headers.get('x-amzn-errortype'), 'AccessDeniedException');
    } finally {
      await a.client.close();
      await b.client.close();
    }
  });

  test('an MCP client without a token is refused before any agent runs, and told where the runtime’s OAuth metadata is', async () => {
    const response = await fetch(`${harness.url('tools')}?qualifier=DEFAULT`, { method: 'POST', headers: { 'content-type': 'application/json', accept: MCP_ACCEPT }, body: JSON.stringify(INITIALIZE) });
    assert.equal(response.status, 401);
    const arn = harness.runtime.runtimes.find((runtime) => runtime.name === 'tools')!.arn;
    const invocations = `${harness.baseUrl}/runtimes/${encodeURIComponent(arn)}/invocations`;
    const metadataUrl = `${invocations}/.well-known/oauth-protected-resource?qualifier=DEFAULT`;
    assert.equal(response.headers.get('www-authenticate'), `Bearer resource_metadata="${metadataUrl}"`);
    // RFC 9728 metadata, readable without a token: the resource is the invocations URL, the issuer the authorizer's.
    const metadata = await fetch(metadataUrl);
    assert.equal(metadata.status, 200);
    assert.deepEqual(await metadata.json(), { resource: `${invocations}?qualifier=DEFAULT`, authorization_servers: [harness.issuer.discoveryUrl.replace('/.well-known/openid-configuration', '')], bearer_methods_supported: ['header'] });
    await assert.rejects(connect(harness.url('tools'), 'not-a-token'));
  });

  test('a SigV4 runtime has no OAuth protected-resource metadata', async () => {
    const response = await fetch(`${harness.url('sigv4_tools')}/.well-known/oauth-protected-resource`);
    assert.equal(response.status, 404);
    assert.equal(response.headers.get('x-amzn-errortype'), 'ResourceNotFoundException');
  });

  test('GET and DELETE on an MCP runtime answer 405 Allow: POST (stateless: no stream, no session to end)', async () => {
    for (const method of ['GET', 'DELETE']) {
      const response = await fetch(harness.url('tools'), { method, headers: { authorization: `Bearer ${alice}`, accept: 'text/event-stream' } });
      assert.equal(response.status, 405, method);
      assert.equal(response.headers.get('allow'), 'POST');
      assert.match(((await response.json()) as { message: string }).message, /stateless MCP/);
    }
    // Other runtimes keep AgentCore's answer for a wrong method.
    assert.equal((await fetch(harness.url('plain'), { headers: { authorization: `Bearer ${alice}` } })).status, 404);
  });

  test('a payload that is not JSON-RPC gets a ValidationException naming MCP', async () => {
    const response = await fetch(harness.url('tools'), {
      method: 'POST',
      headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json', [SESSION]: sessionId('mcp-bad') },
      body: JSON.stringify({ prompt: 'hello' }),
    });
    assert.equal(response.status, 400);
    assert.equal(response.headers.get('x-amzn-errortype'), 'ValidationException');
    assert.match(((await response.json()) as { message: string }).message, /speaks MCP .*not JSON-RPC 2\.0/);
  });

  test('an MCP client calling an HTTP runtime gets a ValidationException naming HTTP, and the agent sees nothing', async () => {
    const before = (await harness.records()).length;
    const response = await fetch(harness.url('plain'), {
      method: 'POST',
      headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json', accept: MCP_ACCEPT },
      body: JSON.stringify(INITIALIZE),
    });
    assert.equal(response.status, 400);
    assert.equal(response.headers.get('x-amzn-errortype'), 'ValidationException');
    assert.match(((await response.json()) as { message: string }).message, /speaks HTTP .*this is an MCP request/);
    await assert.rejects(connect(harness.url('plain'), alice));
    assert.equal((await harness.records()).length, before);
  });

  test('an MCP runtime whose agent does not serve /mcp answers 424 RuntimeClientError naming the protocol', async () => {
    const response = await fetch(harness.url('not_mcp'), {
      method: 'POST',
      headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json', accept: MCP_ACCEPT },
      body: JSON.stringify(INITIALIZE),
    });
    assert.equal(response.status, 424);
    assert.equal(response.headers.get('x-amzn-errortype'), 'RuntimeClientError');
    assert.match(((await response.json()) as { message: string }).message, /speaks MCP, but its agent answered 404 to POST \/mcp/);
  });

  test('an MCP runtime has no WebSocket: the upgrade is refused with a ValidationException', async () => {
    const url = harness.url('tools', 'ws').replace('http:', 'ws:') + `?${SESSION}=${sessionId('mcp-ws')}`;
    const { WebSocket } = await import('ws');
    const status = await new Promise<number>((resolve) => {
      const socket = new WebSocket(url, { headers: { authorization: `Bearer ${alice}` } });
      socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      socket.on('open', () => resolve(101));
      socket.on('error', () => undefined);
    });
    assert.equal(status, 400);
  });
});
