import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '@gatehouse/core';
import { SESSION, sessionId, startHarness } from './support/runtime-harness.ts';

test('refuses to start with a restricted header in requestHeaderAllowlist, naming the entry', async () => {
  await assert.rejects(
    startHarness({ runtimes: [{ agentRuntimeName: 'leaky', requestHeaderConfiguration: { requestHeaderAllowlist: ['X-Amzn-Bedrock-AgentCore-Runtime-Custom-Ok', 'Cookie'] } }] }),
    (error: ConfigError) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.issues, [
        'runtimes[0].requestHeaderConfiguration.requestHeaderAllowlist[1]: "Cookie" is a restricted header; use Authorization or the X-Amzn-Bedrock-AgentCore-Runtime-Custom- prefix',
      ]);
      return true;
    },
  );
  await assert.rejects(
    startHarness({ runtimes: [{ agentRuntimeName: 'sigv4', authorizer: false, requestHeaderConfiguration: { requestHeaderAllowlist: ['Authorization'] } }] }),
    /Authorization can be allow-listed only on a runtime with a customJWTAuthorizer/,
  );
});

test('forwards Authorization to the agent of a JWT runtime that allow-lists it', async () => {
  const harness = await startHarness({ runtimes: [{ agentRuntimeName: 'with_auth', requestHeaderConfiguration: { requestHeaderAllowlist: ['Authorization'] }, limits: { warmPoolSize: 0 } }] });
  try {
    const id = sessionId('authz');
    const response = await fetch(harness.url('with_auth'), { method: 'POST', headers: { authorization: `Bearer ${harness.issuer.sign()}`, [SESSION]: id }, body: '{}' });
    assert.equal(response.status, 200);
    await response.arrayBuffer();
    const seen = (await harness.records()).find((entry) => entry.headers?.[SESSION] === id)!;
    assert.match(seen.headers!.authorization!, /^sha256:[0-9a-f]{16}$/);
  } finally {
    await harness.close();
  }
});
