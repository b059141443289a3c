import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import type { ServerResponse } from 'node:http';
import { closeServer, createLogger, listen } from '@gatehouse/core';
import { createAgentServer } from '../src/agent-server.ts';
import { createScriptedModel } from '../src/scripted-model.ts';
import { writeSseEvent } from '../src/sse-writer.ts';
import type { AgentEvent } from '../src/agent-event.ts';
import type { ModelRequest } from '../src/model-provider.ts';

const SESSION_A = 'session-a-0123456789-0123456789-012345';
const SESSION_B = 'session-b-0123456789-0123456789-012345';
let baseUrl = '';
let release: (() => void) | undefined;
const logs = new PassThrough();
let logText = '';
logs.on('data', (chunk: Buffer) => (logText += chunk.toString('utf8')));

// Each answer repeats how many user prompts the model saw, so memory is visible from outside.
const echoHistory = async function* (request: ModelRequest) {
  const prompts = request.messages.filter((message) => message.role === 'user' && message.content.some((block) => block.type === 'text'));
  const last = prompts.at(-1)?.content[0];
  if (last?.type === 'text' && last.text === 'hold') await new Promise<void>((resolve) => (release = resolve));
  yield { type: 'text-delta' as const, delta: `prompts seen: ${prompts.length}` };
  yield { type: 'stop' as const, reason: 'end_turn' as const };
};
const model = { ...createScriptedModel([]), stream: echoHistory };
const agent = createAgentServer({ model, gatewayUrl: 'http://127.0.0.1:9/mcp', logger: createLogger({ destination: logs, level: 'info' }) });

before(async () => {
  baseUrl = `http://127.0.0.1:${await listen(agent.server, 0)}`;
});
after(async () => {
  await closeServer(agent.server);
});

async function invoke(sessionId: string, prompt: string): Promise<string> {
  const response = await fetch(`${baseUrl}/invocations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-amzn-bedrock-agentcore-runtime-session-id': sessionId, 'x-amz-bedrock-agentcore-identity-wat': 'wat-secret-value-123' },
    body: JSON.stringify({ prompt }),
  });
  return ((await response.json()) as { message: string }).message;
}

test('conversation memory is kept per session id', async () => {
  assert.equal(await invoke(SESSION_A, 'one'), 'prompts seen: 1');
  assert.equal(await invoke(SESSION_A, 'two'), 'prompts seen: 2');
  assert.equal(await invoke(SESSION_B, 'one'), 'prompts seen: 1');
  assert.equal(await invoke(SESSION_A, 'three'), 'prompts seen: 3');
});

test('turns of one session run one after another, so history never interleaves', async () => {
  const held = invoke(`${SESSION_A}-x`, 'hold');
  while (!release) await new Promise((resolve) => setTimeout(resolve, 10));
  const queued = invoke(`${SESSION_A}-x`, 'after');
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(agent.activeTurns(), 1, 'the second turn waits for the first');
  release();
  assert.equal(await held, 'prompts seen: 1');
  assert.equal(await queued, 'prompts seen: 2');
});

test('the workload token never reaches the agent log', () => {
  assert.match(logText, /invocation started/);
  assert.doesNotMatch(logText, /wat-secret-value-123/);
});

test('SSE writer refuses CR or LF in an event name', () => {
  const written: string[] = [];
  const response = { write: (text: string) => written.push(text) } as unknown as ServerResponse;
  assert.throws(() => writeSseEvent(response, { type: 'message\ndata: {"forged":true}' } as unknown as AgentEvent), /must not contain CR or LF/);
  assert.deepEqual(written, []);
  writeSseEvent(response, { type: 'message', text: 'line one\nline two\r\n' });
  assert.deepEqual(written, ['event: message\ndata: {"type":"message","text":"line one\\nline two\\r\\n"}\n\n']);
});

test('unknown paths get 404', async () => {
  const response = await fetch(`${baseUrl}/other`);
  assert.equal(response.status, 404);
  await response.body?.cancel();
});
