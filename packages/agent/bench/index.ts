import { performance } from 'node:perf_hooks';
import { closeServer, createLogger, listen, type BenchSection } from '@gatehouse/core';
import { createAgentServer } from '../src/agent-server.ts';
import { runAgentTurn } from '../src/agent-loop.ts';
import { createOfflinePlanner } from '../src/offline-planner.ts';
import type { GatewaySession } from '../src/gateway-session.ts';
import { startGatewayStandIn } from '../test/support/gateway-stand-in.ts';

const ROUNDS = 60;
const WAT = 'bench-wat';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function measure(rounds: number, once: () => Promise<void>): Promise<number> {
  for (let index = 0; index < 5; index += 1) await once();
  const samples: number[] = [];
  for (let index = 0; index < rounds; index += 1) {
    const started = performance.now();
    await once();
    samples.push(performance.now() - started);
  }
  return median(samples);
}

/**
 * Where an offline invocation's time goes: the loop alone (tools in memory), then the same turn over HTTP
 * with a real MCP round trip to a gateway stand-in (connect + tools/list + tools/call per invocation), JSON vs SSE.
 */
export async function bench(): Promise<BenchSection[]> {
  const gateway = await startGatewayStandIn(new Set([WAT]));
  const agent = createAgentServer({ model: createOfflinePlanner(), gatewayUrl: gateway.url, logger: createLogger({ level: 'silent' }) });
  const base = `http://127.0.0.1:${await listen(agent.server, 0)}`;
  try {
    const tools = [{ name: 'ops___list_accounts', description: 'List accounts', inputSchema: { type: 'object' } }];
    const memoryGateway: GatewaySession = {
      listTools: async () => tools,
      callTool: async () => ({ ok: true, content: '{"accounts":[{"name":"Production"}]}', summary: 'ok', result: {} }),
      close: async () => undefined,
    };
    const loopOnly = await measure(ROUNDS * 5, async () => {
      for await (const event of runAgentTurn({ model: createOfflinePlanner(), gateway: memoryGateway, history: [], prompt: 'list my accounts', onCommit: () => undefined })) void event;
    });
    const invoke = (accept: string) => async () => {
      const response = await fetch(`${base}/invocations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept, 'x-amz-bedrock-agentcore-identity-wat': WAT },
        body: '{"prompt":"list my accounts"}',
      });
      await response.text();
    };
    const json = await measure(ROUNDS, invoke('application/json'));
    const sse = await measure(ROUNDS, invoke('text/event-stream'));
    return [
      {
        title: 'Reference agent (offline planner, one tool call per invocation)',
        rows: [
          { name: 'agent loop alone (tools in memory)', value: loopOnly, unit: 'ms p50' },
          { name: 'HTTP invocation, JSON, MCP round trip to gateway stand-in', value: json, unit: 'ms p50' },
          { name: 'HTTP invocation, SSE, MCP round trip to gateway stand-in', value: sse, unit: 'ms p50' },
          { name: 'SSE / JSON', value: sse / json, unit: '×', note: 'same turn, side by side' },
        ],
        notes: [
          'Each invocation opens its own MCP connection with that request\'s workload token (initialize, tools/list, tools/call, close); that, not the loop, is most of the time.',
        ],
      },
    ];
  } finally {
    await closeServer(agent.server);
    await gateway.close();
  }
}
