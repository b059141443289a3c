// `npm run bench` section for the runtime: the same echo agent measured directly and through the
// runtime, side by side in one run. Three processes: this load generator, the runtime, the agent.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { BenchRow, BenchSection } from '@gatehouse/core';
import { freePort } from '../src/agent-endpoint.ts';

const ECHO_AGENT = fileURLToPath(new URL('../../../examples/echo-agent/agent.mjs', import.meta.url));
const RUNTIME_PROCESS = fileURLToPath(new URL('./runtime-process.ts', import.meta.url));
const PLAIN_PROXY = fileURLToPath(new URL('./plain-proxy.ts', import.meta.url));
const SESSION = 'x-amzn-bedrock-agentcore-runtime-session-id';
const CONCURRENCY = 16;
const LOAD_MS = Number(process.env.GATEHOUSE_BENCH_LOAD_MS ?? 2000);
/** Alternating repetitions of each load run; ratios are taken per repetition, then the median. */
const REPETITIONS = Number(process.env.GATEHOUSE_BENCH_REPETITIONS ?? 5);
const OPEN_STREAMS = Number(process.env.GATEHOUSE_BENCH_STREAMS ?? 2000);

interface Target {
  readonly port: number;
  readonly path: string;
  readonly headers: Record<string, string>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
const median = (values: readonly number[]) => percentile([...values].sort((a, b) => a - b), 50);
const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

async function startEchoAgent(): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, [ECHO_AGENT], { env: { PATH: process.env.PATH ?? '', PORT: String(port) }, stdio: 'ignore' });
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/ping`);
      if (response.ok) return { port, child };
    } catch {
      await sleep(25);
    }
  }
  child.kill();
  throw new Error('echo agent did not start');
}

async function startRuntime(runtimes: Record<string, unknown>[]): Promise<{ port: number; token: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', RUNTIME_PROCESS, JSON.stringify({ runtimes })], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`runtime process exited with ${code}`)));
  });
  return { ...(JSON.parse(line) as { port: number; token: string }), child };
}

async function startPlainProxy(agentPort: number): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, [PLAIN_PROXY, String(agentPort)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`plain proxy exited with ${code}`)));
  });
  return { ...(JSON.parse(line) as { port: number }), child };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(5000)]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

/** One request over a keep-alive agent; resolves with ms until the first body byte and until the end. */
function once(agent: Agent, target: Target, body: string, extraHeaders: Record<string, string> = {}): Promise<{ first: number; total: number; status: number }> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { host: '127.0.0.1', port: target.port, path: target.path, method: 'POST', agent, headers: { ...target.headers, ...extraHeaders, 'content-length': Buffer.byteLength(body) } },
      (response) => {
        let first = -1;
        response.on('data', () => {
          if (first < 0) first = Number(process.hrtime.bigint() - started) / 1e6;
        });
        response.on('end', () => resolve({ first, total: Number(process.hrtime.bigint() - started) / 1e6, status: response.statusCode ?? 0 }));
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** Closed-loop load: `concurrency` workers on keep-alive connections for `durationMs`. */
async function load(target: Target, durationMs: number, concurrency = CONCURRENCY): Promise<{ rps: number; p50: number; p99: number; errors: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const body = '{"prompt":"hello bench"}';
  const latencies: number[] = [];
  let errors = 0;
  const end = Date.now() + durationMs;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        try {
          const { total, status } = await once(agent, target, body);
          if (status === 200) latencies.push(total);
          else errors++;
        } catch {
          errors++;
        }
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { rps: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors };
}

async function ttfb(target: Target, count: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const firsts: number[] = [];
  for (let index = 0; index < count; index++) {
    const { first } = await once(agent, target, '{"prompt":"a b c d"}', { accept: 'text/event-stream' });
    firsts.push(first);
  }
  agent.destroy();
  return median(firsts);
}

async function coldStarts(target: Target, count: number, pauseMs: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const times: number[] = [];
  for (let index = 0; index < count; index++) {
    // Let the warm pool refill between sessions, as it would between users arriving.
    await sleep(pauseMs);
    const id = `bench-cold-${index}-${crypto.randomUUID()}`;
    const { total, status } = await once(agent, target, '{"prompt":"cold"}', { [SESSION]: id });
    if (status !== 200) throw new Error(`cold start answered ${status}`);
    times.push(total);
    await once(agent, { ...target, path: target.path.replace('/invocations', '/stopruntimesession') }, '', { [SESSION]: id });
  }
  agent.destroy();
  return median(times);
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kib / 1024;
}

/** Opens `count` SSE streams through the runtime that stay open; returns the runtime's RSS growth per stream. */
async function openStreams(port: number, token: string, runtimePid: number, count: number): Promise<{ perStreamKiB: number; totalMiB: number; baseMiB: number }> {
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const base = rssMiB(runtimePid);
  const requests: ReturnType<typeof request>[] = [];
  let opened = 0;
  const allOpen = new Promise<void>((resolve) => {
    const body = JSON.stringify({ prompt: 'held open', chunks: 1000, delayMs: 30_000 });
    for (let index = 0; index < count; index++) {
      const outgoing = request(
        { host: '127.0.0.1', port, path: '/runtimes/streams/invocations', method: 'POST', agent, headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', [SESSION]: 'bench-streams-shared-session-0000000000' } },
        (response) => {
          response.once('data', () => {
            if (++opened === count) resolve();
          });
          response.on('error', () => undefined);
        },
      );
      outgoing.on('error', () => undefined);
      outgoing.end(body);
      requests.push(outgoing);
    }
  });
  // A cleared timer, so the bench process exits as soon as it is done instead of a minute later.
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([allOpen, new Promise((resolve) => (timer = setTimeout(resolve, 60_000)))]);
  clearTimeout(timer);
  await sleep(500);
  const loaded = rssMiB(runtimePid);
  for (const outgoing of requests) outgoing.destroy();
  agent.destroy();
  return { perStreamKiB: ((loaded - base) * 1024) / Math.max(opened, 1), totalMiB: loaded, baseMiB: base };
}

export async function bench(): Promise<BenchSection[]> {
  const echo = await startEchoAgent();
  const agentUrl = `http://127.0.0.1:${echo.port}`;
  const unlimited = { requestsPerMinutePerPrincipal: 1_000_000_000, maxConcurrentSessions: 100_000, maxConcurrentSessionsPerPrincipal: 100_000 };
  const runtime = await startRuntime([
    { agentRuntimeName: 'proxied', agent: { url: agentUrl }, limits: { ...unlimited, warmPoolSize: 0 } },
    { agentRuntimeName: 'streams', agent: { url: agentUrl }, limits: { ...unlimited, warmPoolSize: 0 } },
    { agentRuntimeName: 'warm', agent: { command: [process.execPath, ECHO_AGENT] }, limits: { ...unlimited, warmPoolSize: 1 } },
    { agentRuntimeName: 'cold', agent: { command: [process.execPath, ECHO_AGENT] }, limits: { ...unlimited, warmPoolSize: 0 } },
  ]);
  const plain = await startPlainProxy(echo.port);
  try {
    const direct: Target = { port: echo.port, path: '/invocations', headers: { 'content-type': 'application/json', [SESSION]: 'bench-direct-session-000000000000000000' } };
    const proxied: Target = {
      port: runtime.port,
      path: '/runtimes/proxied/invocations',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${runtime.token}`, [SESSION]: 'bench-proxied-session-00000000000000000' },
    };
    const plainTarget: Target = { ...direct, port: plain.port };
    // Warm every path (JIT, token cache, keep-alive sockets) before measuring.
    await load(direct, 500);
    await load(plainTarget, 500);
    await load(proxied, 500);
    const runs: { direct: Awaited<ReturnType<typeof load>>; plain: Awaited<ReturnType<typeof load>>; proxied: Awaited<ReturnType<typeof load>> }[] = [];
    for (let repetition = 0; repetition < REPETITIONS; repetition++) {
      runs.push({ direct: await load(direct, LOAD_MS), plain: await load(plainTarget, LOAD_MS), proxied: await load(proxied, LOAD_MS) });
    }
    const directRps = median(runs.map((run) => run.direct.rps));
    const plainRps = median(runs.map((run) => run.plain.rps));
    const proxiedRps = median(runs.map((run) => run.proxied.rps));
    const ratio = median(runs.map((run) => run.proxied.rps / run.direct.rps));
    const plainRatio = median(runs.map((run) => run.plain.rps / run.direct.rps));
    const ofPlain = median(runs.map((run) => run.proxied.rps / run.plain.rps));
    const directP50 = median(runs.map((run) => run.direct.p50));
    const plainP50 = median(runs.map((run) => run.plain.p50));
    const proxiedP50 = median(runs.map((run) => run.proxied.p50));
    const addedP50 = median(runs.map((run) => run.proxied.p50 - run.direct.p50));
    const directRun = { p99: median(runs.map((run) => run.direct.p99)) };
    const proxiedRun = { p99: median(runs.map((run) => run.proxied.p99)) };
    const ttfbRuns = [];
    for (let repetition = 0; repetition < 3; repetition++) ttfbRuns.push({ direct: await ttfb(direct, 200), proxied: await ttfb(proxied, 200) });
    const directTtfb = median(ttfbRuns.map((run) => run.direct));
    const proxiedTtfb = median(ttfbRuns.map((run) => run.proxied));
    const addedTtfb = median(ttfbRuns.map((run) => run.proxied - run.direct));
    const warmCold = await coldStarts({ ...proxied, path: '/runtimes/warm/invocations', headers: { ...proxied.headers } }, 8, 1500);
    const coldCold = await coldStarts({ ...proxied, path: '/runtimes/cold/invocations', headers: { ...proxied.headers } }, 8, 200);
    const memory = await openStreams(runtime.port, runtime.token, runtime.child.pid!, OPEN_STREAMS);
    const per10k = (memory.perStreamKiB * 10_000) / 1024 + memory.baseMiB;
    const rows: BenchRow[] = [
      { name: `throughput direct to the agent (c=${CONCURRENCY})`, value: round(directRps, 0), unit: 'req/s' },
      { name: `throughput through the runtime (c=${CONCURRENCY}, JWT verified per request)`, value: round(proxiedRps, 0), unit: 'req/s' },
      { name: 'throughput ratio runtime / direct', value: round(ratio), unit: '×', note: `target ≥ 0.64× — ${ratio >= 0.64 ? 'met' : 'missed'}` },
      { name: `reference: plain node:http proxy, no auth (c=${CONCURRENCY})`, value: round(plainRps, 0), unit: 'req/s', note: `${round(plainRatio)}× direct; the runtime keeps ${round(ofPlain)}× of it` },
      { name: 'latency p50 direct / plain proxy / through runtime', value: round(directP50, 3), unit: `ms / ${round(plainP50, 3)} ms / ${round(proxiedP50, 3)} ms` },
      { name: 'latency p99 direct / through runtime', value: round(directRun.p99, 3), unit: `ms / ${round(proxiedRun.p99, 3)} ms` },
      { name: 'added p50 latency', value: round(addedP50, 3), unit: 'ms', note: `target ≤ 0.3 ms at c=${CONCURRENCY} — ${addedP50 <= 0.3 ? 'met' : 'missed'}` },
      { name: 'SSE time to first byte direct / through runtime (p50, sequential)', value: round(directTtfb, 3), unit: `ms / ${round(proxiedTtfb, 3)} ms` },
      { name: 'added SSE time to first byte', value: round(addedTtfb, 3), unit: 'ms', note: `target ≤ 1 ms — ${addedTtfb <= 1 ? 'met' : 'missed'}` },
      { name: 'new-session cold start p50, warm pool of 1', value: round(warmCold, 1), unit: 'ms', note: `target ≤ 150 ms — ${warmCold <= 150 ? 'met' : 'missed'}` },
      { name: 'new-session cold start p50, no warm pool (spawn node + /ping)', value: round(coldCold, 1), unit: 'ms' },
      { name: `runtime RSS with ${OPEN_STREAMS} open SSE streams`, value: round(memory.totalMiB, 1), unit: 'MiB', note: `base ${round(memory.baseMiB, 1)} MiB` },
      { name: 'runtime memory per open SSE stream', value: round(memory.perStreamKiB, 1), unit: 'KiB' },
      { name: '10,000 open streams (extrapolated from the line above)', value: round(per10k, 0), unit: 'MiB', note: `target ≤ 1024 MiB — ${per10k <= 1024 ? 'met' : 'missed'}` },
    ];
    return [
      {
        title: 'Runtime: invocation proxy vs direct to the same agent',
        rows,
        notes: [
          `Closed-loop keep-alive load generator in its own process, ${CONCURRENCY} concurrent requests, ${LOAD_MS / 1000} s per run, ${REPETITIONS} alternating repetitions of direct / plain proxy / runtime; ratios are per repetition, then the median.`,
          'The plain proxy (bench/plain-proxy.ts) is the floor of any node:http proxy here: no auth, sessions or logs; it shows how much of the gap is the platform rather than the runtime.',
          'The runtime runs in its own process; the echo agent (examples/echo-agent) is the same process for both paths. All three share the 2 cores, so the load generator limits the direct path too.',
          `Memory: ${OPEN_STREAMS} streams held open through the runtime, RSS read from /proc; the 10,000 figure is extrapolated linearly, not measured.`,
          'Cold start with a warm pool takes a pre-started process (started and answering /ping before the session exists); without one, the cost is spawning node and polling /ping.',
        ],
      },
    ];
  } finally {
    await stop(runtime.child);
    await stop(plain.child);
    await stop(echo.child);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const section of await bench()) {
    console.log(`\n## ${section.title}`);
    for (const row of section.rows) console.log(`- ${row.name}: ${row.value} ${row.unit}${row.note ? ` (${row.note})` : ''}`);
    for (const note of section.notes ?? []) console.log(`  ${note}`);
  }
}
