// tools/call through the gateway vs direct to the same MCP server, interleaved in one run.
// Run alone (`node packages/gateway/bench/tools-call.ts [calls]`) it makes only gateway calls, for
// `node --cpu-prof` (see docs/benchmarks.md, "Gateway tools/call profile").
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { BenchRow } from '@gatehouse/core';
import { connectClient } from '@gatehouse/testing/gateway-stack';
import { startBenchStack, type BenchStack } from './bench-stack.ts';
import { median, percentile, timed, verdict } from './measure.ts';

const ROUNDS = 5;
const PAIRS_PER_ROUND = 100;
const WARM_UP = 50;
const CALL = { name: 'echo', arguments: { text: 'bench' } };
const PREFIXED = { name: 'up___echo', arguments: { text: 'bench' } };

export interface CallFigures {
  readonly direct: number[];
  readonly gateway: number[];
  /** Per round: gateway p50 − direct p50. */
  readonly addedPerRound: number[];
  /** CPU time of this process (client, gateway and upstream together) per call, in ms: direct, through. */
  readonly cpu: { direct: number; gateway: number };
}

/** Wall time of `work`, and its CPU time added to `cpu[slot]` (steadier than wall time on a busy machine). */
async function timedCpu(work: () => Promise<unknown>, cpu: Record<'direct' | 'gateway', number>, slot: 'direct' | 'gateway'): Promise<number> {
  const before = process.cpuUsage();
  const wall = await timed(work);
  const used = process.cpuUsage(before);
  cpu[slot] += (used.user + used.system) / 1000;
  return wall;
}

async function clients(bench: BenchStack): Promise<{ direct: Client; through: Client; close(): Promise<void> }> {
  const direct = new Client({ name: 'bench-direct', version: '1' });
  await direct.connect(new StreamableHTTPClientTransport(new URL(bench.upstreamUrl)));
  const { client: through } = await connectClient(`${bench.stack.baseUrl}/mcp`, bench.token);
  return { direct, through, close: async () => (await through.close(), await direct.close()) };
}

/** ROUNDS rounds of PAIRS_PER_ROUND calls, each pair one direct then one through the gateway. */
export async function measureToolsCall(bench: BenchStack): Promise<CallFigures> {
  const { direct, through, close } = await clients(bench);
  try {
    for (let index = 0; index < WARM_UP; index++) {
      await direct.callTool(CALL);
      await through.callTool(PREFIXED);
    }
    const figures: CallFigures = { direct: [], gateway: [], addedPerRound: [], cpu: { direct: 0, gateway: 0 } };
    for (let round = 0; round < ROUNDS; round++) {
      const directRound: number[] = [];
      const gatewayRound: number[] = [];
      for (let index = 0; index < PAIRS_PER_ROUND; index++) {
        directRound.push(await timedCpu(() => direct.callTool(CALL), figures.cpu, 'direct'));
        gatewayRound.push(await timedCpu(() => through.callTool(PREFIXED), figures.cpu, 'gateway'));
      }
      figures.direct.push(...directRound);
      figures.gateway.push(...gatewayRound);
      figures.addedPerRound.push(percentile(gatewayRound, 50) - percentile(directRound, 50));
    }
    const calls = ROUNDS * PAIRS_PER_ROUND;
    return { ...figures, cpu: { direct: figures.cpu.direct / calls, gateway: figures.cpu.gateway / calls } };
  } finally {
    await close();
  }
}

export function toolsCallRows(figures: CallFigures): BenchRow[] {
  const added = median(figures.addedPerRound);
  return [
    { name: 'tools/call direct to the MCP server, p50', value: percentile(figures.direct, 50), unit: 'ms' },
    { name: 'tools/call direct to the MCP server, p99', value: percentile(figures.direct, 99), unit: 'ms' },
    { name: 'tools/call through the gateway, p50', value: percentile(figures.gateway, 50), unit: 'ms' },
    { name: 'tools/call through the gateway, p99', value: percentile(figures.gateway, 99), unit: 'ms' },
    { name: `added by the gateway, p50 (median of ${ROUNDS} interleaved rounds)`, value: added, unit: 'ms', note: `target ≤ 0.5 ms: ${verdict(added, 0.5)}; rounds ${figures.addedPerRound.map((value) => value.toFixed(2)).join(', ')}` },
    { name: 'CPU per tools/call in the bench process (client, gateway and upstream), direct', value: figures.cpu.direct, unit: 'ms' },
    { name: 'CPU per tools/call in the bench process, through the gateway', value: figures.cpu.gateway, unit: 'ms', note: `the gateway's own CPU ≈ ${(figures.cpu.gateway - figures.cpu.direct).toFixed(2)} ms per call (wall time on a busy machine varies more)` },
  ];
}

async function profileOnly(calls: number): Promise<void> {
  const bench = await startBenchStack();
  const { through, close } = await clients(bench);
  try {
    for (let index = 0; index < calls; index++) await through.callTool(PREFIXED);
  } finally {
    await close();
    await bench.close();
  }
}

if (import.meta.main) await profileOnly(Number(process.argv[2] ?? 3000));
