import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Role, type Message, type SendMessageRequest } from '@a2a-js/sdk';
import { ClientFactory, DefaultAgentCardResolver, JsonRpcTransportFactory } from '@a2a-js/sdk/client';
import { SESSION, sessionId, startHarness, type Harness } from './support/runtime-harness.ts';

const A2A_AGENT = fileURLToPath(new URL('../../../examples/a2a-agent/agent.mjs', import.meta.url));

/** fetch with the caller's bearer token and runtime session, as an A2A client of AgentCore configures it. */
function authorizedFetch(token: string, session: string, seen: string[]): typeof fetch {
  return (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set('authorization', `Bearer ${token}`);
    headers.set(SESSION, session);
    seen.push(input instanceof Request ? input.url : String(input));
    return fetch(input, { ...init, headers });
  };
}

function clientFactory(token: string, session: string, seen: string[]): ClientFactory {
  const fetchImpl = authorizedFetch(token, session, seen);
  return new ClientFactory({ transports: [new JsonRpcTransportFactory({ fetchImpl })], cardResolver: new DefaultAgentCardResolver({ fetchImpl }) });
}

function message(text: string): SendMessageRequest {
  const userMessage = { messageId: randomUUID(), contextId: '', taskId: '', role: Role.ROLE_USER, parts: [{ content: { $case: 'text', value: text }, metadata: undefined, filename: '', mediaType: 'text/plain' }], metadata: undefined, extensions: [], referenceTaskIds: [] };
  return { tenant: '', message: userMessage, configuration: undefined, metadata: undefined } as SendMessageRequest;
}

describe('serverProtocol A2A: the agent card and JSON-RPC through /runtimes/{arn}/invocations', () => {
  let harness: Harness;
  let alice: string;

  before(async () => {
    harness = await startHarness({
      runtimes: [
        { agentRuntimeName: 'helper', agent: { command: [process.execPath, A2A_AGENT] }, protocolConfiguration: { serverProtocol: 'A2A' }, limits: { warmPoolSize: 0 } },
        { agentRuntimeName: 'plain', limits: { warmPoolSize: 0 } },
      ],
    });
    alice = harness.issuer.sign({ sub: 'alice' });
  });
  after(() => harness.close());

  test('the @a2a-js/sdk client reads the card through Gatehouse, sends a message and gets the answer', async () => {
    const seen: string[] = [];
    const client = await clientFactory(alice, sessionId('a2a'), seen).createFromUrl(`${harness.url('helper')}/.well-known/agent-card.json`, '');
    const card = await client.getAgentCard();
    // The card's endpoint points back through the perimeter, never at the agent's own loopback port.
    const arn = harness.runtime.runtimes.find((runtime) => runtime.name === 'helper')!.arn;
    assert.deepEqual(card.supportedInterfaces.map((entry) => [entry.url, entry.protocolBinding]), [[`${harness.baseUrl}/runtimes/${encodeURIComponent(arn)}/invocations`, 'JSONRPC']]);
    const answer = (await client.sendMessage(message('hello agent'))) as Message;
    assert.deepEqual(answer.parts.map((part) => (part.content?.$case === 'text' ? part.content.value : undefined)), ['echo: hello agent']);
    assert.equal(answer.metadata?.userId, 'alice');
    assert.ok(seen.every((url) => url.startsWith(`${harness.baseUrl}/runtimes/`)), `every call went through Gatehouse: ${seen.join(', ')}`);
    const second = (await client.sendMessage(message('again'))) as Message;
    assert.equal(second.metadata?.pid, answer.metadata?.pid, 'the same session reaches the same agent process');
    // SendStreamingMessage: the agent's SSE stream comes back through the runtime.
    const streamed: string[] = [];
    for await (const event of client.sendMessageStream(message('stream me'))) {
      const payload = event.payload;
      if (payload?.$case === 'message') streamed.push(...payload.value.parts.map((part) => (part.content?.$case === 'text' ? part.content.value : '')));
    }
    assert.deepEqual(streamed, ['echo: stream me']);
  });

  test('the card without a token is refused; another user cannot read it in someone else’s session', async () => {
    const id = sessionId('a2a-owner');
    const cardUrl = `${harness.url('helper')}/.well-known/agent-card.json`;
    assert.equal((await fetch(cardUrl, { headers: { [SESSION]: id } })).status, 401);
    assert.equal((await fetch(cardUrl, { headers: { authorization: `Bearer ${alice}`, [SESSION]: id } })).status, 200);
    const bob = harness.issuer.sign({ sub: 'bob' });
    const refused = await fetch(cardUrl, { headers: { authorization: `Bearer ${bob}`, [SESSION]: id } });
    assert.equal(refused.status, 403);
    assert.equal(refused.headers.get('x-amzn-errortype'), 'AccessDeniedException');
  });

  test('an HTTP runtime has no agent card (ResourceNotFoundException naming its protocol); its agent sees nothing', async () => {
    const before = (await harness.records()).length;
    const response = await fetch(`${harness.url('plain')}/.well-known/agent-card.json`, { headers: { authorization: `Bearer ${alice}` } });
    assert.equal(response.status, 404);
    assert.equal(response.headers.get('x-amzn-errortype'), 'ResourceNotFoundException');
    assert.match(((await response.json()) as { message: string }).message, /speaks HTTP .*only A2A runtimes have an agent card/);
    assert.equal((await harness.records()).length, before);
  });

  test('a payload that is not JSON-RPC gets a ValidationException naming A2A', async () => {
    const response = await fetch(harness.url('helper'), {
      method: 'POST',
      headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json', [SESSION]: sessionId('a2a-bad') },
      body: '{"prompt":"hi"}',
    });
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as { message: string }).message, /speaks A2A .*not JSON-RPC 2\.0/);
  });
});
