import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { closeServer, listen, readBody } from '@gatehouse/core';
import { AgentError } from '../src/agent-error.ts';
import type { ModelChunk, ModelProvider, ModelRequest } from '../src/model-provider.ts';
import { createAnthropicProvider } from '../src/providers/anthropic-provider.ts';
import { createOpenAiCompatibleProvider } from '../src/providers/openai-compatible-provider.ts';

type Reply = (response: ServerResponse) => void;
const received: Array<{ path: string; headers: IncomingHttpHeaders; body: Record<string, unknown> }> = [];
let replies: Reply[] = [];
let baseUrl = '';
const server = createServer((request, response) => {
  void readBody(request, 1_000_000).then((raw) => {
    received.push({ path: request.url ?? '', headers: request.headers, body: JSON.parse(raw.toString('utf8')) as Record<string, unknown> });
    const reply = replies.length > 1 ? replies.shift()! : replies[0]!;
    reply(response);
  });
});
before(async () => {
  baseUrl = `http://127.0.0.1:${await listen(server, 0)}`;
});
after(() => closeServer(server));

const sse = (events: Array<[string | undefined, unknown]>): Reply => (response) => {
  response.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const [name, data] of events) response.write(`${name ? `event: ${name}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
  response.end();
};
const jsonError = (status: number, body: unknown): Reply => (response) => {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

const request: ModelRequest = {
  system: 'be brief',
  tools: [{ name: 'ops___list_accounts', description: 'List accounts', inputSchema: { type: 'object', properties: {} } }],
  messages: [
    { role: 'user', content: [{ type: 'text', text: 'accounts?' }] },
    { role: 'assistant', content: [{ type: 'tool-use', id: 't1', name: 'ops___list_accounts', input: {} }] },
    { role: 'user', content: [{ type: 'tool-result', id: 't1', name: 'ops___list_accounts', content: '["Production"]', isError: false }] },
  ],
};

async function drain(model: ModelProvider): Promise<ModelChunk[]> {
  const chunks: ModelChunk[] = [];
  for await (const chunk of model.stream(request)) chunks.push(chunk);
  return chunks;
}
async function failure(model: ModelProvider): Promise<AgentError> {
  try {
    await drain(model);
  } catch (error) {
    assert.ok(error instanceof AgentError);
    return error;
  }
  assert.fail('expected a failure');
}

const anthropic = (env: Record<string, string> = { ANTHROPIC_API_KEY: 'sk-ant-test' }) =>
  createAnthropicProvider({ modelId: 'claude-sonnet-4-5', apiKeyEnv: 'ANTHROPIC_API_KEY', baseUrl }, { env, retry: { maxAttempts: 2, baseDelayMs: 5 } });
const openai = (env: Record<string, string> = { LOCAL_KEY: 'local-key' }) =>
  createOpenAiCompatibleProvider({ modelId: 'llama3.1', baseUrl: `${baseUrl}/v1`, apiKeyEnv: 'LOCAL_KEY' }, { env, retry: { maxAttempts: 2, baseDelayMs: 5 } });

test('anthropic: streams text and a tool use from the Messages API, sending the key and the converted conversation', async () => {
  const start = received.length;
  replies = [
    sse([
      ['message_start', { type: 'message_start', message: { id: 'm1' } }],
      ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
      ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Looking.' } }],
      ['content_block_stop', { type: 'content_block_stop', index: 0 }],
      ['content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_1', name: 'ops___list_accounts', input: {} } }],
      ['content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"a":' } }],
      ['content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '1}' } }],
      ['content_block_stop', { type: 'content_block_stop', index: 1 }],
      ['message_delta', { type: 'message_delta', delta: { stop_reason: 'tool_use' } }],
      ['message_stop', { type: 'message_stop' }],
    ]),
  ];
  assert.deepEqual(await drain(anthropic()), [
    { type: 'text-delta', delta: 'Looking.' },
    { type: 'tool-use', id: 'toolu_1', name: 'ops___list_accounts', input: { a: 1 } },
    { type: 'stop', reason: 'tool_use' },
  ]);
  const [sent] = received.slice(start);
  assert.equal(sent?.path, '/v1/messages');
  assert.equal(sent?.headers['x-api-key'], 'sk-ant-test');
  assert.equal(sent?.headers['anthropic-version'], '2023-06-01');
  assert.deepEqual(sent?.body.messages, [
    { role: 'user', content: [{ type: 'text', text: 'accounts?' }] },
    { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'ops___list_accounts', input: {} }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: '["Production"]', is_error: false }] },
  ]);
  assert.deepEqual(sent?.body.tools, [{ name: 'ops___list_accounts', description: 'List accounts', input_schema: { type: 'object', properties: {} } }]);
});

test('anthropic: a missing key is ModelNoCredentials naming the variable, and nothing is sent', async () => {
  const start = received.length;
  const error = await failure(anthropic({}));
  assert.equal(error.code, 'ModelNoCredentials');
  assert.match(error.message, /ANTHROPIC_API_KEY/);
  assert.equal(received.length, start);
});

test('anthropic: 401, 404, "prompt is too long" and 529 overloaded are translated', async () => {
  const cases: Array<[Reply, string]> = [
    [jsonError(401, { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } }), 'ModelInvalidCredentials'],
    [jsonError(404, { type: 'error', error: { type: 'not_found_error', message: 'model: claude-x' } }), 'ModelNotFound'],
    [jsonError(400, { type: 'error', error: { type: 'invalid_request_error', message: 'prompt is too long: 210000 tokens > 200000 maximum' } }), 'ModelContextTooLong'],
    [jsonError(529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }), 'ModelThrottled'],
  ];
  for (const [reply, code] of cases) {
    replies = [reply];
    const error = await failure(anthropic());
    assert.equal(error.code, code);
    assert.ok(error.fix);
    assert.doesNotMatch(error.message, /sk-ant-test/);
  }
});

test('openai-compatible: streams text and tool calls from chat completions with a bearer key', async () => {
  const start = received.length;
  replies = [
    sse([
      [undefined, { choices: [{ delta: { role: 'assistant', content: 'Sure. ' } }] }],
      [undefined, { choices: [{ delta: { tool_calls: [{ index: 0, id: 'call_9', function: { name: 'ops___list_accounts', arguments: '{"x"' } }] } }] }],
      [undefined, { choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: ':2}' } }] }, finish_reason: 'tool_calls' }] }],
      [undefined, '[DONE]'],
    ]),
  ];
  assert.deepEqual(await drain(openai()), [
    { type: 'text-delta', delta: 'Sure. ' },
    { type: 'tool-use', id: 'call_9', name: 'ops___list_accounts', input: { x: 2 } },
    { type: 'stop', reason: 'tool_use' },
  ]);
  const [sent] = received.slice(start);
  assert.equal(sent?.path, '/v1/chat/completions');
  assert.equal(sent?.headers.authorization, 'Bearer local-key');
  assert.deepEqual(sent?.body.messages, [
    { role: 'system', content: 'be brief' },
    { role: 'user', content: 'accounts?' },
    { role: 'assistant', content: null, tool_calls: [{ id: 't1', type: 'function', function: { name: 'ops___list_accounts', arguments: '{}' } }] },
    { role: 'tool', tool_call_id: 't1', content: '["Production"]' },
  ]);
});

test('openai-compatible: 429 is retried, then a context-length 400 is ModelContextTooLong', async () => {
  const start = received.length;
  replies = [jsonError(429, { error: { message: 'Rate limit reached' } }), sse([[undefined, { choices: [{ delta: { content: 'ok' }, finish_reason: 'stop' }] }], [undefined, '[DONE]']])];
  assert.deepEqual(await drain(openai()), [{ type: 'text-delta', delta: 'ok' }, { type: 'stop', reason: 'end_turn' }]);
  assert.equal(received.length - start, 2);
  replies = [jsonError(400, { error: { message: "This model's maximum context length is 8192 tokens.", code: 'context_length_exceeded' } })];
  assert.equal((await failure(openai())).code, 'ModelContextTooLong');
});

test('openai-compatible: an unreachable server is ModelUnavailable naming model.baseUrl', async () => {
  const closed = createServer();
  const port = await listen(closed, 0);
  await closeServer(closed);
  const error = await failure(createOpenAiCompatibleProvider({ modelId: 'llama3.1', baseUrl: `http://127.0.0.1:${port}/v1` }, { retry: { maxAttempts: 1 } }));
  assert.equal(error.code, 'ModelUnavailable');
  assert.match(error.fix ?? '', /model\.baseUrl/);
});
