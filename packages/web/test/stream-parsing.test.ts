import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readSse } from '@gatehouse/core/sse';
import { toStreamEvent } from '../src/stream-event.ts';

function streamOf(chunks: readonly (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
      controller.close();
    },
  });
}

async function collect(stream: ReadableStream<Uint8Array>) {
  const messages = [];
  for await (const message of readSse(stream)) messages.push(message);
  return messages;
}

test('reads events split across chunks at any point, including inside a character and between CR and LF', async () => {
  const text = 'event: text-delta\r\ndata: {"type":"text-delta","delta":"héllo"}\r\n\r\n: keep-alive\n\nevent: message\ndata: {"text":"done"}\n\n';
  const bytes = new TextEncoder().encode(text);
  const chunks: Uint8Array[] = [];
  for (let index = 0; index < bytes.length; index += 3) chunks.push(bytes.slice(index, index + 3));
  assert.deepEqual(await collect(streamOf(chunks)), [
    { event: 'text-delta', data: '{"type":"text-delta","delta":"héllo"}' },
    { event: 'message', data: '{"text":"done"}' },
  ]);
});

test('joins multi-line data and delivers a last event that lacks the closing blank line', async () => {
  assert.deepEqual(await collect(streamOf(['data: a\ndata: b\n\n', 'event: message\ndata: {"text":"x"}'])), [
    { event: undefined, data: 'a\nb' },
    { event: 'message', data: '{"text":"x"}' },
  ]);
});

test('types each agent event and drops malformed ones instead of rendering them raw', () => {
  assert.deepEqual(toStreamEvent('tool-call', { id: 't1', name: 'ops___call_aws', arguments: { account: 'Production' } }), {
    type: 'tool-call',
    id: 't1',
    name: 'ops___call_aws',
    arguments: { account: 'Production' },
  });
  assert.deepEqual(toStreamEvent(undefined, { type: 'tool-result', id: 't1', name: 'ops___call_aws', ok: false, summary: 'denied', result: { code: 'AccessDenied' } }), {
    type: 'tool-result',
    id: 't1',
    name: 'ops___call_aws',
    ok: false,
    summary: 'denied',
    result: { code: 'AccessDenied' },
  });
  assert.deepEqual(toStreamEvent('error', { code: 'model_credentials', message: 'No credentials', fix: 'Set AWS_PROFILE' }), {
    type: 'error',
    code: 'model_credentials',
    message: 'No credentials',
    fix: 'Set AWS_PROFILE',
  });
  assert.equal(toStreamEvent('text-delta', { delta: 42 }), undefined);
  assert.equal(toStreamEvent('tool-call', { name: 'no id' }), undefined);
  assert.equal(toStreamEvent('surprise', { delta: 'x' }), undefined);
  assert.equal(toStreamEvent('message', 'not an object'), undefined);
});
