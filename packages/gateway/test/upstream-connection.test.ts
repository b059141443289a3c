// The gateway's upstream MCP hop: each request gets its own abort signal, so the SDK transport's one
// long-lived signal does not collect a listener per call (which made every call slower than the last),
// while closing the transport still aborts what is in flight, answers and streams alike.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { getEventListeners } from 'node:events';
import type { AddressInfo } from 'node:net';
import { closeServer } from '@gatehouse/core';
import { startUpstreamMcpServer } from '@gatehouse/testing/upstream-servers';
import { McpTarget } from '../src/targets/mcp-target.ts';
import { perRequestSignalFetch } from '../src/targets/per-request-signal-fetch.ts';
import { PooledToolCaller, UpstreamHttpError } from '../src/targets/pooled-tool-call.ts';
import { CallToolRequestSchema, ListToolsRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { Server as McpLowLevelServer } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { TargetCallScope } from '../src/targets/tool-target.ts';

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

describe('the upstream hop (per-request abort signals)', () => {
  test('200 requests on one long-lived signal leave one listener on it, and each request a signal of its own', async () => {
    const { server, url } = await listen((_request, response) => response.end('{"ok":true}'));
    const transportLifetime = new AbortController();
    const seen = new Set<AbortSignal>();
    const fetcher = perRequestSignalFetch((input, init) => {
      seen.add(init!.signal!);
      return fetch(input, init);
    });
    try {
      for (let index = 0; index < 200; index++) await (await fetcher(url, { signal: transportLifetime.signal })).json();
      assert.equal(getEventListeners(transportLifetime.signal, 'abort').length, 1);
      assert.equal(seen.size, 200);
      assert.ok(!seen.has(transportLifetime.signal));
    } finally {
      await closeServer(server);
    }
  });

  test('aborting the long-lived signal aborts a request waiting for its answer and an event stream being read', async () => {
    const { server, url } = await listen((request, response) => {
      if (request.url === '/stream') {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.write('data: first\n\n');
        return; // never ends
      }
      // never answers
    });
    const lifetime = new AbortController();
    const fetcher = perRequestSignalFetch(fetch);
    try {
      const waiting = fetcher(url, { signal: lifetime.signal });
      const stream = await fetcher(`${url}stream`, { signal: lifetime.signal });
      const reader = stream.body!.getReader();
      assert.match(new TextDecoder().decode((await reader.read()).value), /first/);
      const pending = reader.read();
      lifetime.abort(new Error('transport closed'));
      await assert.rejects(waiting, /transport closed/);
      await assert.rejects(pending);
      await assert.rejects(fetcher(url, { signal: lifetime.signal }), /transport closed/);
    } finally {
      server.closeAllConnections();
      await closeServer(server);
    }
  });

  test('an McpTarget answers many calls over its kept-alive client (results unchanged)', async () => {
    const upstream = await startUpstreamMcpServer();
    const target = McpTarget.http('up', upstream.url);
    const scope = (): TargetCallScope => ({ caller: undefined as never, credentials: { key: 'none', headers: {}, query: {} }, signal: new AbortController().signal, deadline: Date.now() + 10_000, gatewayName: 'g', requestId: 'r' }) as TargetCallScope;
    try {
      for (let index = 0; index < 50; index++) {
        const result = await target.callTool('echo', { text: `n${index}` }, scope());
        assert.deepEqual(result.content, [{ type: 'text', text: `echo:n${index}` }]);
      }
    } finally {
      await target.close();
      await upstream.close();
    }
  });
});

describe('tools/call on the kept-alive pool (pooled-tool-call.ts)', () => {
  const session = { sessionId: 'upstream-session-1', protocolVersion: '2025-06-18' };
  const credentials = { headers: { authorization: 'Bearer target-token' }, query: { key: 'k1' } };
  const call = (tool: string) => ({ tool, args: { text: 'hi' }, session, credentials, signal: new AbortController().signal });

  /** An upstream that answers each request as `answer` says, recording what it received. */
  async function upstream(answer: (request: { id: string; name: string }, response: ServerResponse) => void) {
    const seen: { url: string; headers: IncomingHttpHeaders; body: { id: string; method: string; params: { name: string; arguments: unknown } } }[] = [];
    const { server, url } = await listen((request, response) => {
      let text = '';
      request.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      request.on('end', () => {
        const body = JSON.parse(text) as (typeof seen)[number]['body'];
        seen.push({ url: request.url!, headers: request.headers, body });
        answer({ id: body.id, name: body.params.name }, response);
      });
    });
    return { server, url: `${url}mcp`, seen };
  }

  test('sends the call in the SDK session with the credentials, and reads a JSON answer', async () => {
    const up = await upstream(({ id }, response) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: 'pooled' }] } })));
    const caller = new PooledToolCaller(up.url);
    try {
      assert.deepEqual(await caller.call(call('echo')), { content: [{ type: 'text', text: 'pooled' }] });
      const [request] = up.seen;
      assert.equal(request!.url, '/mcp?key=k1');
      assert.equal(request!.headers['mcp-session-id'], 'upstream-session-1');
      assert.equal(request!.headers['mcp-protocol-version'], '2025-06-18');
      assert.equal(request!.headers.authorization, 'Bearer target-token');
      assert.deepEqual({ method: request!.body.method, name: request!.body.params.name, arguments: request!.body.params.arguments }, { method: 'tools/call', name: 'echo', arguments: { text: 'hi' } });
    } finally {
      await caller.close();
      await closeServer(up.server);
    }
  });

  test('reads the answer out of an event stream, skipping notifications', async () => {
    const up = await upstream(({ id }, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'x' } })}\n\n`);
      response.end(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: 'streamed' }] } })}\n\n`);
    });
    const caller = new PooledToolCaller(up.url);
    try {
      assert.deepEqual(await caller.call(call('echo')), { content: [{ type: 'text', text: 'streamed' }] });
    } finally {
      await caller.close();
      await closeServer(up.server);
    }
  });

  test('a JSON-RPC error is the SDK McpError (code and data kept); an HTTP failure or a foreign answer is an UpstreamHttpError; a redirect is left to the SDK client', async () => {
    const up = await upstream(({ id, name }, response) => {
      if (name === 'fails') response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32602, message: 'bad arguments', data: { field: 'text' } } }));
      else if (name === 'crashes') response.writeHead(500).end('stack trace of the upstream');
      else if (name === 'other-id') response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: 'someone-else', result: { content: [] } }));
      else response.writeHead(307, { location: '/elsewhere' }).end();
    });
    const caller = new PooledToolCaller(up.url);
    try {
      await assert.rejects(caller.call(call('fails')), (error: unknown) => error instanceof McpError && error.code === -32602 && /bad arguments/.test(error.message) && (error.data as { field: string }).field === 'text');
      await assert.rejects(caller.call(call('crashes')), (error: unknown) => error instanceof UpstreamHttpError && /HTTP 500/.test(error.message) && !/stack trace/.test(error.message));
      await assert.rejects(caller.call(call('other-id')), UpstreamHttpError);
      assert.equal(await caller.call(call('moved')), undefined);
    } finally {
      await caller.close();
      await closeServer(up.server);
    }
  });

  test('an McpTarget sends plain tools on the pool and tools with an output schema through the SDK client, which validates them', async () => {
    const up = await startUpstreamMcpServer();
    const target = McpTarget.http('up', up.url);
    const scope = { credentials: { key: 'none', headers: {}, query: {} }, signal: new AbortController().signal, deadline: Date.now() + 10_000, gatewayName: 'g', requestId: 'r' } as unknown as TargetCallScope;
    try {
      await target.listTools(scope);
      const before = up.requests.length;
      assert.deepEqual((await target.callTool('add', { a: 2, b: 3 }, scope)).content, [{ type: 'text', text: '5' }]);
      const sent = up.requests.slice(before);
      assert.equal(sent.length, 1, 'one POST per pooled call');
      assert.match(String((JSON.parse(sent[0]!.body) as { id: unknown }).id), /^gw-\d+$/, 'sent by the pool (its ids are gw-n)');
    } finally {
      await target.close();
      await up.close();
    }
    // A tool with an output schema whose result does not match it: the SDK client's check still refuses it.
    const typed = await listen(async (request, response) => {
      // the low-level server: it checks nothing of what the tool returns, so the client's check is what is tested
      const mcp = new McpLowLevelServer({ name: 'typed', version: '1' }, { capabilities: { tools: {} } });
      mcp.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [{ name: 'count', inputSchema: { type: 'object' as const }, outputSchema: { type: 'object' as const, properties: { count: { type: 'number' } }, required: ['count'] } }] }));
      mcp.setRequestHandler(CallToolRequestSchema, async () => ({ content: [{ type: 'text', text: 'x' }], structuredContent: { count: 'not a number' } }));
      const transport = new StreamableHTTPServerTransport({ enableJsonResponse: true });
      response.on('close', () => void mcp.close());
      await mcp.connect(transport);
      await transport.handleRequest(request, response);
    });
    const typedTarget = McpTarget.http('typed', typed.url);
    try {
      await typedTarget.listTools(scope);
      await assert.rejects(typedTarget.callTool('count', {}, scope), (error: unknown) => error instanceof McpError && /output schema/i.test(error.message));
    } finally {
      await typedTarget.close();
      typed.server.closeAllConnections();
      await closeServer(typed.server);
    }
  });
});
