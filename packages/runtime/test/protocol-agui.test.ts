import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { EventSchemas } from '@ag-ui/core/schemas';
import { SESSION, parseSse, sessionId, startHarness, type Harness } from './support/runtime-harness.ts';

const AGUI_AGENT = fileURLToPath(new URL('../../../examples/agui-agent/agent.mjs', import.meta.url));

function runInput(threadId: string, prompt: string): Record<string, unknown> {
  return { threadId, runId: randomUUID(), messages: [{ id: randomUUID(), role: 'user', content: prompt }], tools: [], context: [], state: {}, forwardedProps: {} };
}

describe('serverProtocol AGUI: AG-UI events over SSE and /ws through the runtime', () => {
  let harness: Harness;
  let alice: string;

  before(async () => {
    harness = await startHarness({ runtimes: [{ agentRuntimeName: 'ui_agent', agent: { command: [process.execPath, AGUI_AGENT] }, protocolConfiguration: { serverProtocol: 'AGUI' }, limits: { warmPoolSize: 0 } }] });
    alice = harness.issuer.sign({ sub: 'alice' });
  });
  after(() => harness.close());

  test('a RunAgentInput POSTed to /invocations streams valid AG-UI events from RUN_STARTED to RUN_FINISHED', async () => {
    const id = sessionId('agui-sse');
    const response = await fetch(harness.url('ui_agent'), {
      method: 'POST',
      headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json', accept: 'text/event-stream', [SESSION]: id },
      body: JSON.stringify(runInput(id, 'count these words')),
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/event-stream');
    const events = parseSse(await response.text()).map((event) => EventSchemas.parse(event.data));
    assert.equal(events[0]!.type, 'RUN_STARTED');
    assert.equal(events.at(-1)!.type, 'RUN_FINISHED');
    const text = events.flatMap((event) => (event.type === 'TEXT_MESSAGE_CONTENT' ? [event.delta] : [])).join('');
    assert.equal(text, 'AG-UI agent for alice heard 3 words: count these words');
  });

  test('a RunAgentInput frame on /ws gets the same events back as frames', async () => {
    const id = sessionId('agui-ws');
    const url = `${harness.url('ui_agent', 'ws').replace('http:', 'ws:')}?${SESSION}=${id}`;
    const socket = new WebSocket(url, { headers: { authorization: `Bearer ${alice}` } });
    const types: string[] = [];
    await new Promise<void>((resolve, reject) => {
      socket.on('open', () => socket.send(JSON.stringify(runInput(id, 'over the socket'))));
      socket.on('message', (data) => {
        const event = EventSchemas.parse(JSON.parse(String(data)));
        types.push(event.type);
        if (event.type === 'RUN_FINISHED') resolve();
      });
      socket.on('error', reject);
    });
    socket.close();
    assert.deepEqual([types[0], types.at(-1), types.includes('TOOL_CALL_RESULT')], ['RUN_STARTED', 'RUN_FINISHED', true]);
  });

  test('an MCP client at an AGUI runtime gets a ValidationException naming AGUI', async () => {
    const response = await fetch(harness.url('ui_agent'), {
      method: 'POST',
      headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json', 'mcp-protocol-version': '2025-06-18', [SESSION]: sessionId('agui-mcp') },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as { message: string }).message, /speaks AGUI .*this is an MCP request/);
  });
});
