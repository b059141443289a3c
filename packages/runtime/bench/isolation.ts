// `npm run bench` section for per-session isolation (issue 17): the FastAPI example agent, unchanged
// (binds 0.0.0.0:8080), one network/mount/pid namespace per session. Cold start (session start →
// first byte), memory per idle isolated session, and 50 sessions started at once.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { request } from 'node:http';
import type { BenchRow, BenchSection } from '@gatehouse/core';
import { probeIsolation } from '../src/agent-isolation.ts';
import { FASTAPI_AGENT_DIR, PYTHON, namespaceMembers } from '../test/support/isolation-probes.ts';
import { startRuntime, stop } from './index.ts';

const SESSION = 'x-amzn-bedrock-agentcore-runtime-session-id';
const COLD_STARTS = Number(process.env.GATEHOUSE_BENCH_COLD_STARTS ?? 20);
const IDLE_SESSIONS = 10;
const CONCURRENT = 50;
const WARM_STARTS = 5;

interface Invocation {
  readonly status: number;
  readonly firstByteMs: number;
  readonly body: string;
}

/** POST /invocations on a new or existing session; resolves at the end with the time to the first body byte. */
function invoke(port: number, token: string, session: string, path = 'invocations', runtimeName = 'isolated'): Promise<Invocation> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, method: 'POST', path: `/runtimes/${runtimeName}/${path}`, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'text/event-stream', [SESSION]: session } }, (response) => {
      let firstByteMs = 0;
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => {
        if (firstByteMs === 0) firstByteMs = performance.now() - started;
        chunks.push(chunk);
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, firstByteMs, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end('{"prompt":"hello isolated agent"}');
  });
}

function netnsOf(body: string): string {
  const message = body.split('\n').filter((line) => line.startsWith('data: ')).map((line) => JSON.parse(line.slice(6)) as { type: string; netns?: string }).find((event) => event.type === 'message');
  return message?.netns ?? '';
}

/** Proportional set size (shared pages split between their users) of every process in a namespace, KiB. */
function namespacePssKiB(netns: string): number {
  let total = 0;
  for (const pid of namespaceMembers(netns)) {
    const match = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    total += Number(match?.[1] ?? 0);
  }
  return total;
}

const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((sorted.length * p) / 100) - 1)] ?? Number.NaN;
};
const round = (value: number, digits = 1): number => Math.round(value * 10 ** digits) / 10 ** digits;

export async function benchIsolation(): Promise<BenchSection[]> {
  const support = probeIsolation();
  if (!support.available) return [{ title: 'Runtime: isolated sessions (FastAPI agent on 8080)', rows: [], notes: [`Not measured: ${support.reason}.`] }];
  const limits = { warmPoolSize: 0, maxConcurrentSessions: 200, maxConcurrentSessionsPerPrincipal: 200, requestsPerMinutePerPrincipal: 1_000_000, startTimeoutSeconds: 60 };
  const agent = { command: [PYTHON, 'main.py'], cwd: FASTAPI_AGENT_DIR };
  const runtime = await startRuntime([
    { agentRuntimeName: 'isolated', agent, isolation: { mode: 'namespace' }, limits },
    { agentRuntimeName: 'pooled', agent, isolation: { mode: 'namespace' }, limits: { ...limits, warmPoolSize: 1 } },
  ]);
  const loadBefore = os.loadavg().map((value) => value.toFixed(2)).join(', ');
  try {
    const cold: number[] = [];
    for (let index = 0; index < COLD_STARTS; index++) {
      const session = `bench-cold-${index}-${'0'.repeat(40)}`.slice(0, 48);
      const answer = await invoke(runtime.port, runtime.token, session);
      if (answer.status !== 200) throw new Error(`cold start ${index} answered ${answer.status}: ${answer.body}`);
      cold.push(answer.firstByteMs);
      await invoke(runtime.port, runtime.token, session, 'stopruntimesession');
    }
    const pooled: number[] = [];
    for (let index = 0; index < WARM_STARTS; index++) {
      // Time for the pool to have its next sandbox answering /ping, as it would between real sessions.
      await new Promise((resolve) => setTimeout(resolve, 4000));
      const session = `bench-pool-${index}-${'0'.repeat(40)}`.slice(0, 48);
      pooled.push((await invoke(runtime.port, runtime.token, session, 'invocations', 'pooled')).firstByteMs);
      await invoke(runtime.port, runtime.token, session, 'stopruntimesession', 'pooled');
    }
    const imports: number[] = [];
    for (let index = 0; index < 5; index++) {
      const started = performance.now();
      spawnSync(PYTHON, ['-c', 'import fastapi, uvicorn'], { stdio: 'ignore' });
      imports.push(performance.now() - started);
    }
    const idle: string[] = [];
    for (let index = 0; index < IDLE_SESSIONS; index++) idle.push(netnsOf((await invoke(runtime.port, runtime.token, `bench-idle-${index}-${'0'.repeat(40)}`.slice(0, 48))).body));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const pssMiB = idle.map((netns) => namespacePssKiB(netns) / 1024);
    const rssMiB = available() / 1024;
    for (let index = 0; index < IDLE_SESSIONS; index++) await invoke(runtime.port, runtime.token, `bench-idle-${index}-${'0'.repeat(40)}`.slice(0, 48), 'stopruntimesession');
    const started = performance.now();
    const burst = await Promise.allSettled(Array.from({ length: CONCURRENT }, (_, index) => invoke(runtime.port, runtime.token, `bench-burst-${index}-${'0'.repeat(40)}`.slice(0, 48))));
    const burstMs = performance.now() - started;
    const ok = burst.filter((result) => result.status === 'fulfilled' && result.value.status === 200);
    const namespaces = new Set(ok.map((result) => netnsOf((result as PromiseFulfilledResult<Invocation>).value.body)));
    const second = await Promise.allSettled(Array.from({ length: CONCURRENT }, (_, index) => invoke(runtime.port, runtime.token, `bench-burst-${index}-${'0'.repeat(40)}`.slice(0, 48))));
    const secondOk = second.filter((result) => result.status === 'fulfilled' && result.value.status === 200).length;
    const p50 = percentile(cold, 50);
    const rows: BenchRow[] = [
      { name: `cold start of an isolated FastAPI agent, session start → first byte (p50, ${COLD_STARTS} sessions one after another)`, value: round(p50), unit: 'ms', note: `goal ≤ 500 ms — ${p50 <= 500 ? 'met' : 'missed'}` },
      { name: 'the same, p99', value: round(percentile(cold, 99)), unit: 'ms' },
      { name: '… of which Python importing FastAPI and uvicorn alone (p50 of 5, same run)', value: round(percentile(imports, 50)), unit: 'ms' },
      { name: `new isolated session with a warm pool of 1, session start → first byte (p50, ${WARM_STARTS} sessions)`, value: round(percentile(pooled, 50), 2), unit: 'ms', note: `p99 ${round(percentile(pooled, 99), 2)} ms` },
      { name: `memory per idle isolated session (PSS of sandbox + agent, mean of ${IDLE_SESSIONS})`, value: round(pssMiB.reduce((a, b) => a + b, 0) / pssMiB.length), unit: 'MiB', note: `host MemAvailable during the run ${round(rssMiB, 0)} MiB` },
      { name: `${CONCURRENT} isolated sessions started at once: answered 200`, value: ok.length, unit: `of ${CONCURRENT}`, note: `${namespaces.size} distinct network namespaces, all in ${round(burstMs / 1000, 1)} s; ${CONCURRENT - ok.length} errors` },
      { name: `second invocation of the same ${CONCURRENT} sessions, concurrently: answered 200`, value: secondOk, unit: `of ${CONCURRENT}`, note: `${CONCURRENT - secondOk} errors` },
    ];
    return [
      {
        title: 'Runtime: isolated sessions (FastAPI agent on 8080, one namespace each)',
        rows,
        notes: [
          `Isolation: ${support.reason}. Each session: setpriv + unshare (net, mount, pid), the sandbox launcher (node, pid 1 of the namespace) and /usr/bin/python3 main.py (FastAPI + uvicorn) as nobody; warm pool 0, so every figure includes the whole start.`,
          'Cold start is measured from sending the first request of a new session to its first SSE byte; the row below it shows how much of that is Python importing FastAPI and uvicorn alone under the same load; the rest is the node launcher, the namespace set-up and the /ping polling.',
          'A warm pool (limits.warmPoolSize) takes the whole start out of the request: sandboxes are prepared and answering /ping before the session exists.',
          `Load average when the runs started: ${loadBefore}; when they ended: ${os.loadavg().map((value) => value.toFixed(2)).join(', ')} (2 cores shared with other work).`,
        ],
      },
    ];
  } finally {
    await stop(runtime.child);
  }
}

function available(): number {
  return Number(/^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0);
}
