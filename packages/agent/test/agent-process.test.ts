import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { agentEntryPath } from '../src/index.ts';
import type { AgentEvent } from '../src/agent-event.ts';
import { startGatewayStandIn, type GatewayStandIn } from './support/gateway-stand-in.ts';
import { parseSse, spawnAgent, type SpawnedAgent } from './support/spawn-agent.ts';

const SESSION = 'session-0123456789-0123456789-0123456789';
const WAT = 'wat-process-test-token-1';
let gateway: GatewayStandIn;
let agent: SpawnedAgent;

before(async () => {
  gateway = await startGatewayStandIn(new Set([WAT]));
  agent = await spawnAgent({ GATEHOUSE_GATEWAY_URL: gateway.url, GATEHOUSE_LOG_LEVEL: 'info' });
});
after(async () => {
  await agent.stop();
  await gateway.close();
});

function invocationHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-amzn-bedrock-agentcore-runtime-session-id': SESSION,
    'x-amzn-bedrock-agentcore-runtime-request-id': 'req-1',
    'x-amzn-bedrock-agentcore-runtime-user-id': 'alice',
    'x-amz-bedrock-agentcore-identity-wat': WAT,
    ...extra,
  };
}

test('GET /ping answers Healthy with integer Unix seconds', async () => {
  const response = await fetch(`${agent.baseUrl}/ping`);
  assert.equal(response.status, 200);
  const body = (await response.json()) as { status: string; time_of_last_update: number };
  assert.equal(body.status, 'Healthy');
  assert.ok(Number.isInteger(body.time_of_last_update));
  assert.ok(Math.abs(body.time_of_last_update - Date.now() / 1000) < 120);
});

test('POST /invocations with Accept: text/event-stream streams typed events named by type, calling the gateway with the WAT', async () => {
  const callsBefore = gateway.calls.length;
  const response = await fetch(`${agent.baseUrl}/invocations`, {
    method: 'POST',
    headers: invocationHeaders({ accept: 'text/event-stream' }),
    body: JSON.stringify({ prompt: 'List S3 buckets in the Production account' }),
  });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  const events = parseSse(await response.text());
  for (const { event, data } of events) assert.equal(event, (data as AgentEvent).type);
  const types = events.map(({ event }) => event);
  assert.deepEqual(types.slice(0, 2), ['tool-call', 'tool-result']);
  assert.equal(types.at(-1), 'message');
  assert.ok(types.slice(2, -1).every((type) => type === 'text-delta') && types.length > 3);
  assert.deepEqual(events[0]!.data, { type: 'tool-call', id: (events[0]!.data as { id: string }).id, name: 'ops___call_aws', arguments: { account: 'Production', service: 's3', operation: 'ListBuckets' } });
  const message = events.at(-1)!.data as { text: string };
  assert.match(message.text, /^\(offline planner — no model configured\)/);
  assert.match(message.text, /prod-logs/);
  assert.equal(events.slice(2, -1).map(({ data }) => (data as { delta: string }).delta).join(''), message.text);
  assert.deepEqual(gateway.calls.slice(callsBefore), [
    { authorization: `Bearer ${WAT}`, tool: 'ops___call_aws', arguments: { account: 'Production', service: 's3', operation: 'ListBuckets' } },
  ]);
  assert.doesNotMatch(agent.output(), new RegExp(WAT), 'the workload token never appears in the agent log');
});

test('POST /invocations without SSE returns {message, events}; {"input":{"prompt"}} is accepted', async () => {
  const response = await fetch(`${agent.baseUrl}/invocations`, {
    method: 'POST',
    headers: invocationHeaders(),
    body: JSON.stringify({ input: { prompt: 'list my accounts' } }),
  });
  assert.equal(response.status, 200);
  const body = (await response.json()) as { message: string; events: AgentEvent[] };
  assert.match(body.message, /Found 3 accounts/);
  assert.deepEqual(body.events.at(-1), { type: 'message', text: body.message });
  assert.equal(body.events[0]!.type, 'tool-call');
});

test('bad requests get 400 with a message saying what to send', async () => {
  const badJson = await fetch(`${agent.baseUrl}/invocations`, { method: 'POST', headers: invocationHeaders(), body: '{not json' });
  assert.equal(badJson.status, 400);
  assert.equal(((await badJson.json()) as { error: string }).error, 'Invalid JSON');
  const noPrompt = await fetch(`${agent.baseUrl}/invocations`, { method: 'POST', headers: invocationHeaders(), body: '{"question":"hi"}' });
  assert.equal(noPrompt.status, 400);
  assert.deepEqual(await noPrompt.json(), { error: 'BadRequest', message: 'The request needs a non-empty string "prompt" (or "input.prompt").', fix: 'Send {"prompt":"List my accounts"}.' });
});

test('without a workload token the tool call fails with an error event and the gateway receives nothing', async () => {
  const requestsBefore = gateway.authorizations.length;
  const headers = invocationHeaders();
  delete headers['x-amz-bedrock-agentcore-identity-wat'];
  const response = await fetch(`${agent.baseUrl}/invocations`, { method: 'POST', headers, body: JSON.stringify({ prompt: 'list my accounts' }) });
  const body = (await response.json()) as { message: string; events: AgentEvent[]; error: AgentEvent };
  assert.equal(body.error.type, 'error');
  assert.equal(body.error.type === 'error' && body.error.code, 'NoWorkloadToken');
  assert.equal(gateway.authorizations.length, requestsBefore);
});

test('the legacy WorkloadAccessToken header is honoured too', async () => {
  const callsBefore = gateway.calls.length;
  const headers = invocationHeaders({ workloadaccesstoken: WAT });
  delete headers['x-amz-bedrock-agentcore-identity-wat'];
  const response = await fetch(`${agent.baseUrl}/invocations`, { method: 'POST', headers, body: JSON.stringify({ prompt: 'list my accounts' }) });
  assert.equal(response.status, 200);
  assert.equal(gateway.calls.slice(callsBefore)[0]?.authorization, `Bearer ${WAT}`);
});

test('WS /ws: a text frame {"prompt"} is an invocation and events come back as text frames', async () => {
  const socket = new WebSocket(`${agent.baseUrl.replace('http', 'ws')}/ws?X-Amzn-Bedrock-AgentCore-Runtime-Session-Id=${SESSION}`, {
    headers: { 'x-amz-bedrock-agentcore-identity-wat': WAT },
  });
  await once(socket, 'open');
  const events: AgentEvent[] = [];
  const done = new Promise<void>((resolve) => {
    socket.on('message', (data, isBinary) => {
      assert.equal(isBinary, false);
      const event = JSON.parse(String(data)) as AgentEvent;
      events.push(event);
      if (event.type === 'message' || event.type === 'error') resolve();
    });
  });
  socket.send(JSON.stringify({ prompt: 'List objects in bucket prod-logs in the Production account' }));
  await done;
  socket.close();
  assert.equal(events[0]!.type, 'tool-call');
  assert.deepEqual(events[0]!.type === 'tool-call' && events[0]!.arguments, { account: 'Production', bucket: 'prod-logs' });
  const message = events.at(-1);
  assert.ok(message?.type === 'message');
  assert.match(message.text, /report\.csv/);
});

test('GET /ping says HealthyBusy while a turn is running, then Healthy again', async () => {
  gateway.delayMs = 1500;
  try {
    const invocation = fetch(`${agent.baseUrl}/invocations`, { method: 'POST', headers: invocationHeaders(), body: JSON.stringify({ prompt: 'list my accounts' }) });
    let busy = false;
    for (let attempt = 0; attempt < 40 && !busy; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      busy = ((await (await fetch(`${agent.baseUrl}/ping`)).json()) as { status: string }).status === 'HealthyBusy';
    }
    assert.ok(busy, 'ping reported HealthyBusy during the turn');
    await (await invocation).json();
    const after = (await (await fetch(`${agent.baseUrl}/ping`)).json()) as { status: string };
    assert.equal(after.status, 'Healthy');
  } finally {
    gateway.delayMs = 0;
  }
});

test('an invalid GATEHOUSE_MODEL stops the agent at start with a message naming the field', async () => {
  const child = spawn(process.execPath, [agentEntryPath], {
    env: { ...process.env, PORT: '0', GATEHOUSE_MODEL: JSON.stringify({ provider: 'openai-compatible', modelId: 'llama3' }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const [code] = (await once(child, 'exit')) as [number];
  assert.equal(code, 2);
  assert.match(stderr, /model\.baseUrl/);
});
