// The gateway's upstream hop alone (McpTarget.callTool to the official SDK's MCP server), interleaved in one
// process: the SDK transport's own fetch (one long-lived abort signal for every request), the per-request
// signals of per-request-signal-fetch.ts, and McpTarget.http as the gateway runs it (tools/call on the undici Pool). `node packages/gateway/bench/upstream-hop.ts [calls]`.
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startUpstreamMcpServer } from '@gatehouse/testing/upstream-servers';
import { McpTarget } from '../src/targets/mcp-target.ts';
import { perRequestSignalFetch } from '../src/targets/per-request-signal-fetch.ts';
import type { TargetCallScope } from '../src/targets/tool-target.ts';
import { percentile, timed } from './measure.ts';

const calls = Number(process.argv[2] ?? 2000);
const upstream = await startUpstreamMcpServer();
const shared = new McpTarget('shared', () => new StreamableHTTPClientTransport(new URL(upstream.url)));
const perRequest = new McpTarget('per-request', () => new StreamableHTTPClientTransport(new URL(upstream.url), { fetch: perRequestSignalFetch(fetch) }));
const pooled = McpTarget.http('pooled', upstream.url);
const scope = (): TargetCallScope => ({ credentials: { key: 'none', headers: {}, query: {} }, signal: new AbortController().signal, deadline: Date.now() + 10_000, gatewayName: 'bench', requestId: 'r' }) as unknown as TargetCallScope;
const samples = { shared: [] as number[], perRequest: [] as number[], pooled: [] as number[] };
try {
  await pooled.listTools(scope());
  for (let index = 0; index < calls; index++) {
    samples.pooled.push(await timed(() => pooled.callTool('echo', { text: 'bench' }, scope())));
    samples.shared.push(await timed(() => shared.callTool('echo', { text: 'bench' }, scope())));
    samples.perRequest.push(await timed(() => perRequest.callTool('echo', { text: 'bench' }, scope())));
  }
  for (const [name, values] of Object.entries(samples)) {
    const last = values.slice(-Math.floor(calls / 4));
    console.log(`${name.padEnd(11)} p50 ${percentile(values, 50).toFixed(3)} ms, p50 of the last quarter ${percentile(last, 50).toFixed(3)} ms, p99 ${percentile(values, 99).toFixed(3)} ms`);
  }
} finally {
  await shared.close();
  await perRequest.close();
  await pooled.close();
  await upstream.close();
}
