#!/usr/bin/env node
// An AG-UI agent for a runtime with protocolConfiguration.serverProtocol AGUI (AgentCore's AG-UI contract):
//   POST /invocations  an AG-UI RunAgentInput in; AG-UI events out as SSE (`data: {"type":"RUN_STARTED",…}`)
//   WS   /ws           each text frame is a RunAgentInput; the same events come back as text frames
//   GET  /ping         {"status":"Healthy"}
// It listens on $PORT (default 8080, the AG-UI contract's port) on 127.0.0.1 ($HOST to change it). Each run counts
// the words of the last user message with a `word_count` tool call (TOOL_CALL_START/ARGS/END/RESULT) and then
// streams its answer word by word (TEXT_MESSAGE_START/CONTENT/END), between RUN_STARTED and RUN_FINISHED. Every
// event is checked against @ag-ui/core's schemas before it is sent. A message containing "fail" ends in RUN_ERROR.
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { WebSocketServer } from 'ws';
import { EventType } from '@ag-ui/core';
import { EventSchemas, RunAgentInputSchema } from '@ag-ui/core/schemas';

const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? '127.0.0.1';

/** The events of one run, in order (a generator, so SSE and WS write them the same way). */
function* run(input, userId) {
  const { threadId, runId } = input;
  yield { type: EventType.RUN_STARTED, threadId, runId };
  const last = [...input.messages].reverse().find((message) => message.role === 'user');
  const prompt = typeof last?.content === 'string' ? last.content : '';
  if (/\bfail\b/i.test(prompt)) {
    yield { type: EventType.RUN_ERROR, message: 'The agent was asked to fail.', code: 'asked_to_fail' };
    return;
  }
  const toolCallId = randomUUID();
  const words = prompt.split(/\s+/).filter(Boolean);
  yield { type: EventType.TOOL_CALL_START, toolCallId, toolCallName: 'word_count' };
  yield { type: EventType.TOOL_CALL_ARGS, toolCallId, delta: JSON.stringify({ text: prompt }) };
  yield { type: EventType.TOOL_CALL_END, toolCallId };
  yield { type: EventType.TOOL_CALL_RESULT, messageId: randomUUID(), toolCallId, content: JSON.stringify({ words: words.length }), role: 'tool' };
  const messageId = randomUUID();
  yield { type: EventType.TEXT_MESSAGE_START, messageId, role: 'assistant' };
  const answer = `AG-UI agent for ${userId ?? 'nobody'} heard ${words.length} words: ${prompt}`;
  for (const [index, word] of answer.split(' ').entries()) yield { type: EventType.TEXT_MESSAGE_CONTENT, messageId, delta: index === 0 ? word : ` ${word}` };
  yield { type: EventType.TEXT_MESSAGE_END, messageId };
  yield { type: EventType.RUN_FINISHED, threadId, runId };
}

const checked = (event) => EventSchemas.parse(event);

async function readBody(request) {
  const chunks = [];
  for await (const chunk of request) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function parseInput(text) {
  try {
    const parsed = RunAgentInputSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

const server = createServer(async (request, response) => {
  const path = new URL(request.url ?? '/', 'http://agent').pathname;
  if (request.method === 'GET' && path === '/ping') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ status: 'Healthy', time_of_last_update: Math.floor(Date.now() / 1000) }));
    return;
  }
  if (request.method !== 'POST' || path !== '/invocations') {
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: 'not found' }));
    return;
  }
  const input = parseInput(await readBody(request));
  if (!input) {
    response.writeHead(400, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: 'The body must be an AG-UI RunAgentInput (threadId, runId, messages, tools, context, state, forwardedProps).' }));
    return;
  }
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const event of run(input, request.headers['x-amzn-bedrock-agentcore-runtime-user-id'])) {
    response.write(`data: ${JSON.stringify(checked(event))}\n\n`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  response.end();
});

const sockets = new WebSocketServer({ noServer: true });
server.on('upgrade', (request, socket, head) => {
  if (new URL(request.url ?? '/', 'http://agent').pathname !== '/ws') return socket.destroy();
  sockets.handleUpgrade(request, socket, head, (ws) => {
    const userId = request.headers['x-amzn-bedrock-agentcore-runtime-user-id'];
    ws.on('message', (data, binary) => {
      const input = binary ? undefined : parseInput(data.toString('utf8'));
      if (!input) return ws.send(JSON.stringify(checked({ type: EventType.RUN_ERROR, message: 'Send an AG-UI RunAgentInput as a text frame.', code: 'bad_input' })));
      for (const event of run(input, userId)) ws.send(JSON.stringify(checked(event)));
    });
  });
});

server.listen(port, host, () => process.stderr.write(`agui-agent: listening on ${host}:${port}\n`));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
