import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { runAgentTurn } from '../src/agent-loop.ts';
import { openGatewaySession } from '../src/gateway-session.ts';
import { createScriptedModel } from '../src/scripted-model.ts';
import type { AgentEvent } from '../src/agent-event.ts';
import type { ConversationMessage } from '../src/model-provider.ts';
import { startGatewayStandIn, type GatewayStandIn } from './support/gateway-stand-in.ts';

let gateway: GatewayStandIn;
before(async () => {
  gateway = await startGatewayStandIn(new Set(['wat-alice-1', 'wat-alice-2']));
});
after(async () => {
  await gateway.close();
});

async function collect(events: AsyncIterable<AgentEvent>): Promise<AgentEvent[]> {
  const all: AgentEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

function listAccountsThenAnswer(answer: string) {
  return createScriptedModel([
    [{ type: 'text-delta', delta: 'Let me look. ' }, { type: 'tool-use', id: 'call-1', name: 'list_accounts', input: {} }, { type: 'stop', reason: 'tool_use' }],
    [{ type: 'text-delta', delta: answer }, { type: 'stop', reason: 'end_turn' }],
  ]);
}

async function turn(options: { token: string | undefined; model: ReturnType<typeof createScriptedModel>; history?: readonly ConversationMessage[] }) {
  const session = openGatewaySession({ url: gateway.url, workloadToken: options.token });
  let committed: readonly ConversationMessage[] | undefined;
  try {
    const events = await collect(
      runAgentTurn({ model: options.model, gateway: session, history: options.history ?? [], prompt: 'Which accounts can I use?', onCommit: (history) => (committed = history) }),
    );
    return { events, committed };
  } finally {
    await session.close();
  }
}

test('scripted model: a tool call reaches the gateway with the workload token and its result goes back to the model', async () => {
  const before = { requests: gateway.authorizations.length, calls: gateway.calls.length };
  const model = listAccountsThenAnswer('You can use three accounts.');
  const { events, committed } = await turn({ token: 'wat-alice-1', model });

  const toolResult = events.find((event) => event.type === 'tool-result');
  assert.ok(toolResult && toolResult.type === 'tool-result');
  assert.deepEqual(events, [
    { type: 'text-delta', delta: 'Let me look. ' },
    { type: 'tool-call', id: 'call-1', name: 'list_accounts', arguments: {} },
    { type: 'tool-result', id: 'call-1', name: 'ops___list_accounts', ok: true, summary: toolResult.summary, result: toolResult.result },
    { type: 'text-delta', delta: 'You can use three accounts.' },
    { type: 'message', text: 'You can use three accounts.' },
  ]);
  assert.deepEqual((toolResult.result as { accounts: Array<{ name: string }> }).accounts.map((account) => account.name), ['Production', 'Staging', 'Development']);
  // Every HTTP request of this invocation carried the WAT, and the tool ran exactly once with it.
  const sent = gateway.authorizations.slice(before.requests);
  assert.ok(sent.length >= 2);
  assert.deepEqual(new Set(sent), new Set(['Bearer wat-alice-1']));
  assert.deepEqual(gateway.calls.slice(before.calls), [{ authorization: 'Bearer wat-alice-1', tool: 'ops___list_accounts', arguments: {} }]);
  // The model saw the gateway's tool list and, on its second call, the tool's result.
  assert.ok(model.requests[0]!.tools.some((tool) => tool.name === 'ops___call_aws'));
  const last = model.requests[1]!.messages.at(-1)!;
  assert.equal(last.role, 'user');
  assert.equal(last.content[0]!.type, 'tool-result');
  assert.match(last.content[0]!.type === 'tool-result' ? last.content[0]!.content : '', /Production/);
  // History is committed whole: prompt, tool use, its result, answer.
  assert.deepEqual(committed?.map((message) => [message.role, message.content.map((block) => block.type)]), [
    ['user', ['text']],
    ['assistant', ['text', 'tool-use']],
    ['user', ['tool-result']],
    ['assistant', ['text']],
  ]);
});

test('scripted model: the MCP session is ended with a DELETE carrying the same workload token when the invocation finishes', async () => {
  const start = gateway.deletes.length;
  await turn({ token: 'wat-alice-2', model: listAccountsThenAnswer('done') });
  const ended = gateway.deletes.slice(start);
  assert.equal(ended.length, 1);
  assert.equal(ended[0]!.authorization, 'Bearer wat-alice-2');
  assert.match(ended[0]!.sessionId ?? '', /^stand-in-session-\d+$/);
});

test('scripted model: a changed workload token takes effect on the next call', async () => {
  const start = gateway.calls.length;
  const startRequests = gateway.authorizations.length;
  await turn({ token: 'wat-alice-1', model: listAccountsThenAnswer('first') });
  const middle = gateway.authorizations.length;
  await turn({ token: 'wat-alice-2', model: listAccountsThenAnswer('second') });
  assert.deepEqual(
    gateway.calls.slice(start).map((call) => call.authorization),
    ['Bearer wat-alice-1', 'Bearer wat-alice-2'],
  );
  assert.deepEqual(new Set(gateway.authorizations.slice(startRequests, middle)), new Set(['Bearer wat-alice-1']));
  assert.deepEqual(new Set(gateway.authorizations.slice(middle)), new Set(['Bearer wat-alice-2']));
});

test('scripted model: without a workload token the tool call fails with an error event and nothing reaches the gateway', async () => {
  const startRequests = gateway.authorizations.length;
  const { events, committed } = await turn({ token: undefined, model: listAccountsThenAnswer('never') });
  const error = events.at(-1);
  assert.ok(error?.type === 'error');
  assert.equal(error.code, 'NoWorkloadToken');
  assert.match(error.message, /runtime gave no workload token/);
  assert.ok(error.fix);
  assert.equal(events.some((event) => event.type === 'message'), false);
  assert.equal(gateway.authorizations.length, startRequests, 'no request may reach the gateway without a token');
  assert.equal(committed, undefined, 'a failed turn leaves the history untouched');
});

test('scripted model: a token the gateway refuses gives GatewayUnauthorized and the tool never runs', async () => {
  const startCalls = gateway.calls.length;
  const startRequests = gateway.authorizations.length;
  const { events } = await turn({ token: 'forged-token', model: listAccountsThenAnswer('never') });
  const error = events.at(-1);
  assert.ok(error?.type === 'error');
  assert.equal(error.code, 'GatewayUnauthorized');
  assert.match(error.message, /refused the workload token \(401\)/);
  assert.doesNotMatch(JSON.stringify(events), /forged-token/);
  assert.equal(gateway.calls.length, startCalls);
  assert.deepEqual(new Set(gateway.authorizations.slice(startRequests)), new Set(['Bearer forged-token']));
});

test('scripted model: an unknown tool name is reported back to the model, which can recover', async () => {
  const model = createScriptedModel([
    [{ type: 'tool-use', id: 'x1', name: 'delete_everything', input: {} }, { type: 'stop', reason: 'tool_use' }],
    (request) => {
      const result = request.messages.at(-1)!.content[0]!;
      return [{ type: 'text-delta', delta: result.type === 'tool-result' && result.isError ? 'That tool does not exist.' : 'unexpected' }, { type: 'stop', reason: 'end_turn' }];
    },
  ]);
  const { events } = await turn({ token: 'wat-alice-1', model });
  const result = events.find((event) => event.type === 'tool-result');
  assert.ok(result?.type === 'tool-result');
  assert.equal(result.ok, false);
  assert.match(result.summary, /no tool named delete_everything/);
  assert.deepEqual(events.at(-1), { type: 'message', text: 'That tool does not exist.' });
});

test('scripted model: a model that never stops calling tools is stopped after the step limit', async () => {
  const loop = Array.from({ length: 3 }, (_, index) => [{ type: 'tool-use' as const, id: `l${index}`, name: 'list_accounts', input: {} }, { type: 'stop' as const, reason: 'tool_use' as const }]);
  const session = openGatewaySession({ url: gateway.url, workloadToken: 'wat-alice-1' });
  let committed = false;
  const events = await collect(runAgentTurn({ model: createScriptedModel(loop), gateway: session, history: [], prompt: 'loop', maxSteps: 3, onCommit: () => (committed = true) }));
  await session.close();
  assert.equal(events.filter((event) => event.type === 'tool-result').length, 3);
  const error = events.at(-1);
  assert.ok(error?.type === 'error');
  assert.equal(error.code, 'AgentFailure');
  assert.match(error.message, /after 3 steps/);
  assert.equal(committed, false);
});

test('scripted model: earlier turns of the session are sent to the model', async () => {
  const first = await turn({ token: 'wat-alice-1', model: listAccountsThenAnswer('three accounts') });
  const model = createScriptedModel([[{ type: 'text-delta', delta: 'Still three.' }, { type: 'stop', reason: 'end_turn' }]]);
  const second = await turn({ token: 'wat-alice-1', model, history: first.committed ?? [] });
  assert.equal(model.requests[0]!.messages.length, 5);
  assert.deepEqual(model.requests[0]!.messages.slice(0, 4), first.committed);
  assert.equal(second.committed?.length, 6);
});
