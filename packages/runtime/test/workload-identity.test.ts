// The runtime's side of workload identity: it asks the in-process issuer for its own workload by name,
// caches the answer, and maps every failure so that a caller with a valid token is never told 401.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from './support/runtime-harness.ts';

const SESSION = 'X-Amzn-Bedrock-AgentCore-Runtime-Session-Id';
let harness: Harness;
const asked: { workload: string; token: string }[] = [];
let mode: 'ok' | 'unavailable' | 'denied' | 'misconfigured' = 'ok';

before(async () => {
  harness = await startHarness({
    runtimes: [{ agentRuntimeName: 'minting', limits: { warmPoolSize: 0 } }],
    deps: {
      workloadIdentity: {
        async workloadTokenForJwt(workloadName: string, userToken: string) {
          asked.push({ workload: workloadName, token: userToken });
          if (mode === 'unavailable') throw Object.assign(new Error('the issuer could not be reached'), { code: 'ServiceUnavailableException' });
          if (mode === 'denied') throw Object.assign(new Error("The user token is not accepted by workload minting's authorizer: revoked"), { code: 'AccessDeniedException' });
          if (mode === 'misconfigured') throw Object.assign(new Error('No workload identity named minting'), { code: 'ResourceNotFoundException' });
          return { workloadAccessToken: `wat-${asked.length}`, expiresIn: 900 };
        },
      },
    },
  });
});
after(() => harness.close());

const call = (token: string, id: string): Promise<Response> =>
  fetch(harness.url('minting'), { method: 'POST', headers: { authorization: `Bearer ${token}`, [SESSION]: id.padEnd(40, '-') }, body: '{"prompt":"hi"}' });

test('asks for its own workload by name with the caller’s token, hands the agent the result and caches it per token', async () => {
  mode = 'ok';
  const token = harness.issuer.sign({ sub: 'wendy' });
  const before = asked.length;
  for (const id of ['wi-cache-1', 'wi-cache-2']) {
    const response = await call(token, id);
    assert.equal(response.status, 200, await response.clone().text());
    assert.equal(((await response.json()) as { hasWorkloadAccessToken?: boolean }).hasWorkloadAccessToken, true, 'the agent got a workload token');
  }
  assert.deepEqual(asked.slice(before), [{ workload: 'minting', token }], 'minted once for two calls with the same token');
});

test('an unreachable issuer is 503 ServiceUnavailableException, a refusal is 403 naming its cause, a misconfiguration 500; never 401, and the agent is not called', async () => {
  const cases = [
    { mode: 'unavailable', status: 503, type: 'ServiceUnavailableException', message: /Retry shortly/ },
    { mode: 'denied', status: 403, type: 'AccessDeniedException', message: /not accepted by workload minting's authorizer: revoked/ },
    { mode: 'misconfigured', status: 500, type: 'InternalServerException', message: /workload identity of runtime minting/ },
  ] as const;
  for (const entry of cases) {
    mode = entry.mode;
    const recordedBefore = (await harness.records()).length;
    const response = await call(harness.issuer.sign({ sub: `user-${entry.mode}` }), `wi-${entry.mode}`);
    assert.equal(response.status, entry.status, entry.mode);
    assert.equal(response.headers.get('x-amzn-errortype'), entry.type);
    assert.match(((await response.json()) as { message: string }).message, entry.message);
    const invocations = (await harness.records()).slice(recordedBefore).filter((record) => (record as { path?: string }).path === '/invocations');
    assert.equal(invocations.length, 0, `${entry.mode}: the agent received nothing`);
  }
  mode = 'ok';
});

test('a workload access token is refused as a caller of the runtime (403), before any minting', async () => {
  mode = 'ok';
  const before = asked.length;
  const workloadToken = harness.issuer.sign({ sub: 'wendy', workload_name: 'minting', act: { sub: 'gatehouse-runtime' } });
  const response = await call(workloadToken, 'wi-replayed');
  assert.equal(response.status, 403);
  assert.match(((await response.json()) as { message: string }).message, /workload access token/);
  assert.equal(asked.length, before);
});
