// A Gatehouse-like process for the SIGKILL test: serves the FastAPI example isolated, starts one
// session, prints what the test needs to find its remains ({"netns","dir"}), then runs until killed.
import { startHarness, sessionId, SESSION } from './runtime-harness.ts';
import { fastapiRuntime } from './isolation-probes.ts';

const harness = await startHarness({ runtimes: [fastapiRuntime('killed_agent')] });
const response = await fetch(harness.url('killed_agent'), {
  method: 'POST',
  headers: { authorization: `Bearer ${harness.issuer.sign({ sub: 'erin' })}`, 'content-type': 'application/json', [SESSION]: sessionId('killed') },
  body: '{"prompt":"hi"}',
});
const body = (await response.json()) as { netns?: string };
process.stdout.write(`${JSON.stringify({ status: response.status, netns: body.netns, dir: harness.dir })}\n`);
setInterval(() => undefined, 60_000);
