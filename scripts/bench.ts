// `npm run bench`: runs every package's bench (packages/*/bench/index.ts), prints the tables and
// writes docs/benchmarks.md. Each package measures its ratios side by side in one run.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchSection } from '@gatehouse/core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv[2] === '--one' ? [] : process.argv.slice(2);
const packages = readdirSync(path.join(root, 'packages'))
  .filter((name) => existsSync(path.join(root, 'packages', name, 'bench', 'index.ts')))
  .filter((name) => only.length === 0 || only.includes(name))
  .sort();

const sections: BenchSection[] = [];
if (process.argv[2] === '--one') {
  // Child mode: one package's bench, its sections as JSON on stdout.
  const module = (await import(pathToFileURL(path.join(root, 'packages', process.argv[3]!, 'bench', 'index.ts')).href)) as { bench: () => Promise<BenchSection[]> };
  process.stdout.write(JSON.stringify(await module.bench()));
  process.exit(0);
}
const loadAtStart = os.loadavg();
for (const name of packages) {
  const started = Date.now();
  console.error(`[bench] ${name} …`);
  // Each package in a fresh process: one bench's heap, sockets and children must not slow the next
  // (run in one process, the SigV4 figure halved after the agent bench).
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--one', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
  if (child.status !== 0) throw new Error(`bench of ${name} failed (exit ${child.status})`);
  sections.push(...(JSON.parse(child.stdout) as BenchSection[]));
  console.error(`[bench] ${name} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

const format = (value: number): string => (Number.isInteger(value) ? String(value) : value >= 100 ? value.toFixed(0) : value >= 1 ? value.toFixed(2) : value.toPrecision(3));
const lines: string[] = [
  '# Benchmarks',
  '',
  `Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, loopback only.`,
  `Load average (1/5/15 min) at the start ${loadAtStart.map((value) => value.toFixed(2)).join(' / ')}, at the end ${os.loadavg().map((value) => value.toFixed(2)).join(' / ')} — the machine is shared, so absolute figures move with other work; the side-by-side ratios much less.`,
  'Each ratio is measured side by side in the same run (through Gatehouse vs direct to the same server); latencies are medians (p50) unless marked p99.',
  '',
];
for (const section of sections) {
  lines.push(`## ${section.title}`, '', '| measurement | value | unit | note |', '|---|---:|---|---|');
  for (const row of section.rows) lines.push(`| ${row.name} | ${format(row.value)} | ${row.unit} | ${row.note ?? ''} |`);
  if (section.notes?.length) lines.push('', ...section.notes.map((note) => `- ${note}`));
  lines.push('');
}
// The runtime's CPU profile (`node packages/runtime/bench/profile.ts`, issue 21) is kept in its own file.
const profileReport = path.join(root, 'docs', 'benchmarks-profile.md');
if (existsSync(profileReport)) {
  const profile = readFileSync(profileReport, 'utf8').replace(/^# (.*)\n/, '## $1\n').replace(/^## (?!Where)/gm, '### ');
  lines.push(profile.trim(), '');
}
// The gateway's tools/call profile (issue 21), written by hand from `node --cpu-prof packages/gateway/bench/tools-call.ts` runs.
const gatewayProfile = path.join(root, 'docs', 'benchmarks-gateway-profile.md');
if (existsSync(gatewayProfile)) lines.push(readFileSync(gatewayProfile, 'utf8').trim(), '');
// Where an agent's cold start goes (issue 21), written by hand from bench/cold-start.ts runs.
const coldStartReport = path.join(root, 'docs', 'benchmarks-cold-start.md');
if (existsSync(coldStartReport)) lines.push(readFileSync(coldStartReport, 'utf8').trim(), '');
// The multi-instance load run (`npm run load`, issue 8) writes its own report; include its latest figures.
const loadReport = path.join(root, 'docs', 'benchmarks-load.md');
if (existsSync(loadReport)) {
  const load = readFileSync(loadReport, 'utf8').replace(/^# .*\n/, '').replace(/^## /gm, '### ');
  lines.push('## Load test on several instances (latest `npm run load`, from docs/benchmarks-load.md)', '', load.trim(), '');
}
const text = lines.join('\n');
console.log(text);
if (only.length === 0) writeFileSync(path.join(root, 'docs', 'benchmarks.md'), text);
