import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSseText, readSse } from '../src/index.ts';

function streamOf(chunks: readonly string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

async function collect(stream: ReadableStream<Uint8Array>) {
  const messages = [];
  for await (const message of readSse(stream)) messages.push(message);
  return messages;
}

// The agent's old parser split on LF only and returned nothing for this stream; the web's returned both events.
// The one parser (agent providers, web, tests) follows the spec: CR alone ends a line too.
test('a CR-only stream yields both of its events, whole or split at every CR', async () => {
  const text = 'event: one\rdata: {"n":1}\r\rdata: {"n":2}\r\r';
  const expected = [{ event: 'one', data: '{"n":1}' }, { event: undefined, data: '{"n":2}' }];
  assert.deepEqual(await collect(streamOf([text])), expected);
  assert.deepEqual(await collect(streamOf(text.split(/(?<=\r)/))), expected);
  assert.deepEqual(parseSseText(text), expected);
});

test('LF, CRLF and CR endings mixed in one stream, comments and unknown fields skipped', async () => {
  const text = ': keep-alive\n\nretry: 10\nid: 7\ndata: a\r\ndata: b\r\n\r\nfoo: bar\rdata: c\r\n\n';
  assert.deepEqual(parseSseText(text), [{ event: undefined, data: 'a\nb' }, { event: undefined, data: 'c' }]);
  assert.deepEqual(await collect(streamOf([...text])), [{ event: undefined, data: 'a\nb' }, { event: undefined, data: 'c' }]);
});

test('a stream cut after its last data line (no blank line, or a lone CR) still delivers that event; a block without data delivers nothing', async () => {
  assert.deepEqual(await collect(streamOf(['data: {"done":true}'])), [{ event: undefined, data: '{"done":true}' }]);
  assert.deepEqual(await collect(streamOf(['data: x\r'])), [{ event: undefined, data: 'x' }]);
  assert.deepEqual(parseSseText('event: ping\n\n'), []);
});

test('stopping early cancels the body, so a cancelled turn stops the download', async () => {
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      controller.enqueue(new TextEncoder().encode('data: tick\n\n'));
    },
    cancel() {
      cancelled = true;
    },
  });
  for await (const message of readSse(body)) {
    assert.equal(message.data, 'tick');
    break;
  }
  assert.equal(cancelled, true);
});
