// tools/list of 1,000 tools with Cedar filtering: warm, a new user like one seen before, never-seen attributes.
import type { BenchRow } from '@gatehouse/core';
import { connectClient } from '@gatehouse/testing/gateway-stack';
import type { BenchStack } from './bench-stack.ts';
import { median, percentile, timed, verdict } from './measure.ts';

/**
 * tools/list over plain HTTP (initialize once, then the list request), reading the answer as text:
 * the gateway's own time without a client parsing and validating 1,000 tool definitions.
 */
async function rawLister(url: string, token: string): Promise<() => Promise<number>> {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };
  const initialize = { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench-raw', version: '1' } } };
  const opened = await fetch(url, { method: 'POST', headers, body: JSON.stringify(initialize) });
  await opened.text();
  const session = opened.headers.get('mcp-session-id') ?? '';
  return () =>
    timed(async () => {
      const response = await fetch(url, { method: 'POST', headers: { ...headers, 'mcp-session-id': session }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' });
      if (!(await response.text()).includes('"tools"')) throw new Error('tools/list failed');
    });
}

interface ListFigures {
  readonly cold: number;
  readonly visible: number;
  readonly warm: number;
  readonly newUser: number;
  readonly neverSeen: number;
  readonly rawWarm: number;
  readonly rawFirst: number;
  readonly rawNeverSeen: number;
}

/** A token of a user in a group no caller had before: its caller attributes were never seen, so Cedar decides its list afresh. */
const neverSeenToken = (bench: BenchStack, label: string): string => bench.issuer.sign({ sub: `bench-${label}`, 'cognito:groups': [`bench-group-${label}`] });

/** Through the SDK client: the first list, warm lists, 5 new users like the first, 5 with caller attributes never seen. */
async function clientLists(bench: BenchStack, url: string): Promise<Pick<ListFigures, 'cold' | 'visible' | 'warm' | 'newUser' | 'neverSeen'>> {
  const { client: lister } = await connectClient(url, bench.token);
  const cold = await timed(() => lister.listTools());
  const visible = (await lister.listTools()).tools.length;
  const warm: number[] = [];
  for (let index = 0; index < 60; index++) warm.push(await timed(() => lister.listTools()));
  await lister.close();
  // The default policy names no user, so a new user with the same client, groups and scopes shares the decisions.
  const newUser: number[] = [];
  for (let index = 0; index < 5; index++) {
    const { client: newcomer } = await connectClient(url, bench.issuer.sign({ sub: `bench-newcomer-${index}`, 'cognito:groups': ['ops-readonly'] }));
    newUser.push(await timed(() => newcomer.listTools()));
    await newcomer.close();
  }
  const neverSeen: number[] = [];
  for (let index = 0; index < 5; index++) {
    const { client: stranger } = await connectClient(url, neverSeenToken(bench, `stranger-${index}`));
    neverSeen.push(await timed(() => stranger.listTools()));
    await stranger.close();
  }
  return { cold, visible, warm: percentile(warm, 50), newUser: median(newUser), neverSeen: median(neverSeen) };
}

/** The same lists over plain HTTP: the gateway's time without the client parsing 1,000 tools. */
async function rawLists(bench: BenchStack, url: string): Promise<Pick<ListFigures, 'rawWarm' | 'rawFirst' | 'rawNeverSeen'>> {
  const warmList = await rawLister(url, bench.token);
  const warm: number[] = [];
  for (let index = 0; index < 60; index++) warm.push(await warmList());
  const first: number[] = [];
  for (let index = 0; index < 5; index++) {
    const list = await rawLister(url, bench.issuer.sign({ sub: `bench-raw-newcomer-${index}`, 'cognito:groups': ['ops-readonly'] }));
    first.push(await list());
  }
  const neverSeen: number[] = [];
  for (let index = 0; index < 5; index++) neverSeen.push(await (await rawLister(url, neverSeenToken(bench, `raw-stranger-${index}`)))());
  return { rawWarm: percentile(warm, 50), rawFirst: median(first), rawNeverSeen: median(neverSeen) };
}

export async function measureToolsList(bench: BenchStack): Promise<ListFigures> {
  const url = `${bench.stack.baseUrl}/gateways/many/mcp`;
  return { ...(await clientLists(bench, url)), ...(await rawLists(bench, url)) };
}

export function toolsListRows(figures: ListFigures): BenchRow[] {
  return [
    { name: `tools/list, 1,000 tools (${figures.visible - 1} visible after policy), warm p50`, value: figures.warm, unit: 'ms', note: `target ≤ 2 ms: ${verdict(figures.warm, 2)}` },
    { name: 'tools/list, 1,000 tools, first list of a new user whose groups/client/scopes were seen before (median of 5)', value: figures.newUser, unit: 'ms', note: `target ≤ 20 ms: ${verdict(figures.newUser, 20)}; decisions shared while no policy names a user` },
    { name: 'tools/list, 1,000 tools, plain HTTP (answer read as text, no client parsing), warm p50', value: figures.rawWarm, unit: 'ms', note: `target ≤ 2 ms: ${verdict(figures.rawWarm, 2)}` },
    { name: 'tools/list, 1,000 tools, plain HTTP, first list of a new user whose groups/client/scopes were seen before (median of 5)', value: figures.rawFirst, unit: 'ms', note: `target ≤ 20 ms: ${verdict(figures.rawFirst, 20)}` },
    { name: 'tools/list, 1,000 tools, first list for caller attributes never seen (median of 5)', value: figures.neverSeen, unit: 'ms', note: `target ≤ 20 ms: ${verdict(figures.neverSeen, 20)}; one Cedar evaluation per class of tools the policies cannot tell apart (2 here), not per tool` },
    { name: 'tools/list, 1,000 tools, plain HTTP, first list for caller attributes never seen (median of 5)', value: figures.rawNeverSeen, unit: 'ms', note: `target ≤ 20 ms: ${verdict(figures.rawNeverSeen, 20)}` },
    { name: 'tools/list, 1,000 tools, very first list of a just-started gateway (loads the catalog, first Cedar calls, cold JIT)', value: figures.cold, unit: 'ms', note: 'one-off, for reference' },
  ];
}
