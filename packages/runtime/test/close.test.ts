import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SESSION, parseSse, sessionId, startHarness } from './support/runtime-harness.ts';

test('close() lets a running stream finish, refuses new work with 503 and ends every agent process', async () => {
  const harness = await startHarness({ runtimes: [{ agentRuntimeName: 'closing', limits: { warmPoolSize: 1 } }], options: { drainTimeoutMs: 5000 } });
  try {
    const token = harness.issuer.sign({ sub: 'mia' });
    const id = sessionId('drain');
    const response = await fetch(harness.url('closing'), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', [SESSION]: id },
      body: JSON.stringify({ prompt: 'drain me please', chunks: 6, delayMs: 100 }),
    });
    const reader = response.body!.getReader();
    const first = await reader.read();
    const closed = harness.runtime.close();
    const refused = await fetch(harness.url('closing'), { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: '{}' });
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('x-amzn-errortype'), 'ServiceUnavailableException');
    let text = new TextDecoder().decode(first.value);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    const events = parseSse(text);
    assert.equal(events.at(-1)!.event, 'message', 'the in-flight stream completed');
    const pid = events.at(-1)!.data.pid as number;
    await closed;
    assert.throws(() => process.kill(pid, 0), /ESRCH/, 'the session process was ended');
  } finally {
    await harness.close();
  }
});

test('a plain GET on /ws asks for an upgrade instead of doing anything else', async () => {
  const harness = await startHarness({ runtimes: [{ agentRuntimeName: 'plain', limits: { warmPoolSize: 0 } }] });
  try {
    const response = await fetch(harness.url('plain', 'ws'), { headers: { authorization: `Bearer ${harness.issuer.sign()}` } });
    assert.equal(response.status, 400);
    assert.equal(response.headers.get('x-amzn-errortype'), 'ValidationException');
    assert.match(((await response.json()) as { message: string }).message, /WebSocket upgrade/);
  } finally {
    await harness.close();
  }
});
