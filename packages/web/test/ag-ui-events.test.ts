import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventType, type BaseEvent } from '@ag-ui/core';
import { EventSchemas } from '@ag-ui/core/schemas';
import { AgUiTranslator, runAgentInput } from '../src/ag-ui-events.ts';
import type { StreamEvent } from '../src/stream-event.ts';

/** Events built and checked with @ag-ui/core's own schemas, so the test speaks real AG-UI. */
function translateAll(events: readonly Record<string, unknown>[]): StreamEvent[] {
  const translator = new AgUiTranslator();
  return events.flatMap((event) => translator.translate(EventSchemas.parse(event) as BaseEvent));
}

test('a run with text and a tool call becomes text-delta, tool-call, tool-result and a final message', () => {
  const events = translateAll([
    { type: EventType.RUN_STARTED, threadId: 't', runId: 'r' },
    { type: EventType.TOOL_CALL_START, toolCallId: 'c1', toolCallName: 'lookup' },
    { type: EventType.TOOL_CALL_ARGS, toolCallId: 'c1', delta: '{"q":' },
    { type: EventType.TOOL_CALL_ARGS, toolCallId: 'c1', delta: '"x"}' },
    { type: EventType.TOOL_CALL_END, toolCallId: 'c1' },
    { type: EventType.TOOL_CALL_RESULT, messageId: 'm0', toolCallId: 'c1', content: '{"found":true}' },
    { type: EventType.TEXT_MESSAGE_START, messageId: 'm1', role: 'assistant' },
    { type: EventType.TEXT_MESSAGE_CONTENT, messageId: 'm1', delta: 'Hello' },
    { type: EventType.TEXT_MESSAGE_CONTENT, messageId: 'm1', delta: ' world' },
    { type: EventType.TEXT_MESSAGE_END, messageId: 'm1' },
    { type: EventType.STATE_SNAPSHOT, snapshot: { ignored: true } },
    { type: EventType.RUN_FINISHED, threadId: 't', runId: 'r' },
  ]);
  assert.deepEqual(events, [
    { type: 'tool-call', id: 'c1', name: 'lookup', arguments: { q: 'x' } },
    { type: 'tool-result', id: 'c1', name: 'lookup', ok: true, summary: '{"found":true}', result: { found: true } },
    { type: 'text-delta', delta: 'Hello' },
    { type: 'text-delta', delta: ' world' },
    { type: 'message', text: 'Hello world' },
  ]);
});

test('chunk events (TEXT_MESSAGE_CHUNK, TOOL_CALL_CHUNK) are assembled; a chunked tool call completes with the run', () => {
  const events = translateAll([
    { type: EventType.RUN_STARTED, threadId: 't', runId: 'r' },
    { type: EventType.TOOL_CALL_CHUNK, toolCallId: 'c2', toolCallName: 'sum', delta: '{"a":1,' },
    { type: EventType.TOOL_CALL_CHUNK, toolCallId: 'c2', delta: '"b":2}' },
    { type: EventType.TEXT_MESSAGE_CHUNK, messageId: 'm', delta: 'three' },
    { type: EventType.RUN_FINISHED, threadId: 't', runId: 'r' },
  ]);
  assert.deepEqual(events, [
    { type: 'text-delta', delta: 'three' },
    { type: 'tool-call', id: 'c2', name: 'sum', arguments: { a: 1, b: 2 } },
    { type: 'message', text: 'three' },
  ]);
});

test('RUN_ERROR becomes the UI’s error event with the agent’s code and message; junk is dropped', () => {
  const translator = new AgUiTranslator();
  assert.deepEqual(translator.translate({ type: 'RUN_ERROR', message: 'model down', code: 'upstream' }), [{ type: 'error', code: 'upstream', message: 'model down' }]);
  assert.deepEqual(translator.translate({ type: 'RUN_ERROR' }), [{ type: 'error', code: 'agent_error', message: 'The agent reported an error without a message.' }]);
  for (const junk of [null, 'text', [1], { type: 7 }, { type: 'TOOL_CALL_END', toolCallId: 'never-started' }, { type: 'TEXT_MESSAGE_CONTENT', delta: 5 }]) {
    assert.deepEqual(translator.translate(junk), []);
  }
});

test('runAgentInput is a valid AG-UI RunAgentInput whose thread is the runtime session', async () => {
  const { RunAgentInputSchema } = await import('@ag-ui/core/schemas');
  const input = runAgentInput('session-0123456789abcdef0123456789abcdef', 'hi');
  assert.deepEqual(RunAgentInputSchema.parse(input).messages, [{ id: input.messages[0]!.id, role: 'user', content: 'hi' }]);
  assert.equal(input.threadId, 'session-0123456789abcdef0123456789abcdef');
});
