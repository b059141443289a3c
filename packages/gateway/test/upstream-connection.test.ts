// The gateway's upstream MCP hop: each request gets its own abort signal, so the SDK transport's one
// long-lived signal does not collect a listener per call (which made every call slower than the last),
// while closing the transport still aborts what is in flight, answers and streams alike.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { getEventListeners } from 'node:events';
import type { AddressInfo } from 'node:net';
import { closeServer } from '@gatehouse/core';
import { startUpstreamMcpServer } from '@gatehouse/testing/upstream-servers';
import { McpTarget } from '../src/targets/mcp-target.ts';
import { perRequestSignalFetch } from '../src/targets/per-request-signal-fetch.ts';
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
