import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createAgentPool } from '../src/agent-pool.ts';
import { proxyInvocation } from '../src/proxy-invocation.ts';
import type { Session } from '../src/session-manager.ts';

const listen = (server: Server, where: string | number): Promise<void> => new Promise((resolve) => server.listen(where, () => resolve()));

/**
 * An agent in its own network namespace is reached over a Unix socket: the invocation hop takes
 * `socketPath` as well as host:port, streams the answer back and keeps the connection alive.
 */
test('the invocation hop reaches an agent listening on a Unix socket and reuses its connection', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-agent-sock-'));
  const socketPath = path.join(dir, 'agent.sock');
  const connections = new Set<unknown>();
  const agent = createServer((request, response) => {
    connections.add(request.socket);
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'kept=behind' });
      response.end(JSON.stringify({ path: request.url, session: request.headers['x-amzn-bedrock-agentcore-runtime-session-id'], body }));
    });
  });
  await listen(agent, socketPath);
  const pool = createAgentPool({ socketPath });
  const session = { id: 'session-over-unix-socket', endpoint: { host: 'agent', port: 0, socketPath, pool, exited: false, exitCode: null } } as unknown as Session;
  const front = createServer((request, response) => {
    void proxyInvocation({
      session,
      headers: { 'content-type': 'application/json', 'x-amzn-bedrock-agentcore-runtime-session-id': session.id },
      body: Buffer.from('{"prompt":"hi"}'),
      response,
      responseHeaders: {},
      onAgentFailure: () => assert.fail('the agent did not fail'),
      sendError: (error) => assert.fail(error.message),
    });
  });
  await listen(front, 0);
  const port = (front.address() as { port: number }).port;
  try {
    for (let call = 0; call < 3; call++) {
      const response = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: '{}' });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('set-cookie'), null, 'agent cookies stay behind');
      assert.equal(response.headers.get('x-amzn-bedrock-agentcore-runtime-session-id'), session.id);
      assert.deepEqual(await response.json(), { path: '/invocations', session: session.id, body: '{"prompt":"hi"}' });
    }
    assert.equal(connections.size, 1, 'one kept-alive connection to the agent served every call');
  } finally {
    front.close();
    await pool.destroy();
    agent.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
