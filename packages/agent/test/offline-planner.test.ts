import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { runAgentTurn } from '../src/agent-loop.ts';
import { openGatewaySession } from '../src/gateway-session.ts';
import { createOfflinePlanner, OFFLINE_LABEL, planFor } from '../src/offline-planner.ts';
import type { AgentEvent } from '../src/agent-event.ts';
import { startGatewayStandIn, type GatewayStandIn } from './support/gateway-stand-in.ts';

let gateway: GatewayStandIn;
before(async () => {
  gateway = await startGatewayStandIn(new Set(['wat-planner']));
});
after(async () => {
  await gateway.close();
});

const referenceTasks: Array<[string, ReturnType<typeof planFor>]> = [
  ['List my accounts', { tool: 'list_accounts', input: {} }],
  ['Which accounts can I access?', { tool: 'list_accounts', input: {} }],
  ['List S3 buckets in the Production account', { tool: 'call_aws', input: { account: 'Production', service: 's3', operation: 'ListBuckets' } }],
  ['show me the buckets in staging', { tool: 'call_aws', input: { account: 'Staging', service: 's3', operation: 'ListBuckets' } }],
  ['List objects in bucket prod-logs in the Production account', { tool: 'bucket_objects_list', input: { account: 'Production', bucket: 'prod-logs' } }],
  ['What files are in the dev-scratch bucket in account Development, prefix reports/', { tool: 'bucket_objects_list', input: { account: 'Development', bucket: 'dev-scratch', prefix: 'reports/' } }],
  ['Describe resources in the Development account', { tool: 'call_aws', input: { account: 'Development', service: 's3', operation: 'ListBuckets' } }],
  ['Describe EC2 instances in the Staging account', { tool: 'call_aws', input: { account: 'Staging', service: 'ec2', operation: 'DescribeInstances' } }],
  ["Write 'hello world' to s3://dev-scratch/notes/hello.txt in the Development account", { tool: 'bucket_objects_put', input: { account: 'Development', bucket: 'dev-scratch', key: 'notes/hello.txt', body: 'hello world' } }],
  ['Read s3://prod-logs/report.csv in the Production account', { tool: 'bucket_object_get', input: { account: 'Production', bucket: 'prod-logs', key: 'report.csv' } }],
  ['Can I write to bucket staging-assets in the Staging account?', { tool: 'bucket_access_check', input: { account: 'Staging', bucket: 'staging-assets', operations: ['write'] } }],
];

for (const [prompt, plan] of referenceTasks) {
  test(`offline planner plans "${prompt}"`, () => {
    assert.deepEqual(planFor(prompt), plan);
  });
}

test('offline planner asks which account when the prompt names none', () => {
  const outcome = planFor('List S3 buckets');
  assert.ok('answer' in outcome);
  assert.match(outcome.answer, /Which account/);
});

test('offline planner answers anything else with what it can do and how to configure a model', async () => {
  const planner = createOfflinePlanner();
  let text = '';
  for await (const chunk of planner.stream({ system: '', tools: [], messages: [{ role: 'user', content: [{ type: 'text', text: 'Tell me a joke' }] }] })) {
    if (chunk.type === 'text-delta') text += chunk.delta;
    assert.notEqual(chunk.type, 'tool-use');
  }
  assert.ok(text.startsWith(OFFLINE_LABEL));
  assert.match(text, /List S3 buckets in the Production account/);
  assert.match(text, /configure a model provider/);
});

async function run(prompt: string): Promise<AgentEvent[]> {
  const session = openGatewaySession({ url: gateway.url, workloadToken: 'wat-planner' });
  const events: AgentEvent[] = [];
  try {
    for await (const event of runAgentTurn({ model: createOfflinePlanner(), gateway: session, history: [], prompt, onCommit: () => undefined })) events.push(event);
  } finally {
    await session.close();
  }
  return events;
}

test('offline planner lists the accounts through the gateway and words the answer', async () => {
  const events = await run('List my accounts');
  const message = events.at(-1);
  assert.ok(message?.type === 'message');
  assert.equal(message.text, `${OFFLINE_LABEL} Found 3 accounts:\n• Production (accountId: 111111111111, environment: prod)\n• Staging (accountId: 222222222222, environment: staging)\n• Development (accountId: 333333333333, environment: dev)`);
  assert.equal(events.filter((event) => event.type === 'text-delta').map((event) => (event.type === 'text-delta' ? event.delta : '')).join(''), message.text);
});

test('offline planner writes an object with the body from the prompt', async () => {
  const before = gateway.calls.length;
  const events = await run("Write 'hello world' to s3://dev-scratch/notes/hello.txt in the Development account");
  assert.deepEqual(gateway.calls.slice(before), [
    { authorization: 'Bearer wat-planner', tool: 'ops___bucket_objects_put', arguments: { account: 'Development', bucket: 'dev-scratch', key: 'notes/hello.txt', body: 'hello world' } },
  ]);
  const message = events.at(-1);
  assert.ok(message?.type === 'message');
  assert.match(message.text, /"bytes": 11/);
});

test('offline planner reports a tool error plainly', async () => {
  const events = await run('List S3 buckets in the Marketing account');
  const result = events.find((event) => event.type === 'tool-result');
  assert.ok(result?.type === 'tool-result');
  assert.equal(result.ok, false);
  const message = events.at(-1);
  assert.ok(message?.type === 'message');
  assert.equal(message.text, `${OFFLINE_LABEL} The call_aws tool reported an error: Unknown account Marketing`);
});
