// `npm run bench` section for the runtime: the same echo agent measured directly and through the
// runtime, side by side in one run. Three processes: this load generator, the runtime, the agent.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Agent, request } from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { BenchRow, BenchSection } from '@gatehouse/core';
import { freePort } from '@gatehouse/core';
import { startNginx } from '../../../scripts/load/nginx.ts';
import { startRedisServer } from '@gatehouse/testing/redis-server';

const ECHO_AGENT = fileURLToPath(new URL('../../../examples/echo-agent/agent.mjs', import.meta.url));
const RUNTIME_PROCESS = fileURLToPath(new URL('./runtime-process.ts', import.meta.url));
const PLAIN_PROXY = fileURLToPath(new URL('./plain-proxy.ts', import.meta.url));
const OPEN_STREAMS_GENERATOR = fileURLToPath(new URL('./open-streams.ts', import.meta.url));
const MINIMAL_AGENT = fileURLToPath(new URL('./minimal-agent.mjs', import.meta.url));
const SESSION = 'x-amzn-bedrock-agentcore-runtime-session-id';
const CONCURRENCY = 16;
const LOAD_MS = Number(process.env.GATEHOUSE_BENCH_LOAD_MS ?? 2000);
/** Alternating repetitions of each load run; ratios are taken per repetition, then the median. */
const REPETITIONS = Number(process.env.GATEHOUSE_BENCH_REPETITIONS ?? 5);
/** Sequential (one request at a time) run per path and repetition, for the added-latency figure. */
const SEQUENTIAL_MS = Number(process.env.GATEHOUSE_BENCH_SEQUENTIAL_MS ?? 1000);
/** Issue 21's goal: 50,000 open SSE streams on one instance, measured (bounded by the host's file limit). */
const OPEN_STREAMS = Number(process.env.GATEHOUSE_BENCH_STREAMS ?? 50_000);
/** Streams per agent process: the runtime's connections to one agent stay well inside one ephemeral port range. */
const STREAMS_PER_AGENT = 12_500;

export type PathName = 'direct' | 'plain' | 'nginx' | 'baseline' | 'proxied';
const PATH_LABELS: Record<PathName, string> = { direct: 'direct', plain: 'plain node proxy', nginx: 'nginx', baseline: 'through the baseline runtime (GATEHOUSE_BENCH_BASELINE)', proxied: 'through the runtime' };

export interface Target {
  readonly port: number;
  readonly path: string;
  readonly headers: Record<string, string>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
const median = (values: readonly number[]) => percentile([...values].sort((a, b) => a - b), 50);
const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

export async function startEchoAgent(): Promise<{ port: number; child: ChildProcess }> {
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

export async function startRuntime(runtimes: Record<string, unknown>[], nodeFlags: readonly string[] = [], script = RUNTIME_PROCESS): Promise<{ port: number; token: string; child: ChildProcess }> {
  const input = { runtimes, ...(benchRedisUrl ? { redisUrl: benchRedisUrl } : {}) };
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', ...nodeFlags, script, JSON.stringify(input)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`runtime process exited with ${code}`)));
  });
  return { ...(JSON.parse(line) as { port: number; token: string }), child };
}

export async function startPlainProxy(agentPort: number, nodeFlags: readonly string[] = []): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, [...nodeFlags, PLAIN_PROXY, String(agentPort)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`plain proxy exited with ${code}`)));
  });
  return { ...(JSON.parse(line) as { port: number }), child };
}

/**
 * GATEHOUSE_BENCH_REDIS=1: the runtime processes keep their shared state on a Redis started for the
 * bench (as a cluster does), so the store round trips on the invoke path are measured too.
 */
const benchRedis = process.env.GATEHOUSE_BENCH_REDIS === '1' ? await startRedisServer() : undefined;
const benchRedisUrl = benchRedis?.url;

let nginxStop: (() => Promise<void>) | undefined;
let baselineStop: (() => Promise<void>) | undefined;

/** Debian's nginx in front of the agent (generated config, loopback), or the reason it could not start. */
async function startNginxOrSkip(agentPort: number): Promise<{ running?: { port: number }; skipped?: string }> {
  if (!existsSync('/usr/sbin/nginx')) return { skipped: '/usr/sbin/nginx is not installed (apt-get install nginx)' };
  try {
    const prefix = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-bench-nginx-'));
    const running = await startNginx(prefix, await freePort(), { identity: [agentPort], runtime: [agentPort], gateway: [agentPort] });
    nginxStop = () => running.stop();
    return { running };
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0]!.slice(0, 200);
    console.error(`[bench] nginx skipped: ${reason}`);
    return { skipped: reason };
  }
}

export async function stop(child: ChildProcess): Promise<void> {
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
export async function load(target: Target, durationMs: number, concurrency = CONCURRENCY): Promise<{ rps: number; p50: number; p99: number; errors: number; count: number }> {
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
  return { rps: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors, count: latencies.length };
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

/** CPU time (user + system) a process has used so far, in ms: work done, whatever the machine's load. */
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  // After the command name: field 14 (utime) and 15 (stime) of proc(5) are indexes 11 and 12; ticks of 1/100 s.
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The open-file limit of a process (RLIMIT_NOFILE, soft), from /proc. */
function openFileLimit(pid: number): number {
  const line = /Max open files\s+(\d+)/.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  return Number(line?.[1] ?? 1024);
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kib / 1024;
}

interface StreamsMeasurement {
  readonly wanted: number;
  readonly attempted: number;
  readonly opened: number;
  readonly failed: number;
  readonly baseMiB: number;
  readonly totalMiB: number;
  readonly perStreamKiB: number;
  /** Why fewer than `wanted` were attempted (the host's file limit), if so. */
  readonly bound?: string;
}

/**
 * Opens SSE streams through the runtime from a generator in its own process and holds them while
 * the runtime's RSS is read. Each stream costs the runtime two file descriptors (client and agent
 * side), so the count is bounded by the runtime process's open-file limit; the bound is reported.
 */
/** How many streams this host lets one runtime process hold (it inherits this process's file limit), and why not more. */
function streamsPlan(): { attempted: number; agents: number; bound?: string } {
  const limit = openFileLimit(process.pid);
  const attempted = Math.min(OPEN_STREAMS, Math.floor((limit - 1000) / 2));
  const bound = attempted < OPEN_STREAMS ? `the runtime process may open ${limit} files (RLIMIT_NOFILE) and each stream takes 2, so ${OPEN_STREAMS.toLocaleString('en')} streams need ${(OPEN_STREAMS * 2 + 1000).toLocaleString('en')} (raise the hard limit: \`ulimit -Hn\`, LimitNOFILE=, docker --ulimit nofile=)` : undefined;
  if (bound) console.error(`[bench] open streams bounded to ${attempted}: ${bound}`);
  return { attempted, agents: Math.max(1, Math.ceil(attempted / STREAMS_PER_AGENT)), ...(bound ? { bound } : {}) };
}

async function openStreams(target: { port: number; token: string; pid: number }, plan: ReturnType<typeof streamsPlan>, runtimes: readonly string[]): Promise<StreamsMeasurement> {
  const { port, token, pid: runtimePid } = target;
  const { attempted, bound } = plan;
  const base = rssMiB(runtimePid);
  const generator = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', OPEN_STREAMS_GENERATOR, JSON.stringify({ port, token, count: attempted, runtimes })], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: generator.stdout! }).once('line', resolve);
      generator.once('exit', (code) => reject(new Error(`stream generator exited with ${code}`)));
    });
    const { opened, failed } = JSON.parse(line) as { opened: number; failed: number };
    await sleep(1000);
    const total = rssMiB(runtimePid);
    return { wanted: OPEN_STREAMS, attempted, opened, failed, baseMiB: base, totalMiB: total, perStreamKiB: ((total - base) * 1024) / Math.max(opened, 1), ...(bound ? { bound } : {}) };
  } finally {
    generator.stdin!.end();
    await stop(generator);
  }
}

/**
 * The same agent started without Gatehouse: spawn, poll /ping every 2 ms, one POST /invocations.
 * Against the runtime's cold start of the same agent it shows what Gatehouse adds to a cold start.
 */
async function directColdStart(script: string, count: number): Promise<number> {
  const times: number[] = [];
  for (let index = 0; index < count; index++) {
    const port = await freePort();
    const started = performance.now();
    const child = spawn(process.execPath, [script], { env: { PATH: process.env.PATH ?? '', PORT: String(port) }, stdio: 'ignore' });
    try {
      for (;;) {
        const ready = await fetch(`http://127.0.0.1:${port}/ping`).then((response) => response.ok, () => false);
        if (ready) break;
        await sleep(2);
      }
      const answer = await fetch(`http://127.0.0.1:${port}/invocations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"prompt":"cold"}' });
      await answer.arrayBuffer();
      times.push(performance.now() - started);
    } finally {
      await stop(child);
    }
  }
  return median(times);
}

/** Median ms from spawn to exit of `node -e 0`: the floor of any cold start whose agent is a Node process. */
async function bareNodeStart(count: number): Promise<number> {
  const times: number[] = [];
  for (let index = 0; index < count; index++) {
    const started = performance.now();
    await new Promise((resolve) => spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' }).once('exit', resolve));
    times.push(performance.now() - started);
  }
  return median(times);
}

export async function bench(): Promise<BenchSection[]> {
  const echo = await startEchoAgent();
  const agentUrl = `http://127.0.0.1:${echo.port}`;
  const plan = streamsPlan();
  const streamAgents = await Promise.all(Array.from({ length: plan.agents }, () => startEchoAgent()));
  const streamRuntimes = streamAgents.map((_, index) => `streams_${index}`);
  // The bench sets its own limits: the default 600 requests/min per principal would turn the load into 429s.
  const unlimited = { requestsPerMinutePerPrincipal: 1_000_000_000, maxConcurrentSessions: 100_000, maxConcurrentSessionsPerPrincipal: 100_000 };
  const runtime = await startRuntime([
    { agentRuntimeName: 'proxied', agent: { url: agentUrl }, limits: { ...unlimited, warmPoolSize: 0 } },
    ...streamAgents.map((agent, index) => ({ agentRuntimeName: streamRuntimes[index], agent: { url: `http://127.0.0.1:${agent.port}` }, limits: { ...unlimited, warmPoolSize: 0 } })),
    { agentRuntimeName: 'warm', agent: { command: [process.execPath, ECHO_AGENT] }, limits: { ...unlimited, warmPoolSize: 1 } },
    { agentRuntimeName: 'cold', agent: { command: [process.execPath, ECHO_AGENT] }, limits: { ...unlimited, warmPoolSize: 0 } },
    { agentRuntimeName: 'cold_minimal', agent: { command: [process.execPath, MINIMAL_AGENT] }, limits: { ...unlimited, warmPoolSize: 0 } },
  ]).catch(async (error: unknown) => {
    for (const agent of [echo, ...streamAgents]) await stop(agent.child);
    throw error;
  });
  const plain = await startPlainProxy(echo.port);
  try {
    const direct: Target = { port: echo.port, path: '/invocations', headers: { 'content-type': 'application/json', [SESSION]: 'bench-direct-session-000000000000000000' } };
    const proxied: Target = {
      port: runtime.port,
      path: '/runtimes/proxied/invocations',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${runtime.token}`, [SESSION]: 'bench-proxied-session-00000000000000000' },
    };
    const plainTarget: Target = { ...direct, port: plain.port };
    const nginx = await startNginxOrSkip(echo.port);
    const loadBefore = os.loadavg().map((value) => value.toFixed(2)).join(', ');
    const nginxTarget: Target | undefined = nginx.running ? { ...direct, port: nginx.running.port } : undefined;
    // Before/after in one run: GATEHOUSE_BENCH_BASELINE names another checkout (e.g. a git worktree of
    // the previous commit) whose runtime is measured alongside, interleaved like the other paths.
    const baselineDir = process.env.GATEHOUSE_BENCH_BASELINE;
    const baseline = baselineDir
      ? await startRuntime([{ agentRuntimeName: 'proxied', agent: { url: agentUrl }, limits: { ...unlimited, warmPoolSize: 0 } }], [], path.join(baselineDir, 'packages/runtime/bench/runtime-process.ts'))
      : undefined;
    baselineStop = baseline ? () => stop(baseline.child) : undefined;
    const baselineTarget: Target | undefined = baseline ? { ...proxied, port: baseline.port, headers: { ...proxied.headers, authorization: `Bearer ${baseline.token}` } } : undefined;
    const targets = { direct, plain: plainTarget, ...(nginxTarget ? { nginx: nginxTarget } : {}), ...(baselineTarget ? { baseline: baselineTarget } : {}), proxied } as Record<PathName, Target>;
    const names = Object.keys(targets) as PathName[];
    // Warm every path (JIT, token cache, keep-alive sockets) before measuring.
    for (const name of names) await load(targets[name], 500);
    type Run = Record<PathName, { c16: Awaited<ReturnType<typeof load>>; seq: Awaited<ReturnType<typeof load>> }>;
    const runs: Run[] = [];
    // CPU time of each proxy process per request at c=16: the work it does, which the machine's load does not change.
    const proxyPids: Partial<Record<PathName, number>> = { plain: plain.child.pid!, proxied: runtime.child.pid!, ...(baseline ? { baseline: baseline.child.pid! } : {}) };
    const cpu: Partial<Record<PathName, { ms: number; requests: number }>> = {};
    for (let repetition = 0; repetition < REPETITIONS; repetition++) {
      const run = {} as Run;
      // Alternating: each repetition measures every path once, back to back; the baseline and this
      // runtime swap places every other repetition, so neither always runs right after the other.
      const order = repetition % 2 === 0 ? names : names.map((name) => (name === 'baseline' ? 'proxied' : name === 'proxied' && baseline ? 'baseline' : name));
      for (const name of order) {
        const pid = proxyPids[name];
        const before = pid === undefined ? 0 : cpuMs(pid);
        const c16 = await load(targets[name], LOAD_MS);
        if (pid !== undefined) {
          const spent = (cpu[name] ??= { ms: 0, requests: 0 });
          spent.ms += cpuMs(pid) - before;
          spent.requests += c16.count + c16.errors;
        }
        run[name] = { c16, seq: await load(targets[name], SEQUENTIAL_MS, 1) };
      }
      runs.push(run);
    }
    const cpuPerRequest = (name: PathName): number => ((cpu[name]?.ms ?? Number.NaN) * 1000) / (cpu[name]?.requests ?? 1);
    const med = (pick: (run: Run) => number): number => median(runs.map(pick));
    const rps = (name: PathName) => med((run) => run[name].c16.rps);
    const ratioOf = (name: PathName) => med((run) => run[name].c16.rps / run.direct.c16.rps);
    const seqP50 = (name: PathName) => med((run) => run[name].seq.p50);
    const seqP99 = (name: PathName) => med((run) => run[name].seq.p99);
    const addedSeq = (name: PathName) => med((run) => run[name].seq.p50 - run.direct.seq.p50);
    const ratio = ratioOf('proxied');
    const plainRatio = ratioOf('plain');
    const ofPlain = med((run) => run.proxied.c16.rps / run.plain.c16.rps);
    const addedP50 = addedSeq('proxied');
    const addedC16 = med((run) => run.proxied.c16.p50 - run.direct.c16.p50);
    const proxyRows: BenchRow[] = [
      { name: `throughput direct to the agent (c=${CONCURRENCY})`, value: round(rps('direct'), 0), unit: 'req/s' },
      { name: `reference: plain node:http proxy, no auth (c=${CONCURRENCY})`, value: round(rps('plain'), 0), unit: 'req/s', note: `${round(plainRatio)}× direct` },
      nginxTarget
        ? { name: `reference: nginx proxy_pass, upstream keep-alive (c=${CONCURRENCY})`, value: round(rps('nginx'), 0), unit: 'req/s', note: `${round(ratioOf('nginx'))}× direct` }
        : { name: 'reference: nginx proxy_pass', value: Number.NaN, unit: '', note: `skipped: ${nginx.skipped ?? 'not started'}` },
      { name: `throughput through the runtime (c=${CONCURRENCY}, JWT verified per request)`, value: round(rps('proxied'), 0), unit: 'req/s' },
      {
        name: 'throughput ratio runtime / direct',
        value: round(ratio),
        unit: '×',
        note: `target ≥ 0.8× — ${ratio >= 0.8 ? 'met' : 'missed'}; the runtime keeps ${round(ofPlain)}× of the plain proxy (fallback target ≥ 0.9× — ${ofPlain >= 0.9 ? 'met' : 'missed'})`,
      },
      ...names.map((name) => ({ name: `sequential latency p50 / p99, ${PATH_LABELS[name]}`, value: round(seqP50(name), 3), unit: `ms / ${round(seqP99(name), 3)} ms` })),
      ...names
        .filter((name) => name !== 'direct')
        .map((name) => ({
          name: `added p50 sequential, ${PATH_LABELS[name]}`,
          value: round(addedSeq(name), 3),
          unit: 'ms',
          ...(name === 'proxied' ? { note: `target ≤ 0.3 ms — ${addedP50 <= 0.3 ? 'met' : 'missed'}` } : {}),
        })),
      ...(baselineTarget
        ? [{ name: 'throughput, this runtime / baseline runtime', value: round(med((run) => run.proxied.c16.rps / run.baseline.c16.rps)), unit: '×', note: 'before/after, same run' }]
        : []),
      { name: `added p50 at c=${CONCURRENCY}, through the runtime`, value: round(addedC16, 3), unit: 'ms', note: 'queueing on 2 shared cores included' },
      ...(Object.keys(proxyPids) as PathName[]).map((name) => ({
        name: `CPU per request at c=${CONCURRENCY} (user + system), ${PATH_LABELS[name]} process`,
        value: round(cpuPerRequest(name), 0),
        unit: 'µs',
        ...(name === 'proxied' ? { note: `${round(cpuPerRequest('proxied') / cpuPerRequest('plain'))}× the plain proxy's` } : {}),
      })),
    ];
    // GATEHOUSE_BENCH_PROXY_ONLY=1: only the interleaved proxy comparison above (for measuring one change).
    if (process.env.GATEHOUSE_BENCH_PROXY_ONLY === '1') return [{ title: 'Runtime: invocation proxy vs direct to the same agent (proxy rows only)', rows: proxyRows }];
    const ttfbRuns = [];
    for (let repetition = 0; repetition < 3; repetition++) ttfbRuns.push({ direct: await ttfb(direct, 200), proxied: await ttfb(proxied, 200) });
    const directTtfb = median(ttfbRuns.map((run) => run.direct));
    const proxiedTtfb = median(ttfbRuns.map((run) => run.proxied));
    const addedTtfb = median(ttfbRuns.map((run) => run.proxied - run.direct));
    const warmCold = await coldStarts({ ...proxied, path: '/runtimes/warm/invocations', headers: { ...proxied.headers } }, 8, 1500);
    const coldCold = await coldStarts({ ...proxied, path: '/runtimes/cold/invocations', headers: { ...proxied.headers } }, 8, 200);
    const coldMinimal = await coldStarts({ ...proxied, path: '/runtimes/cold_minimal/invocations', headers: { ...proxied.headers } }, 8, 200);
    const bareNode = await bareNodeStart(8);
    const directMinimal = await directColdStart(MINIMAL_AGENT, 8);
    const memory = await openStreams({ port: runtime.port, token: runtime.token, pid: runtime.child.pid! }, plan, streamRuntimes);
    const atGoal = (memory.perStreamKiB * OPEN_STREAMS) / 1024 + memory.baseMiB;
    const measuredAtGoal = memory.opened === OPEN_STREAMS;
    const rows: BenchRow[] = [
      ...proxyRows,
      { name: 'SSE time to first byte direct / through runtime (p50, sequential)', value: round(directTtfb, 3), unit: `ms / ${round(proxiedTtfb, 3)} ms` },
      { name: 'added SSE time to first byte', value: round(addedTtfb, 3), unit: 'ms', note: `target ≤ 1 ms — ${addedTtfb <= 1 ? 'met' : 'missed'}` },
      { name: 'new-session cold start p50, warm pool of 1', value: round(warmCold, 1), unit: 'ms', note: `target ≤ 150 ms — ${warmCold <= 150 ? 'met' : 'missed'}` },
      { name: 'new-session cold start p50, no warm pool, reference echo agent (spawn node + /ping)', value: round(coldCold, 1), unit: 'ms', note: `target ≤ 100 ms — ${coldCold <= 100 ? 'met' : 'missed'}` },
      { name: 'new-session cold start p50, no warm pool, minimal node:http agent', value: round(coldMinimal, 1), unit: 'ms', note: `target ≤ 100 ms — ${coldMinimal <= 100 ? 'met' : 'missed'}` },
      { name: 'the minimal agent started without Gatehouse (spawn, /ping every 2 ms, one invocation)', value: round(directMinimal, 1), unit: 'ms', note: `Gatehouse adds ${round(coldMinimal - directMinimal, 1)} ms to this agent's cold start` },
      { name: 'floor: `node -e 0` spawn to exit, same machine', value: round(bareNode, 1), unit: 'ms', note: 'no Node agent can cold-start faster than this' },
      { name: `open SSE streams held through the runtime (asked ${memory.wanted.toLocaleString('en')})`, value: memory.opened, unit: 'streams', note: `${memory.failed} failed${memory.bound ? `; bounded on this host: ${memory.bound}` : ''}` },
      { name: `runtime RSS with ${memory.opened.toLocaleString('en')} open SSE streams (measured)`, value: round(memory.totalMiB, 1), unit: 'MiB', note: `base ${round(memory.baseMiB, 1)} MiB` },
      { name: 'runtime memory per open SSE stream', value: round(memory.perStreamKiB, 1), unit: 'KiB' },
      {
        name: `${OPEN_STREAMS.toLocaleString('en')} open streams ${measuredAtGoal ? '(measured)' : '(EXTRAPOLATED from the measured line above — not measured here)'}`,
        value: round(measuredAtGoal ? memory.totalMiB : atGoal, 0),
        unit: 'MiB',
        note: `target ≤ 2048 MiB — ${(measuredAtGoal ? memory.totalMiB : atGoal) <= 2048 ? 'met' : 'missed'}${measuredAtGoal ? '' : ', not measured'}`,
      },
    ];
    // Per-session isolation (issue 17) is its own section; it runs once the proxy runs are done.
    const { benchIsolation } = await import('./isolation.ts');
    const isolation = await benchIsolation();
    return [
      ...isolation,
      ...(await (await import('./cold-start.ts')).benchColdStart()),
      {
        title: 'Runtime: invocation proxy vs direct to the same agent',
        rows,
        notes: [
          `Closed-loop keep-alive load generator in its own process, ${CONCURRENCY} concurrent requests for ${LOAD_MS / 1000} s then one at a time for ${SEQUENTIAL_MS / 1000} s per path, ${REPETITIONS} alternating repetitions of ${names.map((name) => PATH_LABELS[name]).join(' / ')}; ratios and differences are per repetition, then the median.`,
          `Load average when the runs started: ${loadBefore}; when they ended: ${os.loadavg().map((value) => value.toFixed(2)).join(', ')} (2 cores shared with other work; absolute figures move with it, side-by-side ratios much less).`,
          nginxTarget ? 'nginx: Debian\'s /usr/sbin/nginx, one worker, generated config (scripts/load/nginx.ts), proxy_pass to the agent with upstream keep-alive, buffering off — the proxy a team would put in front of an agent.' : `nginx: not measured (${nginx.skipped ?? ''}).`,
          'The plain proxy (bench/plain-proxy.ts) is the floor of any node:http proxy here: no auth, sessions or logs; it shows how much of the gap is the platform rather than the runtime.',
          'The runtime runs in its own process; the echo agent (examples/echo-agent) is the same process for both paths. All three share the 2 cores, so the load generator limits the direct path too.',
          `Memory: ${memory.opened.toLocaleString('en')} SSE streams opened by a load generator in its own process (bench/open-streams.ts, loopback, source addresses 127.0.0.x), through ${streamRuntimes.length} URL runtime(s) to ${streamAgents.length} echo agent(s), held open while the runtime's RSS is read from /proc.`,
          'Cold start with a warm pool takes a pre-started process (started and answering /ping before the session exists); without one, the cost is spawning node and polling /ping. The minimal agent (bench/minimal-agent.mjs) imports node:http only; `node -e 0` is the floor any Node agent pays.',
        ],
      },
    ];
  } finally {
    await stop(runtime.child);
    await stop(plain.child);
    await nginxStop?.();
    await baselineStop?.();
    await stop(echo.child);
    for (const agent of streamAgents) await stop(agent.child);
    await benchRedis?.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const section of await bench()) {
    console.log(`\n## ${section.title}`);
    for (const row of section.rows) console.log(`- ${row.name}: ${row.value} ${row.unit}${row.note ? ` (${row.note})` : ''}`);
    for (const note of section.notes ?? []) console.log(`  ${note}`);
  }
}
