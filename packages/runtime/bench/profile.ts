// CPU profile of the runtime's invoke path under the bench's load (issue 21): the runtime process
// runs with `node --cpu-prof`, takes GATEHOUSE_PROFILE_MS of c=16 keep-alive load, and the top
// frames by self time are printed. Usage: node packages/runtime/bench/profile.ts [out-dir]
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { load, startEchoAgent, startPlainProxy, startRuntime, stop } from './index.ts';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly endTime: number;
}

const outDir = path.resolve(process.argv[2] ?? 'bench-profiles');
mkdirSync(outDir, { recursive: true });
const durationMs = Number(process.env.GATEHOUSE_PROFILE_MS ?? 5000);
const echo = await startEchoAgent();
const unlimited = { requestsPerMinutePerPrincipal: 1_000_000_000, maxConcurrentSessions: 100_000, maxConcurrentSessionsPerPrincipal: 100_000 };
const profileFlags = ['--cpu-prof', `--cpu-prof-dir=${outDir}`];
// GATEHOUSE_PROFILE_TARGET=plain profiles the plain Node proxy instead: the same hop with no work,
// so the two profiles' busy time per request shows what the runtime adds.
const plain = process.env.GATEHOUSE_PROFILE_TARGET === 'plain';
const runtime = plain
  ? await startPlainProxy(echo.port, profileFlags)
  : await startRuntime([{ agentRuntimeName: 'proxied', agent: { url: `http://127.0.0.1:${echo.port}` }, limits: { ...unlimited, warmPoolSize: 0 } }], profileFlags);
const target = {
  port: runtime.port,
  path: plain ? '/invocations' : '/runtimes/proxied/invocations',
  headers: {
    'content-type': 'application/json',
    ...('token' in runtime ? { authorization: `Bearer ${runtime.token}` } : {}),
    'x-amzn-bedrock-agentcore-runtime-session-id': 'bench-proxied-session-00000000000000000',
  },
};
await load(target, 500);
const result = await load(target, durationMs);
const stopping = performance.now();
await stop(runtime.child);
const shutdownMs = performance.now() - stopping;
await stop(echo.child);
const file = readdirSync(outDir)
  .filter((name) => name.endsWith('.cpuprofile'))
  .map((name) => path.join(outDir, name))
  .sort()
  .at(-1);
if (!file) throw new Error('no .cpuprofile written');
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
const label = (node: ProfileNode): string => {
  const frame = node.callFrame;
  const where = frame.url ? `${frame.url.replace(/^.*\/(node_modules|packages)\//, '$1/')}:${frame.lineNumber + 1}` : '';
  return `${frame.functionName || '(anonymous)'} ${where}`.trim();
};
// Only the measured load window: the process's start-up (module compile, key generation) and
// shutdown are left out. Times in the profile are µs.
const windowEnd = profile.endTime - shutdownMs * 1000;
const windowStart = windowEnd - durationMs * 1000;
const self = new Map<string, number>();
/** Each sample charged to the innermost Gatehouse function on its stack: what Gatehouse code costs, with what it calls. */
const charged = new Map<string, number>();
const inclusive = new Map<string, number>();
let total = 0;
let busyUs = 0;
let time = profile.endTime - profile.timeDeltas.reduce((sum, delta) => sum + delta, 0);
profile.samples.forEach((id, index) => {
  time += profile.timeDeltas[index] ?? 0;
  if (time < windowStart || time > windowEnd) return;
  total++;
  const node = byId.get(id)!;
  if (node.callFrame.functionName !== '(idle)') busyUs += profile.timeDeltas[index + 1] ?? 0;
  self.set(label(node), (self.get(label(node)) ?? 0) + 1);
  let owner = '(node:http, syscalls and idle: no Gatehouse frame on the stack)';
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const key = label(byId.get(at)!);
    if (key.includes('packages/')) {
      owner = key;
      break;
    }
  }
  charged.set(owner, (charged.get(owner) ?? 0) + 1);
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const key = label(byId.get(at)!);
    if (!seen.has(key) && key.includes('packages/')) inclusive.set(key, (inclusive.get(key) ?? 0) + 1);
    seen.add(key);
  }
});
const top = Number(process.env.GATEHOUSE_PROFILE_TOP ?? 20);
const table = (title: string, counts: Map<string, number>): void => {
  console.log(`\n${title}\n| % of samples | frame |\n|---:|---|`);
  for (const [key, count] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`| ${((100 * count) / total).toFixed(1)} | \`${key}\` |`);
};
const requests = (result.rps * durationMs) / 1000;
console.log(`${plain ? 'plain proxy' : 'runtime'}: ${Math.round(result.rps)} req/s, p50 ${result.p50.toFixed(3)} ms during the profile; ${total} samples in the load window, ${Math.round(busyUs / requests)} µs not idle per request (wall time between samples: includes time descheduled on a busy machine); ${file}`);
table('Self time', self);
table('Charged to the innermost Gatehouse frame', charged);
table('Inclusive time, Gatehouse frames', inclusive);
