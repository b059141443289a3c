// `npm run bench` section for the gateway: tools/call latency through the gateway vs direct to the
// same MCP server (side by side, interleaved), and tools/list with 1,000 tools including Cedar filtering.
import type { BenchSection } from '@gatehouse/core';
import { startBenchStack } from './bench-stack.ts';
import { measureToolsCall, toolsCallRows } from './tools-call.ts';
import { measureToolsList, toolsListRows } from './tools-list.ts';

const NOTES = [
  'Same MCP server (official SDK, stateless, JSON responses), same client library, 5 rounds of 100 interleaved call pairs (direct, then through the gateway) after 50 warm-up calls, one connection each, loopback.',
  'Through the gateway each request is authenticated (JWT, verified-token cache), rate-counted and session-checked (in the embedded store here; with Redis a binding already read is trusted on the instance for 5 s), Cedar-authorized (decision memoized per caller attributes and tool while no policy reads context) and audited (SQLite WAL, group commit, committed before the answer) around the upstream call (tools/call on a kept-alive undici Pool in the session of the SDK client kept per credential).',
  'tools/list timings through the SDK client include it parsing and validating the 1,000-tool answer (~160 KB); the plain-HTTP rows read the same answer as text, which is the gateway\'s own time plus one loopback round trip.',
  'Cedar list/call decisions are memoized per policy-relevant caller attributes: client, groups and scopes, plus the user (issuer, sub, username) only when a policy can read it (a user-naming scope or condition); and per resource class — tools whose policy-visible attributes (scope tests, like/== results, attribute values read) are equal share one evaluation per caller.',
];

export async function bench(): Promise<BenchSection[]> {
  const stack = await startBenchStack();
  try {
    const calls = await measureToolsCall(stack);
    const lists = await measureToolsList(stack);
    return [{ title: 'MCP gateway (tools/call and tools/list)', rows: [...toolsCallRows(calls), ...toolsListRows(lists)], notes: NOTES }];
  } finally {
    await stack.close();
  }
}

if (import.meta.main) {
  console.log(JSON.stringify(await bench(), null, 2));
}
