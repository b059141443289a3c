import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent, fetch as undiciFetch } from 'undici';
import { BodyTooLargeError, CallTimeoutError, JsonTooDeepError, StoreUnavailableError, closeServer, failureFor, listen, readBodyFor, type FailureTable } from '../src/index.ts';

class SurfaceError extends Error {
  readonly code: string;
  constructor(code: string) {
    super(code);
    this.code = code;
  }
}

const table: FailureTable<SurfaceError> = {
  bodyTooLarge: (error) => new SurfaceError(`too-large-${error.limit}`),
  storeUnavailable: () => new SurfaceError('retry'),
  timeout: () => new SurfaceError('timed-out'),
};

test('a surface maps internal failures by type through its one table; what it does not map passes through', () => {
  assert.equal(failureFor(table, new BodyTooLargeError(10))?.code, 'too-large-10');
  assert.equal(failureFor(table, new StoreUnavailableError())?.code, 'retry');
  assert.equal(failureFor(table, new JsonTooDeepError(64)), undefined);
  // Message text decides nothing: a plain error that reads like a failure is not one.
  assert.equal(failureFor(table, new Error('Request body exceeds 10 bytes')), undefined);
});

test('readBodyFor throws the surface error for a body over the limit and returns smaller bodies whole', async () => {
  const outcomes: unknown[] = [];
  const server = createServer((request: IncomingMessage, response) => {
    readBodyFor(request, 8, table).then(
      (body) => outcomes.push(body.toString('utf8')),
      (error: unknown) => outcomes.push(error),
    ).finally(() => response.end());
  });
  const port = await listen(server, 0);
  const send = (body: string) => new Promise<void>((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, method: 'POST' }, (response) => response.resume().on('end', resolve));
    request.on('error', reject);
    request.end(body);
  });
  try {
    await send('small');
    await send('far too large for eight bytes');
  } finally {
    await closeServer(server);
  }
  assert.equal(outcomes[0], 'small');
  assert.ok(outcomes[1] instanceof SurfaceError);
  assert.equal((outcomes[1] as SurfaceError).code, 'too-large-8');
});

test('every kind of timeout maps to the table\'s one timeout entry: ours, AbortSignal.timeout\'s, undici\'s; a store timeout stays unavailable', async () => {
  const silent = createServer(() => {
    // Never answers: the caller's own timer must end the call.
  });
  const port = await listen(silent, 0);
  const dispatcher = new Agent({ headersTimeout: 100 });
  try {
    const aborted = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(100) }).then(() => undefined, (error: unknown) => error);
    assert.equal(failureFor(table, aborted)?.code, 'timed-out');
    const undici = await undiciFetch(`http://127.0.0.1:${port}/`, { dispatcher }).then(() => undefined, (error: unknown) => error);
    assert.equal((undici as Error).message, 'fetch failed', 'undici wraps its timeout, so only its cause tells');
    assert.equal(failureFor(table, undici)?.code, 'timed-out');
  } finally {
    await dispatcher.close();
    silent.closeAllConnections();
    await closeServer(silent);
  }
  assert.equal(failureFor(table, new CallTimeoutError('Redis did not answer', { timeoutMs: 50 }))?.code, 'timed-out');
  assert.equal(failureFor(table, new StoreUnavailableError(new CallTimeoutError('Redis did not answer')))?.code, 'retry');
  // A message that reads like a timeout is not one, and a table without the entry passes a timeout through.
  assert.equal(failureFor(table, new Error('the operation timed out (ETIMEDOUT)')), undefined);
  assert.equal(failureFor({}, new CallTimeoutError('late')), undefined);
});
