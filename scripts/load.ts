// `npm run load`: a bounded, loopback-only load test of the scaled-out deployment.
// Starts Redis, 1 identity + 3 runtime + 2 gateway instances (`gatehouse <component>`, one process
// each, shared data dir and store) behind Debian's nginx (round robin, upstream keep-alive), holds a
// sustained rate of authenticated invocations and MCP tool calls, samples each process's RSS, then
// compares the throughput of one runtime instance with three. Prints markdown and writes
// docs/benchmarks-load.md. Options: --duration S (sustained phase, default 25) --compare S (per setup,
// split into 3 interleaved rounds, default 6) --rate N (invocations/s, default 20) --tool-rate N (tool calls/s,
// default 10) --concurrency N (throughput runs, default 8) --max-requests N (per phase, default 4000)
// --users N (default 8) --runtime-entry script|cli (default script: scripts/load/runtime-instance.ts,
// which passes each instance's own URL for forwarding; cli: `gatehouse runtime`) --agent echo|reference
// (default echo: a minimal agent on the AgentCore contract, so the figures are Gatehouse's — auth,
// session routing, forwarding, proxying — not the reference agent's own work) --out FILE (default docs/benchmarks-load.md; "-" for stdout only).
import { parseArgs } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync, realpathSync, mkdirSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { stringify as toYaml } from 'yaml';
import {
  CognitoIdentityProviderClient,
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  AdminAddUserToGroupCommand,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { fromIni } from '@aws-sdk/credential-providers';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { parseConfig } from '@gatehouse/core';
import { withDefaults } from '@gatehouse/cli';
import { agentEntryPath } from '@gatehouse/agent';
import { startRedisServer, freePort, type RedisServer } from '@gatehouse/testing/redis-server';
import { startNginx, type RunningNginx } from './load/nginx.ts';
import { spawnInstance, waitReady, childPids, type InstanceProcess, type InstanceSettings } from './load/cluster.ts';
import { LatencyStats, median } from './load/latency-stats.ts';
import { openLoop, closedLoop, type LoadBudget } from './load/drive-load.ts';
import { sampleRss, residentMiB, type RssSeries } from './load/rss-sampler.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '25' },
    compare: { type: 'string', default: '6' },
    rate: { type: 'string', default: '20' },
    'tool-rate': { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '8' },
    'max-requests': { type: 'string', default: '4000' },
    users: { type: 'string', default: '8' },
    'runtime-entry': { type: 'string', default: 'script' },
    agent: { type: 'string', default: 'echo' },
    out: { type: 'string', default: path.join(root, 'docs', 'benchmarks-load.md') },
  },
  strict: true,
});

function positive(name: string, text: string, max: number): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || value > max) throw new Error(`--${name} must be a number in (0, ${max}] (got ${text})`);
  return value;
}
const DURATION_S = positive('duration', args.duration, 600);
const COMPARE_S = positive('compare', args.compare, 120);
const RATE = positive('rate', args.rate, 1000);
const TOOL_RATE = positive('tool-rate', args['tool-rate'], 1000);
const CONCURRENCY = Math.floor(positive('concurrency', args.concurrency, 256));
const MAX_REQUESTS = Math.floor(positive('max-requests', args['max-requests'], 1_000_000));
const USERS = Math.floor(positive('users', args.users, 200));
const PASSWORD = `Load-${randomUUID()}-9a`;
const POOL_ID = 'local_loadtest';
const WEB_CLIENT_ID = 'loadtestwebclient';
const RUNTIME_NAME = 'ops_agent';
/** One request that takes longer than this counts as an error (and frees its worker). */
const REQUEST_TIMEOUT_MS = 20_000;

interface User {
  readonly username: string;
  readonly token: string;
  readonly sessionId: string;
  mcp?: Client;
}

const cleanups: (() => Promise<void>)[] = [];
const log = (line: string): void => void process.stderr.write(`[load] ${line}\n`);

/**
 * The deployment's config: fixed pool and client ids (so every instance and the balancer agree before
 * any starts) and per-principal limits raised so the run measures the system, not the limiter.
 */
const ECHO_AGENT = path.join(root, 'packages', 'cluster', 'test', 'support', 'counting-agent.mjs');

function writeConfig(file: string, publicUrl: string, agent: 'echo' | 'reference'): void {
  const base = parseConfig({
    identity: {
      userPools: [
        {
          poolName: 'default',
          userPoolId: POOL_ID,
          groups: [{ groupName: 'ops-readonly' }, { groupName: 'ops-readwrite' }],
          clients: [
            {
              clientName: 'web',
              clientId: WEB_CLIENT_ID,
              explicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
              callbackUrls: [`${publicUrl}/`],
            },
          ],
        },
      ],
    },
  });
  const full = withDefaults(base, {
    pool: { discoveryUrl: `${publicUrl}/${POOL_ID}/.well-known/openid-configuration`, webClientId: WEB_CLIENT_ID },
    baseUrl: publicUrl,
    agentCommand: [process.execPath, agentEntryPath],
  });
  const raised = {
    ...full,
    runtimes: full.runtimes?.map((runtime) => ({
      ...runtime,
      ...(agent === 'echo' ? { agent: { command: [process.execPath, ECHO_AGENT], env: {} } } : {}),
      limits: { ...runtime.limits, requestsPerMinutePerPrincipal: 1_000_000, maxConcurrentSessions: 200, warmPoolSize: 2 },
    })),
    gateways: full.gateways?.map((gateway) => ({ ...gateway, limits: { ...gateway.limits, requestsPerMinutePerPrincipal: 1_000_000 } })),
  };
  parseConfig(raised, 'load-test configuration');
  writeFileSync(file, toYaml(raised));
}

async function createUsers(publicUrl: string, credentialsFile: string): Promise<User[]> {
  const admin = new CognitoIdentityProviderClient({ endpoint: publicUrl, region: 'local', credentials: fromIni({ filepath: credentialsFile, profile: 'default' }) });
  const anonymous = new CognitoIdentityProviderClient({ endpoint: publicUrl, region: 'local', credentials: { accessKeyId: 'none', secretAccessKey: 'none' } });
  const users: User[] = [];
  try {
    for (let index = 0; index < USERS; index++) {
      const username = `load-user-${index}`;
      await admin.send(new AdminCreateUserCommand({ UserPoolId: POOL_ID, Username: username, MessageAction: 'SUPPRESS' }));
      await admin.send(new AdminSetUserPasswordCommand({ UserPoolId: POOL_ID, Username: username, Password: PASSWORD, Permanent: true }));
      await admin.send(new AdminAddUserToGroupCommand({ UserPoolId: POOL_ID, Username: username, GroupName: 'ops-readonly' })).catch(() => undefined);
      const answer = await anonymous.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: WEB_CLIENT_ID, AuthParameters: { USERNAME: username, PASSWORD } }));
      users.push({ username, token: answer.AuthenticationResult!.AccessToken!, sessionId: `load-session-${randomUUID()}` });
    }
  } finally {
    admin.destroy();
    anonymous.destroy();
  }
  return users;
}

async function invoke(baseUrl: string, user: User, sessionId: string): Promise<void> {
  const arn = `arn:aws:bedrock-agentcore:local:000000000000:runtime/${RUNTIME_NAME}`;
  const response = await fetch(`${baseUrl}/runtimes/${encodeURIComponent(arn)}/invocations?qualifier=DEFAULT`, {
    method: 'POST',
    headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json', accept: 'text/event-stream, application/json', 'x-amzn-bedrock-agentcore-runtime-session-id': sessionId },
    body: JSON.stringify({ prompt: 'hello' }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const body = await response.text();
  if (response.status !== 200) throw new Error(`invocation ${response.status} ${response.headers.get('x-amzn-errortype') ?? ''}`.trim());
  if (/^event: error$/m.test(body) || /"type":"error"/.test(body)) throw new Error('invocation: error event in stream');
}

async function connectMcp(publicUrl: string, user: User): Promise<{ client: Client; toolName: string }> {
  const client = new Client({ name: 'gatehouse-load', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${publicUrl}/mcp`), { requestInit: { headers: { authorization: `Bearer ${user.token}` } } });
  await client.connect(transport);
  const { tools } = await client.listTools();
  const cheap = tools.find((tool) => /list_accounts$/.test(tool.name)) ?? tools.find((tool) => (tool.inputSchema.required ?? []).length === 0);
  if (!cheap) throw new Error(`no tool without required arguments among: ${tools.map((tool) => tool.name).join(', ')}`);
  return { client, toolName: cheap.name };
}

async function callTool(user: User, toolName: string): Promise<void> {
  const result = await user.mcp!.callTool({ name: toolName, arguments: {} }, undefined, { timeout: REQUEST_TIMEOUT_MS });
  if (result.isError) throw new Error(`tool ${toolName}: isError`);
}

function fmt(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '–';
}

function statsRow(stats: LatencyStats, seconds: number, target?: number): string {
  const completed = stats.samples.length;
  return `| ${stats.name} | ${target === undefined ? '–' : fmt(target, 0)} | ${completed} | ${fmt(completed / seconds)} | ${fmt(stats.percentile(0.5))} | ${fmt(stats.percentile(0.99))} | ${stats.errorCount} |`;
}

function memoryTable(series: readonly RssSeries[]): string[] {
  const times = [...new Set(series.flatMap((entry) => entry.samples.map((sample) => Math.round(sample.atSeconds))))].sort((a, b) => a - b);
  const step = Math.max(1, Math.ceil(times.length / 8));
  const columns = times.filter((_, index) => index % step === 0 || index === times.length - 1);
  const lines = [`| process | ${columns.map((time) => `${time} s`).join(' | ')} | growth |`, `|---|${columns.map(() => '---:').join('|')}|---:|`];
  for (const entry of series) {
    const at = (time: number): number | undefined => entry.samples.reduce<{ sample?: { atSeconds: number; mib: number }; gap: number }>((best, sample) => {
      const gap = Math.abs(sample.atSeconds - time);
      return gap < best.gap ? { sample, gap } : best;
    }, { gap: Infinity }).sample?.mib;
    const first = entry.samples[0]?.mib ?? Number.NaN;
    const last = entry.samples.at(-1)?.mib ?? Number.NaN;
    lines.push(`| ${entry.name} | ${columns.map((time) => fmt(at(time) ?? Number.NaN)).join(' | ')} | ${last >= first ? '+' : ''}${fmt(last - first)} |`);
  }
  return lines;
}

/** V8 heap in use per instance, from its own GET /metrics (`nodejs_heap_used_bytes`), in MiB. */
async function heapUsed(instances: readonly InstanceProcess[]): Promise<Map<string, number>> {
  const result = new Map<string, number>();
  await Promise.all(
    instances.map(async (instance) => {
      try {
        const text = await (await fetch(`${instance.url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
        const match = /^nodejs_heap_used_bytes (\d+(?:\.\d+)?)$/m.exec(text);
        if (match) result.set(instance.name, Number(match[1]) / 2 ** 20);
      } catch {
        // no metrics from this instance
      }
    }),
  );
  return result;
}

function errorLines(all: readonly LatencyStats[]): string[] {
  const lines: string[] = [];
  for (const stats of all) for (const [reason, count] of stats.errors) lines.push(`- ${stats.name}: ${count} × ${reason}`);
  return lines.length > 0 ? lines : ['- none'];
}

async function main(): Promise<void> {
  const started = Date.now();
  const workDir = realpathSync(mkdtempSync(path.join(tmpdir(), 'gatehouse-load-')));
  cleanups.push(async () => rmSync(workDir, { recursive: true, force: true }));
  const dataDir = path.join(workDir, 'data');
  mkdirSync(dataDir, { recursive: true });

  log('starting redis-server');
  const redis: RedisServer = await startRedisServer();
  cleanups.push(() => redis.stop());

  const lbPort = await freePort();
  const publicUrl = `http://127.0.0.1:${lbPort}`;
  const configFile = path.join(workDir, 'gatehouse.yaml');
  if (args.agent !== 'echo' && args.agent !== 'reference') throw new Error('--agent must be echo or reference');
  writeConfig(configFile, publicUrl, args.agent);
  if (args['runtime-entry'] !== 'script' && args['runtime-entry'] !== 'cli') throw new Error('--runtime-entry must be script or cli');
  const settings: InstanceSettings = { runtimeEntry: args['runtime-entry'], dataDir, publicUrl, configFile, storeUrl: redis.url };

  const instances: InstanceProcess[] = [];
  const launch = async (name: string, kind: InstanceProcess['kind']): Promise<InstanceProcess> => {
    const instance = spawnInstance(name, kind, await freePort(), settings);
    instances.push(instance);
    cleanups.push(async () => {
      // Agent processes are the runtime's children; stop them too in case the instance has to be killed.
      const agents = childPids(instance.child.pid!);
      await instance.stop();
      for (const pid of agents) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    });
    return instance;
  };
  // Identity first: it creates the pool, keys and admin credentials in the shared data dir once.
  log('starting identity');
  const identity = await launch('identity', 'identity');
  await waitReady(identity);
  log('starting 3 runtime + 2 gateway instances');
  // One at a time: instances starting together on one data dir can fail with "database is locked".
  const startOne = async (name: string, kind: InstanceProcess['kind']): Promise<InstanceProcess> => {
    const instance = await launch(name, kind);
    await waitReady(instance);
    return instance;
  };
  const runtimes = [await startOne('runtime-1', 'runtime'), await startOne('runtime-2', 'runtime'), await startOne('runtime-3', 'runtime')];
  const gateways = [await startOne('gateway-1', 'gateway'), await startOne('gateway-2', 'gateway')];

  log('starting nginx');
  const nginx: RunningNginx = await startNginx(path.join(workDir, 'nginx'), lbPort, {
    identity: [identity.port],
    runtime: runtimes.map((instance) => instance.port),
    gateway: gateways.map((instance) => instance.port),
  });
  cleanups.push(() => nginx.stop());

  log(`creating ${USERS} users`);
  const users = await createUsers(publicUrl, path.join(dataDir, 'admin-credentials'));
  let toolName = '';
  for (const user of users) {
    const connected = await connectMcp(publicUrl, user);
    user.mcp = connected.client;
    toolName = connected.toolName;
    cleanups.push(() => connected.client.close());
  }
  log('warming up (one session per user, one tool call each)');
  // Sequential: each first invocation starts an agent process, and starting them all at once on a
  // small machine measures process start-up, not Gatehouse.
  for (const user of users) {
    const begun = Date.now();
    await invoke(publicUrl, user, user.sessionId);
    log(`  ${user.username}: first invocation ${Date.now() - begun} ms`);
  }
  await Promise.all(users.map((user) => callTool(user, toolName)));

  // Phase 1: sustained open-loop load with memory sampled throughout.
  log(`sustained load for ${DURATION_S} s: ${RATE} invocations/s + ${TOOL_RATE} tool calls/s`);
  const processes = [...instances.map((instance) => ({ name: instance.name, pid: instance.child.pid! }))];
  const heapBefore = await heapUsed(instances);
  const sampler = sampleRss(processes, 1000);
  const agentRss = new Map<string, number>();
  const agentCount = new Map<string, number>();
  const agentSampler = setInterval(() => {
    for (const runtime of runtimes) {
      const agents = childPids(runtime.child.pid!);
      agentRss.set(runtime.name, Math.max(agentRss.get(runtime.name) ?? 0, agents.reduce((sum, pid) => sum + (residentMiB(pid) ?? 0), 0)));
      agentCount.set(runtime.name, Math.max(agentCount.get(runtime.name) ?? 0, agents.length));
    }
  }, 2000);
  const budget: LoadBudget = { durationMs: DURATION_S * 1000, maxRequests: MAX_REQUESTS };
  const invocations = new LatencyStats('invocation (via nginx)');
  const toolCalls = new LatencyStats(`tool call ${toolName} (MCP, via nginx)`);
  let next = 0;
  const pick = (): User => users[next++ % users.length]!;
  await Promise.all([
    openLoop(RATE, budget, invocations, () => {
      const user = pick();
      return invoke(publicUrl, user, user.sessionId);
    }),
    openLoop(TOOL_RATE, budget, toolCalls, () => callTool(pick(), toolName)),
  ]);
  sampler.stop();
  clearInterval(agentSampler);
  const heapAfter = await heapUsed(instances);
  for (const stats of [invocations, toolCalls]) log(`${stats.name}: ${stats.samples.length} ok, ${stats.errorCount} errors, p50 ${fmt(stats.percentile(0.5))} ms`);

  // Phase 2: throughput, one runtime instance directly vs three behind nginx, same load shape.
  // Interleaved rounds (1, 3, fwd, 1, 3, fwd, …) and the median rate per setup, so that other work on
  // the machine during the run weighs on every setup alike.
  const ROUNDS = 3;
  const roundBudget: LoadBudget = { durationMs: Math.max(1000, (COMPARE_S * 1000) / ROUNDS), maxRequests: MAX_REQUESTS };
  interface Setup {
    readonly stats: LatencyStats;
    readonly baseUrl: string;
    readonly sessions: string[];
    readonly rates: number[];
    seconds: number;
  }
  const setup = async (name: string, baseUrl: string, createVia = baseUrl): Promise<Setup> => {
    const sessions = users.map(() => `load-compare-${randomUUID()}`);
    // First request of each session outside the clock: it starts the agent process.
    await Promise.all(users.map((user, index) => invoke(createVia, user, sessions[index]!).catch(() => undefined)));
    return { stats: new LatencyStats(name), baseUrl, sessions, rates: [], seconds: 0 };
  };
  const single = await setup('1 runtime instance (direct)', runtimes[0]!.url);
  const three = await setup('3 runtime instances (nginx)', publicUrl);
  // Isolates the price of forwarding: every session lives on runtime-1, every request goes to runtime-2.
  const forwarded = await setup('forwarded: runtime-2 → runtime-1 (direct, no nginx)', runtimes[1]!.url, runtimes[0]!.url);
  for (let round = 0; round < ROUNDS; round++) {
    for (const entry of [single, three, forwarded]) {
      log(`throughput round ${round + 1}/${ROUNDS}: ${entry.stats.name}`);
      const before = entry.stats.samples.length;
      let turn = 0;
      const result = await closedLoop(CONCURRENCY, roundBudget, entry.stats, () => {
        const index = turn++ % users.length;
        return invoke(entry.baseUrl, users[index]!, entry.sessions[index]!);
      });
      entry.rates.push((entry.stats.samples.length - before) / result.seconds);
      entry.seconds += result.seconds;
    }
  }
  for (const entry of [single, three, forwarded]) log(`${entry.stats.name}: median ${fmt(median(entry.rates))}/s over ${ROUNDS} rounds, ${entry.stats.errorCount} errors`);
  const compareRow = (entry: Setup): string =>
    `| ${entry.stats.name} | ${entry.stats.samples.length} | ${fmt(median(entry.rates))} | ${entry.rates.map((rate) => fmt(rate, 0)).join(' / ')} | ${fmt(entry.stats.percentile(0.5))} | ${fmt(entry.stats.percentile(0.99))} | ${entry.stats.errorCount} |`;

  const elapsed = (Date.now() - started) / 1000;
  const redisVersion = execFileSync('/usr/bin/redis-server', ['--version'], { encoding: 'utf8' }).match(/v=([\d.]+)/)?.[1] ?? '?';
  const nginxVersion = execFileSync('/usr/sbin/nginx', ['-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim() || 'nginx';
  const report = [
    '# Load test (`npm run load`)',
    '',
    `Run ${new Date().toISOString()} on ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${fmt(totalmem() / 2 ** 30)} GiB, Node ${process.version}, Redis ${redisVersion}, ${nginxVersion}; total ${fmt(elapsed, 0)} s, loopback only.`,
    `Deployment: 1 identity + 3 runtime + 2 gateway instances (\`gatehouse <component>\`${settings.runtimeEntry === 'script' ? '; runtimes composed by scripts/load/runtime-instance.ts with their own URL for forwarding' : ''}, one process each, shared data dir, \`store: redis://…\`) behind nginx (round robin, upstream keep-alive); ${USERS} users, each with one runtime session (${args.agent === 'echo' ? 'a minimal echo agent on the AgentCore contract' : 'the reference agent, offline planner'}) and one MCP session. The load generator shares the same cores.`,
    '',
    `## Sustained load (${DURATION_S} s, open loop)`,
    '',
    '| request | target /s | completed | throughput /s | p50 ms | p99 ms | errors |',
    '|---|---:|---:|---:|---:|---:|---:|',
    statsRow(invocations, DURATION_S, RATE),
    statsRow(toolCalls, DURATION_S, TOOL_RATE),
    '',
    '## Memory over time (RSS, MiB)',
    '',
    ...memoryTable(sampler.series),
    '',
    `V8 heap in use (from each instance's \`/metrics\`), start → end of the sustained phase: ${instances.map((instance) => `${instance.name} ${fmt(heapBefore.get(instance.name) ?? Number.NaN)} → ${fmt(heapAfter.get(instance.name) ?? Number.NaN)} MiB`).join('; ')}.`,
    '',
    `Agent processes (children of each runtime instance), peak count / peak total RSS: ${runtimes.map((runtime) => `${runtime.name} ${agentCount.get(runtime.name) ?? 0} / ${fmt(agentRss.get(runtime.name) ?? 0)} MiB`).join('; ')}.`,
    '',
    `## Throughput: one runtime instance vs three (${ROUNDS} interleaved rounds of ${fmt(roundBudget.durationMs / 1000)} s each, closed loop, ${CONCURRENCY} workers)`,
    '',
    '| setup | completed | median /s | per round /s | p50 ms | p99 ms | errors |',
    '|---|---:|---:|---:|---:|---:|---:|',
    compareRow(single),
    compareRow(three),
    compareRow(forwarded),
    '',
    `Three instances / one instance (medians): **${fmt(median(three.rates) / median(single.rates), 2)}×**; forwarded / local: **${fmt(median(forwarded.rates) / median(single.rates), 2)}×**.`,
    '',
    'Everything shares one 2-core machine (nginx, Redis, the load generator and any other work on it), so three instances cannot add CPU here; two requests in three also take an extra hop to the instance that runs their session. The ratio shows that overhead, not the capacity of three machines. Figures move with other load on the machine, hence interleaved rounds and medians.',
    '',
    '## Errors',
    '',
    ...errorLines([invocations, toolCalls, single.stats, three.stats, forwarded.stats]),
    '',
  ].join('\n');
  process.stdout.write(report);
  if (args.out !== '-') {
    mkdirSync(path.dirname(args.out), { recursive: true });
    writeFileSync(args.out, report);
    log(`wrote ${path.relative(process.cwd(), args.out)}`);
  }
}

async function cleanup(): Promise<void> {
  const steps = cleanups.splice(0).reverse();
  for (const step of steps) await step().catch(() => undefined);
}

let exitCode = 0;
// A hard ceiling on the whole run, and Ctrl-C, both still clean up every process started here.
const ceiling = setTimeout(() => {
  process.stderr.write('[load] run exceeded its time ceiling; stopping\n');
  void cleanup().finally(() => process.exit(2));
}, (DURATION_S + 3 * COMPARE_S + 300) * 1000);
ceiling.unref();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void cleanup().finally(() => process.exit(130));
  });
}
try {
  await main();
} catch (error) {
  exitCode = 1;
  process.stderr.write(`[load] failed: ${error instanceof Error ? error.message : String(error)}\n`);
} finally {
  await cleanup();
}
process.exit(exitCode);
