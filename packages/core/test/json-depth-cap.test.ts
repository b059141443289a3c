import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { BodyTooLargeError, JsonTooDeepError, MAX_JSON_DEPTH, checkJsonDepth, closeServer, listen, parseJson, readJson } from '@gatehouse/core';

const nested = (depth: number, open = '[', close = ']'): string => `${open.repeat(depth)}${close.repeat(depth)}`;
const deepObject = (depth: number): string => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

describe('JSON depth cap', () => {
  test('refuses 100,000 levels of nesting with JsonTooDeepError, without overflowing the stack', () => {
    for (const input of [nested(100_000), deepObject(100_000), Buffer.from(nested(100_000))]) {
      assert.throws(
        () => parseJson(input),
        (error: unknown) => error instanceof JsonTooDeepError && error.code === 'JsonTooDeep' && error.limit === MAX_JSON_DEPTH && /exceeds 64 levels/.test(error.message),
      );
    }
  });

  test('accepts exactly the limit and refuses one level more, for arrays, objects and bytes', () => {
    assert.equal(MAX_JSON_DEPTH, 64);
    assert.doesNotThrow(() => checkJsonDepth(nested(64)));
    assert.doesNotThrow(() => checkJsonDepth(deepObject(64)));
    assert.throws(() => checkJsonDepth(nested(65)), JsonTooDeepError);
    assert.throws(() => checkJsonDepth(deepObject(65)), JsonTooDeepError);
    assert.throws(() => checkJsonDepth(Buffer.from(deepObject(65))), JsonTooDeepError);
    assert.throws(() => checkJsonDepth(nested(4), 3), (error: unknown) => error instanceof JsonTooDeepError && error.limit === 3);
  });

  test('brackets inside strings, after escaped quotes and in multi-byte text are text, not nesting', () => {
    const value = { text: '[[[[{{{{'.repeat(100), quoted: 'say \\"[[[[\\" ' + '['.repeat(100), unicode: 'é[日本]'.repeat(100), list: [[1], { a: [2] }] };
    const text = JSON.stringify(value);
    assert.deepEqual(parseJson(text), value);
    assert.deepEqual(parseJson(Buffer.from(text)), value);
    // A backslash at the end of a string must not hide the closing quote from the scan.
    assert.deepEqual(parseJson('{"a":"\\\\","b":[1]}'), { a: '\\', b: [1] });
    assert.throws(() => parseJson(`{"a":"\\\\",${'"b":['.repeat(1)}${nested(64)}]}`), JsonTooDeepError);
  });

  test('malformed JSON within the limit is still a SyntaxError for the surface to map', () => {
    assert.throws(() => parseJson('{"a":'), SyntaxError);
  });

  test('parses a Buffer that is a slice of a larger allocation by its own bytes only', () => {
    const pool = Buffer.from('xx{"ok":true}yy');
    assert.deepEqual(parseJson(pool.subarray(2, 13)), { ok: true });
  });
});

describe('readJson over a real server', () => {
  let server: Server;
  let base: string;
  before(async () => {
    server = createServer((request, response) => {
      readJson(request, { maxBytes: 1_000_000 }).then(
        (value) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ value: value ?? null })),
        (error: unknown) => {
          const name = error instanceof JsonTooDeepError ? error.code : error instanceof BodyTooLargeError ? 'BodyTooLarge' : error instanceof SyntaxError ? 'Syntax' : 'other';
          response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ name }));
        },
      );
    });
    base = `http://127.0.0.1:${await listen(server, 0)}`;
  });
  after(() => closeServer(server));

  const post = async (body: string) => {
    const response = await fetch(base, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  test('refuses a body nested 10,000 deep with JsonTooDeepError and keeps serving', async () => {
    assert.deepEqual(await post(nested(10_000)), { status: 400, body: { name: 'JsonTooDeep' } });
    assert.deepEqual(await post('{"prompt":"hi","nested":[[1]]}'), { status: 200, body: { value: { prompt: 'hi', nested: [[1]] } } });
  });

  test('an oversized body and malformed JSON keep their own errors', async () => {
    assert.deepEqual(await post(`"${'x'.repeat(1_000_001)}"`), { status: 400, body: { name: 'BodyTooLarge' } });
    assert.deepEqual(await post('{'), { status: 400, body: { name: 'Syntax' } });
    assert.deepEqual(await post(''), { status: 200, body: { value: null } });
  });
});
