import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { SESSION, sessionId, startHarness } from './support/runtime-harness.ts';

/**
 * An agent that closes a kept-alive connection at the moment the runtime reuses it: the second
 * request on every connection is dropped unread. Regression: the load run saw such races as 424s.
 */
function startRacyAgent(): Promise<{ port: number; connections: () => number; answered: () => number; close: () => void }> {
  let connections = 0;
  let answered = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let requests = 0;
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buffer.slice(0, end);
        const length = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffer.length < end + 4 + length) return;
        buffer = buffer.slice(end + 4 + length);
        requests++;
        if (/^GET \/ping/.test(head)) {
          const ping = '{"status":"Healthy","time_of_last_update":1}';
          socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${ping.length}\r\nconnection: close\r\n\r\n${ping}`);
          socket.end();
          return;
        }
        if (requests > 1) {
          socket.destroy(); // closed just as the request arrived: never read, never answered
          return;
        }
        answered++;
        const body = '{"ok":true}';
        socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: keep-alive\r\n\r\n${body}`);
      }
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({
        port,
        connections: () => connections,
        answered: () => answered,
        close: () => {
          for (const socket of sockets) socket.destroy();
          server.close();
        },
      });
    });
  });
}

test('a request that meets a keep-alive socket the agent is closing is sent once more, not failed with 424', async () => {
  const agent = await startRacyAgent();
  const harness = await startHarness({ runtimes: [{ agentRuntimeName: 'racy', agent: { url: `http://127.0.0.1:${agent.port}` } }] });
  try {
    const token = harness.issuer.sign({ sub: 'ivan' });
    const id = sessionId('keepalive');
    for (let index = 0; index < 3; index++) {
      const response = await fetch(harness.url('racy'), { method: 'POST', headers: { authorization: `Bearer ${token}`, [SESSION]: id }, body: '{}' });
      assert.equal(response.status, 200, `call ${index + 1}: ${await response.clone().text()}`);
      assert.deepEqual(await response.json(), { ok: true });
    }
    assert.equal(agent.answered(), 3, 'each invocation reached the agent exactly once');
  } finally {
    await harness.close();
    agent.close();
  }
});
