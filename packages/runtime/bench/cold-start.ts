// Cold start of a new session without a warm pool (issue 21: ≤ 100 ms p50), broken into its layers: Node
// itself, each agent started without Gatehouse, the isolation launcher (setpriv → unshare → sandbox), and
// the runtime's full path (spawn, readiness, first invocation) with isolation on and off. Run on its own with
// `node packages/runtime/bench/cold-start.ts`; `npm run bench` includes it through the runtime's section.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, type BenchRow, type BenchSection } from '@gatehouse/core';
import { LAUNCHER_COMPILE_CACHE, probeIsolation } from '../src/agent-isolation.ts';
import { startRuntime, stop } from './index.ts';

const COUNT = Number(process.env.GATEHOUSE_BENCH_COLD_STARTS ?? 9);
const SESSION = 'x-amzn-bedrock-agentcore-runtime-session-id';
const SANDBOX = fileURLToPath(new URL('../src/agent-sandbox.ts', import.meta.url));
const AGENTS = {
  minimal: fileURLToPath(new URL('./minimal-agent.mjs', import.meta.url)),
  echo: fileURLToPath(new URL('../../../examples/echo-agent/agent.mjs', import.meta.url)),
  gatehouse: fileURLToPath(new URL('../../agent/src/main.ts', import.meta.url)),
} as const;
type AgentName = keyof typeof AGENTS;
/** The minimal agent as it was before this work: node:http by ES module import. */
const MINIMAL_ESM_AGENT = fileURLToPath(new URL('./minimal-agent-esm.mjs', import.meta.url));
const AGENT_PACKAGE = fileURLToPath(new URL('../../agent/', import.meta.url));
const AGENT_LABELS: Record<AgentName, string> = {
  minimal: 'minimal node:http agent (bench/minimal-agent.mjs)',
  echo: 'reference echo agent (examples/echo-agent)',
  gatehouse: "Gatehouse's own agent (packages/agent, offline model)",
};
const UNLIMITED = { requestsPerMinutePerPrincipal: 1_000_000_000, maxConcurrentSessions: 100_000, maxConcurrentSessionsPerPrincipal: 100_000, warmPoolSize: 0 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const round = (value: number) => Math.round(value * 10) / 10;

/** Median ms from spawn to exit of a command. */
async function timeToExit(command: readonly string[], env: NodeJS.ProcessEnv = process.env, cwd?: string): Promise<number> {
  const times: number[] = [];
  for (let index = 0; index < COUNT; index++) {
    const started = performance.now();
    await new Promise((resolve) => spawn(command[0]!, command.slice(1), { stdio: 'ignore', env, cwd }).once('exit', resolve));
    times.push(performance.now() - started);
  }
  return median(times);
}

function post(options: { port: number; path: string; headers: Record<string, string> }): Promise<number> {
  return new Promise((resolve, reject) => {
    const body = '{"prompt":"cold"}';
    const outgoing = request({ host: '127.0.0.1', port: options.port, path: options.path, method: 'POST', agent: false, headers: { 'content-type': 'application/json', ...options.headers, 'content-length': Buffer.byteLength(body) } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

function pingOnce(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const outgoing = request({ host: '127.0.0.1', port, path: '/ping', agent: false }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode === 200));
    });
    outgoing.on('error', () => resolve(false));
    outgoing.end();
  });
}

/** The agent started without Gatehouse: spawn with PORT, GET /ping every 2 ms, one POST /invocations. */
async function directStart(agent: AgentName, env: Record<string, string> = {}): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [AGENTS[agent]], { env: { PATH: process.env.PATH ?? '', PORT: String(port), ...env }, stdio: 'ignore' });
  try {
    while (!(await pingOnce(port))) await sleep(2);
    if ((await post({ port, path: '/invocations', headers: {} })) !== 200) throw new Error(`${agent} did not answer`);
    return performance.now() - started;
  } finally {
    await stop(child);
  }
}

interface RuntimeTarget {
  readonly port: number;
  readonly token: string;
}

/** A new session's first invocation through the runtime (spawn, readiness, the call), then the session is stopped. */
async function runtimeStart(target: RuntimeTarget, runtime: string): Promise<number> {
  const headers = { authorization: `Bearer ${target.token}`, [SESSION]: `bench-cold-${crypto.randomUUID()}` };
  const started = performance.now();
  const status = await post({ port: target.port, path: `/runtimes/${runtime}/invocations`, headers });
  const elapsed = performance.now() - started;
  if (status !== 200) throw new Error(`cold start of ${runtime} answered ${status}`);
  await post({ port: target.port, path: `/runtimes/${runtime}/stopruntimesession`, headers });
  return elapsed;
}

/** The isolation launcher alone: setpriv → unshare → the sandbox script, running `/bin/true` as the agent. */
function launcherCommand(dataDir: string, compileCache?: string): string[] {
  const plan = { socket: path.join(dataDir, `${crypto.randomUUID()}.sock`), agentPort: 8080, egressDir: dataDir, egress: [], hide: [], expose: [], command: ['/bin/true'], tmpSizeMiB: 16, compileCache };
  return ['setpriv', '--pdeathsig', 'KILL', '--', 'unshare', '--net', '--mount', '--pid', '--fork', '--kill-child', '--mount-proc', '--', process.execPath, '--disable-warning=ExperimentalWarning', SANDBOX, JSON.stringify(plan)];
}

/** Node loading what an agent imports, spawn to exit: each way an agent can take, side by side. */
async function importRows(): Promise<BenchRow[]> {
  const module = (code: string) => [process.execPath, '--disable-warning=ExperimentalWarning', '--input-type=module', '-e', code];
  const inAgent = (code: string) => timeToExit(module(code), process.env, AGENT_PACKAGE);
  return [
    { name: 'floor: `node -e 0`, spawn to exit', value: round(await timeToExit([process.execPath, '-e', '0'])), unit: 'ms' },
    { name: "`import 'node:http'` (ES module: evaluates its lazy WebSocket getters, which load Node's bundled undici)", value: round(await timeToExit(module("import 'node:http'"))), unit: 'ms' },
    { name: "`process.getBuiltinModule('node:http')` (what the agents do now)", value: round(await timeToExit(module("process.getBuiltinModule('node:http')"))), unit: 'ms' },
    { name: "`import('@gatehouse/core')` (the index: database engines, YAML config, every schema; the agent's import before)", value: round(await inAgent("await import('@gatehouse/core')")), unit: 'ms' },
    { name: "`import('@gatehouse/core/agent-support')` (the agent's import now)", value: round(await inAgent("await import('@gatehouse/core/agent-support')")), unit: 'ms' },
  ];
}

async function layerRows(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [
    ...(await importRows()),
    { name: '`/bin/sh -c "ulimit -d …; exec"` wrapper (memory limit), spawn to exit of /bin/true', value: round(await timeToExit(['/bin/sh', '-c', 'ulimit -d "$0" && exec "$@"', '1048576', '/bin/true'])), unit: 'ms' },
  ];
  if (!probeIsolation().available) return [...rows, { name: 'isolation layers', value: Number.NaN, unit: '', note: `skipped: ${probeIsolation().reason}` }];
  // Outside /tmp: the launcher covers /tmp with a tmpfs of its own.
  const scratch = mkdtempSync(path.join('/var/tmp', 'gatehouse-bench-launcher-'));
  const compileCache = path.join(scratch, 'compile-cache');
  try {
    await timeToExit(launcherCommand(scratch, compileCache), { ...process.env, NODE_COMPILE_CACHE: compileCache });
    rows.push(
      { name: 'setpriv + unshare (net, mount, pid), spawn to exit of /bin/true', value: round(await timeToExit(['setpriv', '--pdeathsig', 'KILL', '--', 'unshare', '--net', '--mount', '--pid', '--fork', '--kill-child', '--mount-proc', '--', '/bin/true'])), unit: 'ms' },
      { name: 'isolation launcher (setpriv → unshare → sandbox script → /bin/true as the agent), spawn to exit, no compile cache', value: round(await timeToExit(launcherCommand(scratch))), unit: 'ms' },
      { name: 'the same, compile cache warm (what the runtime does now)', value: round(await timeToExit(launcherCommand(scratch, compileCache), { ...process.env, NODE_COMPILE_CACHE: compileCache })), unit: 'ms' },
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return rows;
}

function runtimeConfig(agent: AgentName, mode: 'auto' | 'none'): Record<string, unknown> {
  return { agentRuntimeName: `${agent}_${mode}`, agent: { command: [process.execPath, AGENTS[agent]] }, isolation: { mode }, limits: UNLIMITED };
}

/**
 * "Before", in the same run: a runtime whose launcher has no compile cache (its cache path is taken by a file, so
 * Node runs without one, as the launcher did before) starting the minimal agent as it was (ESM import of node:http).
 */
async function startBeforeRuntime(): Promise<{ readonly runtime: Awaited<ReturnType<typeof startRuntime>>; readonly dataDir: string }> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-bench-before-'));
  writeFileSync(path.join(dataDir, LAUNCHER_COMPILE_CACHE), '');
  process.env.GATEHOUSE_BENCH_DATA_DIR = dataDir;
  try {
    const runtime = await startRuntime([{ agentRuntimeName: 'before', agent: { command: [process.execPath, MINIMAL_ESM_AGENT] }, isolation: { mode: 'auto' }, limits: UNLIMITED }]);
    return { runtime, dataDir };
  } finally {
    delete process.env.GATEHOUSE_BENCH_DATA_DIR;
  }
}

export async function benchColdStart(agents = Object.keys(AGENTS) as AgentName[]): Promise<BenchSection[]> {
  const modes: readonly ('auto' | 'none')[] = probeIsolation().available ? ['auto', 'none'] : ['none'];
  const layers = await layerRows();
  const runtime = await startRuntime(agents.flatMap((agent) => modes.map((mode) => runtimeConfig(agent, mode))));
  const before = agents.includes('minimal') && modes.includes('auto') ? await startBeforeRuntime() : undefined;
  const samples = new Map<string, number[]>();
  // What a compile cache would give an agent (not done for isolated sessions: see docs/benchmarks.md).
  const agentCache = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-bench-agent-cache-'));
  const add = (key: string, value: number) => samples.set(key, [...(samples.get(key) ?? []), value]);
  try {
    // Interleaved: each repetition starts every agent every way once, so load changes hit all alike.
    for (let repetition = 0; repetition < COUNT; repetition++) {
      for (const agent of agents) {
        add(`direct ${agent}`, await directStart(agent));
        if (agent === 'minimal' && before) add('before', await runtimeStart(before.runtime, 'before'));
        if (agent === 'gatehouse') add('direct gatehouse cached', await directStart(agent, { NODE_COMPILE_CACHE: agentCache }));
        for (const mode of modes) add(`${mode} ${agent}`, await runtimeStart(runtime, `${agent}_${mode}`));
      }
    }
  } finally {
    await stop(runtime.child);
    if (before) await stop(before.runtime.child);
    for (const directory of [agentCache, before?.dataDir]) if (directory) rmSync(directory, { recursive: true, force: true });
  }
  const value = (key: string) => round(median(samples.get(key) ?? []));
  const rows: BenchRow[] = [...layers];
  for (const agent of agents) {
    rows.push({ name: `${AGENT_LABELS[agent]} without Gatehouse (spawn, /ping every 2 ms, one invocation)`, value: value(`direct ${agent}`), unit: 'ms' });
    if (agent === 'gatehouse') rows.push({ name: `${AGENT_LABELS[agent]} without Gatehouse, Node compile cache warm (NODE_COMPILE_CACHE)`, value: value('direct gatehouse cached'), unit: 'ms' });
    if (agent === 'minimal' && before) {
      rows.push({ name: 'BEFORE: the minimal agent as it was (ESM import of node:http) through a runtime whose launcher has no compile cache, isolated', value: value('before'), unit: 'ms', note: `after (row below): ${round(value('before') - value('auto minimal'))} ms less` });
    }
    for (const mode of modes) {
      const through = value(`${mode} ${agent}`);
      rows.push({
        name: `${AGENT_LABELS[agent]} through the runtime, ${mode === 'auto' ? 'isolated (namespaces)' : 'isolation off'}`,
        value: through,
        unit: 'ms',
        note: `target ≤ 100 ms — ${through <= 100 ? 'met' : 'missed'}; Gatehouse adds ${round(through - value(`direct ${agent}`))} ms`,
      });
    }
  }
  return [
    {
      title: 'Runtime: agent cold start without a warm pool',
      rows,
      notes: [
        `Medians of ${COUNT} starts per row, interleaved (every agent every way once per repetition); new session → its first invocation answered, then the session is stopped. Load average at the end: ${os.loadavg().map((load) => load.toFixed(2)).join(', ')}.`,
        'The layer rows time each piece alone from spawn to exit; the difference between an agent through the runtime and the same agent without it is what Gatehouse adds.',
      ],
    },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // Arguments: the agents to start (default all): minimal, echo, gatehouse.
  const only = process.argv.slice(2).filter((name): name is AgentName => name in AGENTS);
  for (const section of await benchColdStart(only.length > 0 ? only : undefined)) {
    console.log(`\n## ${section.title}`);
    for (const row of section.rows) console.log(`- ${row.name}: ${row.value} ${row.unit}${row.note ? ` (${row.note})` : ''}`);
    for (const note of section.notes ?? []) console.log(`  ${note}`);
  }
}
