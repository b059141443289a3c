import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EmbeddedStore } from '@gatehouse/core';
import { startTestIssuer, type TestIssuer } from '@gatehouse/testing/test-issuer';
import { SESSION, sessionId, startHarness, type Harness } from './support/runtime-harness.ts';

describe('several instances sharing one store', () => {
  let issuer: TestIssuer;
  let first: Harness;
  let second: Harness;
  let token: string;
  const runtimes = [{ agentRuntimeName: 'shared', limits: { warmPoolSize: 0 } }];
  const call = async (harness: Harness, id: string, bearer = token) =>
    fetch(harness.url('shared'), { method: 'POST', headers: { authorization: `Bearer ${bearer}`, [SESSION]: id }, body: '{"prompt":"where"}' });

  before(async () => {
    issuer = await startTestIssuer();
    const store = new EmbeddedStore();
    first = await startHarness({ issuer, store, runtimes, announceInstance: true });
    second = await startHarness({ issuer, store, runtimes, announceInstance: true });
    token = issuer.sign({ sub: 'kim' });
  });
  after(async () => {
    await second.close();
    await first.close().catch(() => undefined);
    await issuer.close();
  });

  test('a session started on one instance is served by its process when a request lands on another', async () => {
    const id = sessionId('cluster');
    const { pid } = (await (await call(first, id)).json()) as { pid: number };
    const viaSecond = await call(second, id);
    assert.equal(viaSecond.status, 200);
    assert.equal(viaSecond.headers.get(SESSION), id);
    assert.equal(((await viaSecond.json()) as { pid: number }).pid, pid);
  });

  test('a client that sends the forwarding header itself is still forwarded to the owning process (no second agent)', async () => {
    const id = sessionId('spoofedhop');
    const { pid } = (await (await call(first, id)).json()) as { pid: number };
    for (const forged of ['1', `${Date.now()}.AAAA`, `${Date.now()}.${'A'.repeat(43)}`]) {
      const response = await fetch(second.url('shared'), {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, [SESSION]: id, 'x-gatehouse-forwarded': forged },
        body: '{"prompt":"where"}',
      });
      assert.equal(response.status, 200);
      assert.equal(((await response.json()) as { pid: number }).pid, pid, `forged mark ${forged} did not start a second agent`);
    }
  });

  test('ownership holds across instances: another user is refused on the other instance', async () => {
    const id = sessionId('clusterowned');
    await (await call(first, id)).arrayBuffer();
    const before = (await first.records()).length + (await second.records()).length;
    const stolen = await call(second, id, issuer.sign({ sub: 'lee' }));
    assert.equal(stolen.status, 403);
    assert.equal(stolen.headers.get('x-amzn-errortype'), 'AccessDeniedException');
    assert.equal((await first.records()).length + (await second.records()).length, before);
  });

  test('stopruntimesession on the other instance stops the owning process', async () => {
    const id = sessionId('clusterstop');
    const { pid } = (await (await call(first, id)).json()) as { pid: number };
    const stop = await fetch(second.url('shared', 'stopruntimesession'), { method: 'POST', headers: { authorization: `Bearer ${token}`, [SESSION]: id } });
    assert.equal(stop.status, 200);
    assert.throws(() => process.kill(pid, 0), /ESRCH/);
  });

  test('when the owning instance is gone, another instance takes the session over', async () => {
    const id = sessionId('clustertakeover');
    const { pid } = (await (await call(first, id)).json()) as { pid: number };
    await first.close();
    const response = await call(second, id);
    assert.equal(response.status, 200);
    assert.notEqual(((await response.json()) as { pid: number }).pid, pid);
  });
});
