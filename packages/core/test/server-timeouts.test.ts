import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import type { Server } from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';
import { ConfigError, DEFAULT_SERVER_CONFIG, closeServer, createAppServer, createLogger, listen, parseConfig, readBody, sendJson, type HttpComponent } from '@gatehouse/core';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface RawExchange {
  readonly text: string;
  /** Milliseconds from connecting until the server closed the connection. */
  readonly closedAfterMs: number;
}

/** A raw connection: writes `head`, then `trickle` one byte every 10 s (as a slowloris client), until the server closes it. */
function rawRequest(port: number, head: string, options: { trickle?: boolean; giveUpMs?: number } = {}): Promise<RawExchange> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket: Socket = connect(port, '127.0.0.1');
    let text = '';
    let trickle: NodeJS.Timeout | undefined;
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open for ${options.giveUpMs ?? 5000} ms; received so far: ${JSON.stringify(text)}`));
    }, options.giveUpMs ?? 5000);
    socket.on('connect', () => {
      socket.write(head);
      if (options.trickle) {
        socket.write('x');
        trickle = setInterval(() => socket.write('x'), 10_000);
      }
    });
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(giveUp);
      clearInterval(trickle);
      resolve({ text, closedAfterMs: performance.now() - started });
    });
  });
}

describe('app server timeouts and client aborts', () => {
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => lines.push(line) } as unknown as NodeJS.WritableStream });
  const seen = { bodiesRead: 0, surfaceFailures: 0 };
  const sockets = new WebSocketServer({ noServer: true });
  const component: HttpComponent = {
    name: 'test',
    async handle(request, response, url) {
      if (url.pathname === '/body') {
        const body = await readBody(request, 1_000_000);
        seen.bodiesRead++;
        sendJson(response, 200, { bytes: body.length });
        return true;
      }
      if (url.pathname === '/surface') {
        // As several surfaces do: they catch what they did not expect and log it as an error themselves.
        try {
          sendJson(response, 200, { bytes: (await readBody(request, 1_000_000)).length });
        } catch (error) {
          seen.surfaceFailures++;
          logger.error({ err: error, operation: 'Test' }, 'surface operation failed');
          if (!response.headersSent) sendJson(response, 500, { message: 'Internal error' });
        }
        return true;
      }
      if (url.pathname === '/sse') {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        for (let index = 0; index < 8; index++) {
          response.write(`data: ${index}\n\n`);
          await sleep(250);
        }
        response.end();
        return true;
      }
      return false;
    },
    upgrade(request, socket, head, url) {
      if (url.pathname !== '/ws') return false;
      sockets.handleUpgrade(request, socket, head, (client) => client.on('message', (data) => client.send(`echo ${String(data)}`)));
      return true;
    },
    async close() {},
  };
  const settings = { headersTimeoutSeconds: 0.5, requestTimeoutSeconds: 1, keepAliveTimeoutSeconds: 0.5 };
  let server: Server;
  let port: number;
  before(async () => {
    server = createAppServer([component], logger, settings);
    port = await listen(server, 0);
  });
  after(async () => {
    sockets.close();
    await closeServer(server);
  });

  const errorLines = () => lines.filter((line) => (JSON.parse(line) as { level: number }).level >= 50);
  const withStack = () => lines.filter((line) => line.includes('"stack"'));

  test('a body sent one byte every 10 s is cut with 408 within the request timeout, and the handler never gets it', async () => {
    const exchange = await rawRequest(port, 'POST /body HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n', { trickle: true });
    assert.match(exchange.text, /^HTTP\/1\.1 408 /);
    assert.ok(exchange.closedAfterMs >= 900, `cut after ${exchange.closedAfterMs} ms, not before the 1 s limit`);
    assert.ok(exchange.closedAfterMs < 1000 + 250 + 750, `cut after ${exchange.closedAfterMs} ms (limit 1 s, checked every 250 ms)`);
    assert.equal(seen.bodiesRead, 0);
  });

  test('headers sent slowly are cut within the headers timeout', async () => {
    const exchange = await rawRequest(port, 'POST /body HTTP/1.1\r\nHost: test\r\nX-Slow: ', { trickle: true });
    assert.match(exchange.text, /^HTTP\/1\.1 408 /);
    assert.ok(exchange.closedAfterMs < 500 + 125 + 750, `cut after ${exchange.closedAfterMs} ms (limit 0.5 s)`);
  });

  test('an idle keep-alive connection is closed after the keep-alive timeout', async () => {
    const exchange = await rawRequest(port, 'POST /body HTTP/1.1\r\nHost: test\r\nContent-Length: 2\r\n\r\n{}');
    assert.match(exchange.text, /^HTTP\/1\.1 200 /);
    assert.ok(exchange.closedAfterMs < 500 + 1000 + 750, `closed after ${exchange.closedAfterMs} ms (keep-alive 0.5 s)`);
  });

  test('an SSE stream that lasts twice the request timeout is delivered whole', async () => {
    const started = performance.now();
    const response = await fetch(`http://127.0.0.1:${port}/sse`);
    const text = await response.text();
    assert.ok(performance.now() - started >= 1900, 'the stream outlived the 1 s request timeout');
    assert.deepEqual(text.split('\n\n').filter(Boolean), ['data: 0', 'data: 1', 'data: 2', 'data: 3', 'data: 4', 'data: 5', 'data: 6', 'data: 7']);
  });

  test('a WebSocket stays open past every timeout and keeps answering', async () => {
    const client = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject));
    await sleep(2000);
    const answer = new Promise<string>((resolve) => client.once('message', (data) => resolve(String(data))));
    client.send('still there');
    assert.equal(await answer, 'echo still there');
    client.close();
  });

  test('100 client aborts write no error-level line and no stack: each is one debug line', async () => {
    lines.length = 0;
    seen.bodiesRead = 0;
    const aborts = 50;
    const abort = async (path: string) => {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(`POST ${path} HTTP/1.1\r\nHost: test\r\nContent-Length: 100\r\n\r\n{"partial":`);
      await sleep(20);
      socket.destroy();
    };
    for (let index = 0; index < aborts; index++) await Promise.all([abort('/body'), abort('/surface')]);
    const closedLines = () => lines.filter((line) => line.includes('client closed the connection'));
    const deadline = Date.now() + 5000;
    while (closedLines().length < 2 * aborts && Date.now() < deadline) await sleep(25);
    assert.equal(seen.surfaceFailures, aborts, 'the surface saw every abort');
    assert.equal(seen.bodiesRead, 0);
    assert.deepEqual(errorLines(), []);
    assert.deepEqual(withStack(), []);
    assert.equal(closedLines().length, 2 * aborts, 'each abort is still visible at debug');
    for (const line of closedLines()) assert.equal((JSON.parse(line) as { level: number }).level, 20);
  });

  test('an unexpected error (not an abort) is still logged at error level: the demotion is by code only', () => {
    lines.length = 0;
    logger.error({ err: Object.assign(new Error('disk full'), { code: 'ENOSPC' }) }, 'surface operation failed');
    logger.error({ err: new Error('aborted') }, 'surface operation failed');
    assert.equal(errorLines().length, 2);
  });
});

describe('server timeout settings', () => {
  test('default to 20 s headers, 60 s request, 65 s keep-alive, and refuse a headers timeout above the request timeout', () => {
    assert.deepEqual(parseConfig({}).server, { headersTimeoutSeconds: 20, requestTimeoutSeconds: 60, keepAliveTimeoutSeconds: 65 });
    assert.deepEqual(DEFAULT_SERVER_CONFIG, parseConfig({}).server);
    assert.throws(
      () => parseConfig({ server: { headersTimeoutSeconds: 90, requestTimeoutSeconds: 60 } }),
      (error: unknown) => error instanceof ConfigError && /server\.headersTimeoutSeconds: headersTimeoutSeconds must not exceed requestTimeoutSeconds/.test(error.message),
    );
    assert.throws(() => parseConfig({ server: { requestTimeoutSeconds: 0 } }), ConfigError, 'no way to turn the body timeout off');
  });
});
