import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest } from 'node:http';
import { closeServer, freePort, isConnectionFailure, listen } from '../src/index.ts';

test('a refused or dropped connection is recognised by its code, through fetch\'s wrapper; text that reads alike is not', async () => {
  const closedPort = await freePort();
  const refused = await fetch(`http://127.0.0.1:${closedPort}/`).then(() => undefined, (error: unknown) => error);
  assert.ok(refused instanceof TypeError, 'fetch rejects with its TypeError, the code only in its cause');
  assert.equal(isConnectionFailure(refused), true);

  const dropping = createServer((request) => request.socket.destroy());
  const port = await listen(dropping, 0);
  try {
    const dropped = await new Promise<unknown>((resolve) => {
      const request = httpRequest({ host: '127.0.0.1', port, path: '/' }, () => resolve(undefined));
      request.on('error', resolve);
      request.end();
    });
    assert.equal((dropped as NodeJS.ErrnoException).code, 'ECONNRESET');
    assert.equal(isConnectionFailure(dropped), true);
  } finally {
    await closeServer(dropping);
  }

  assert.equal(isConnectionFailure(new Error('connect ECONNREFUSED 127.0.0.1:1 (fetch failed)')), false);
  assert.equal(isConnectionFailure(new TypeError('Failed to parse URL', { cause: Object.assign(new TypeError('Invalid URL'), { code: 'ERR_INVALID_URL' }) })), false);
  assert.equal(isConnectionFailure('ECONNREFUSED'), false);
});
