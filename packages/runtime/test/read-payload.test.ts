import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { BodyTooLargeError, ClientClosedError, isClientClosed } from '@gatehouse/core';
import { readPayload } from '../src/read-payload.ts';

/** A real server whose handler hands each request to the test, which decides when to read its body. */
describe('readPayload on a real connection', () => {
  const requests: IncomingMessage[] = [];
  const arrived: Array<(request: IncomingMessage) => void> = [];
  const server = createServer((request) => {
    const waiting = arrived.shift();
    if (waiting) waiting(request);
    else requests.push(request);
  });
  let port = 0;
  const nextRequest = (): Promise<IncomingMessage> => {
    const ready = requests.shift();
    return ready ? Promise.resolve(ready) : new Promise((resolve) => arrived.push(resolve));
  };

  before(async () => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());

  const send = (head: string, body: string): ReturnType<typeof connect> => {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(`POST / HTTP/1.1\r\nHost: test\r\n${head}\r\n${body}`);
    return socket;
  };

  test('reads a whole body', async () => {
    const socket = send('Content-Length: 11\r\n', '{"a":"b12"}');
    const payload = await readPayload(await nextRequest(), 1024);
    assert.equal(payload.toString(), '{"a":"b12"}');
    socket.destroy();
  });

  test('a client gone before the body is read (e.g. while its token was checked) is ClientClosedError, not a wait forever', async () => {
    const socket = send('Content-Length: 1000\r\n', '{"prompt":');
    const request = await nextRequest();
    socket.destroy();
    // Not events.once: its 'error' listener would make Node emit the abort as an error instead of a plain close.
    if (!request.destroyed) await new Promise((resolve) => request.once('close', resolve));
    const outcome = await Promise.race([
      readPayload(request, 1024).then(() => 'resolved', (error: unknown) => error),
      new Promise((resolve) => setTimeout(resolve, 2000, 'still waiting after 2 s')),
    ]);
    assert.ok(outcome instanceof ClientClosedError, `got ${String(outcome)}`);
  });

  test('a client gone while the body is read rejects with what the runtime counts as a client that left', async () => {
    const socket = send('Content-Length: 1000\r\n', '{"prompt":');
    const request = await nextRequest();
    const reading = readPayload(request, 1024);
    socket.destroy();
    await assert.rejects(reading, (error) => isClientClosed(error, request));
  });

  test('a body declared over the limit is refused without reading it', async () => {
    const socket = send('Content-Length: 5000\r\n', 'x');
    await assert.rejects(readPayload(await nextRequest(), 1024), BodyTooLargeError);
    socket.destroy();
  });
});
