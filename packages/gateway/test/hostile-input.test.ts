// Hostile MCP messages (issue 13, items 4 and 5): nesting deep enough to exhaust a recursive walker,
// prototype keys, malformed tools/call params and a Cedar denial. Each is sent over real HTTP as an
// attacker would, and must be refused with a short JSON-RPC error, reach no target, leave an audit
// row and leave the log free of stacks and server paths — on every path that answers tools/call:
// the direct one, the SDK server (batches) and the 2026-07-28 stateless revision.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { startTestIssuer, type TestIssuer } from '@gatehouse/testing/test-issuer';
import { AuditLog, type AuditRecord } from '../src/audit-log.ts';
import { toJsonRpcError } from '../src/json-rpc-error.ts';
import type { Caller } from '../src/caller.ts';
import { PolicyEngine } from '../src/policy-engine.ts';
import type { GatewayDeps } from '../src/index.ts';
import { MCP_HEADERS, connectClient, startGatewayStack, type GatewayStack } from '@gatehouse/testing/gateway-stack';
import { startUpstreamMcpServer, type RecordingServer } from '@gatehouse/testing/upstream-servers';

// Reads context.arguments, so Cedar evaluates every call with its arguments (no memo).
const TICKET_POLICY = `@id("everyone-lists")
permit (principal, action == Gatehouse::Action::"list", resource);
@id("calls-with-a-ticket")
permit (principal, action == Gatehouse::Action::"call", resource) when { context.arguments has ticket };
`;

/** `{"a":{"a":…{"a":leaf}…}}` with `levels` objects, built as text (JSON.stringify itself recurses). */
const nestedText = (levels: number, leaf = '1'): string => '{"a":'.repeat(levels) + leaf + '}'.repeat(levels);

describe('hostile MCP input is refused, audited and never reaches a target', () => {
  let issuer: TestIssuer;
  let upstream: RecordingServer;
  let stack: GatewayStack;
  let audit: AuditLog;
  let dataDir: string;
  let client: Client;
  let sessionId: string;
  let token: string;
  const received: unknown[] = [];
  const functions: NonNullable<GatewayDeps['functions']> = {
    'test:record': {
      toolSchema: [{ name: 'record', inputSchema: { type: 'object' as const, properties: { ticket: { type: 'string' } } } }],
      async handler(event: unknown) {
        received.push(event);
        return { recorded: true };
      },
    },
  };

  before(async () => {
    issuer = await startTestIssuer();
    upstream = await startUpstreamMcpServer();
    dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-hostile-'));
    mkdirSync(path.join(dataDir, 'policies'));
    writeFileSync(path.join(dataDir, 'policies', 'default.cedar'), TICKET_POLICY);
    stack = await startGatewayStack(
      [
        {
          name: 'default',
          authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: issuer.discoveryUrl, allowedClients: ['test-client'] } },
          limits: { maxRequestBytes: 2_000_000, requestsPerMinutePerPrincipal: 100_000 },
          targets: [
            { name: 'fn', targetConfiguration: { mcp: { lambda: { module: 'test:record' } } } },
            { name: 'up', targetConfiguration: { mcp: { mcpServer: { endpoint: upstream.url } } } },
          ],
        },
      ],
      { functions },
      { dataDir },
    );
    audit = await AuditLog.open({ dataDir });
    token = issuer.sign({ sub: 'mallory-sub', username: 'mallory' });
    const connected = await connectClient(`${stack.baseUrl}/mcp`, token);
    client = connected.client;
    sessionId = connected.transport.sessionId!;
    // the upstream's tool list is loaded (and its session opened) before any hostile call is counted
    assert.ok((await client.listTools()).tools.some((tool) => tool.name === 'up___echo'));
  });

  after(async () => {
    await client.close();
    await stack.close();
    await audit.close();
    await upstream.close();
    await issuer.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** POSTs a raw body on the caller's session (or statelessly with `headers`), as a client that skips the SDK would. */
  async function post(body: string, headers: Record<string, string> = { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' }): Promise<{ status: number; json: unknown; text: string }> {
    const response = await fetch(`${stack.baseUrl}/mcp`, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${token}`, ...headers }, body });
    const text = await response.text();
    return { status: response.status, json: JSON.parse(text) as unknown, text };
  }

  const statelessHeaders = (tool: string): Record<string, string> => ({ 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': tool });

  /** The rows written since `count` rows existed. */
  const rowsAfter = async (count: number): Promise<AuditRecord[]> => (await audit.query({ limit: 10_000 })).slice(count);
  const rowCount = async (): Promise<number> => (await audit.query({ limit: 10_000 })).length;

  /** What every refusal and denial must never carry: a stack, a server path, zod's issue list. */
  function assertNoInternals(text: string): void {
    assert.ok(!text.includes(dataDir), `no server path in ${text.slice(0, 300)}`);
    assert.doesNotMatch(text, /\.cedar|\n\s+at |"stack"|invalid_type|"expected"|Maximum call stack|recursion limit/);
  }

  /** Sends `send`, expects it refused, and checks nothing reached a target and one audit row says why. */
  async function expectRefused(send: () => Promise<unknown>, expected: { tool: string; reason: RegExp }): Promise<void> {
    const receivedBefore = received.length;
    const upstreamBefore = upstream.requests.length;
    const rowsBefore = await rowCount();
    const logBefore = stack.logs().length;
    await send();
    assert.equal(received.length, receivedBefore, 'the function target received nothing');
    assert.equal(upstream.requests.length, upstreamBefore, 'the MCP target received nothing');
    const rows = await rowsAfter(rowsBefore);
    assert.equal(rows.length, 1, `one audit row: ${JSON.stringify(rows)}`);
    const row = rows[0]!;
    assert.deepEqual({ user: row.user, tool: row.tool, decision: row.decision, outcome: row.outcome }, { user: 'mallory', tool: expected.tool, decision: 'deny', outcome: 'refused' });
    assert.match(row.detail, expected.reason);
    const log = stack.logs().slice(logBefore);
    assert.match(log, /MCP message refused/);
    assertNoInternals(log);
    assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false, 'Object.prototype untouched');
  }

  test('a normal call with a ticket reaches the target (control)', async () => {
    const before = received.length;
    const result = await client.callTool({ name: 'fn___record', arguments: { ticket: 'T-1' } });
    assert.deepEqual(result.structuredContent, { recorded: true });
    assert.deepEqual(received.slice(before), [{ ticket: 'T-1' }]);
    const echoed = await client.callTool({ name: 'up___echo', arguments: { ticket: 'T-1', text: 'hi' } });
    assert.deepEqual(echoed.content, [{ type: 'text', text: 'echo:hi' }]);
  });

  test('arguments nested to the limit pass through Cedar and reach the target intact', async () => {
    // message (1) → params (2) → arguments (3) → 61 more levels = 64
    const deepest = JSON.parse(`{"ticket":"T-2","a":${nestedText(61, '"bottom"')}}`) as Record<string, unknown>;
    const before = received.length;
    const result = await client.callTool({ name: 'fn___record', arguments: deepest });
    assert.deepEqual(result.structuredContent, { recorded: true });
    assert.deepEqual(received.slice(before), [deepest]);
  });

  test('brackets inside strings do not count as nesting', async () => {
    const args = { ticket: 'T-2b', text: '[[[[{{{{'.repeat(50), quote: '\\"[[[\\' };
    const before = received.length;
    assert.deepEqual((await client.callTool({ name: 'fn___record', arguments: args })).structuredContent, { recorded: true });
    assert.deepEqual(received.slice(before), [args]);
  });

  test('the policy engine itself denies arguments nested 10,000 deep instead of exhausting the stack', () => {
    // below the endpoint's limit nothing this deep arrives; the engine must still not recurse on it
    const engine = PolicyEngine.open(path.join(dataDir, 'policies', 'default.cedar'), 'ENFORCE');
    const caller: Caller = { issuer: 'https://issuer.example', subject: 'mallory-sub', username: 'mallory', clientId: 'test-client', groups: [], scopes: [], claims: {}, token: '', expiresAt: undefined };
    const tool = { name: 'fn___record', target: 'fn', tool: 'record', readOnly: false };
    const decision = engine.decide(caller, 'call', tool, JSON.parse(`{"ticket":"T-2c","a":${nestedText(10_000)}}`) as Record<string, unknown>);
    assert.equal(decision.allowed, false);
    assert.match(decision.failure ?? '', /./, 'Cedar says why, for the server log');
    assert.equal(engine.decide(caller, 'call', tool, { ticket: 'T-2c', a: JSON.parse(nestedText(50)) as unknown }).allowed, true, 'control: 50 levels are evaluated');
  });

  test('arguments nested 10,000 deep get -32600 naming the limit on the session path, with nothing called', async () => {
    const body = `{"jsonrpc":"2.0","id":41,"method":"tools/call","params":{"name":"fn___record","arguments":{"ticket":"T-3","a":${nestedText(10_000)}}}}`;
    await expectRefused(async () => {
      const answer = await post(body);
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.json, { jsonrpc: '2.0', id: 41, error: { code: -32600, message: 'JSON nested deeper than 64 levels is refused; send flatter tool arguments (the JSON-RPC message counts as level 1)' } });
    }, { tool: 'fn___record', reason: /deeper than 64 levels/ });
  });

  test('one level past the limit is refused through the SDK client as an McpError', async () => {
    const tooDeep = JSON.parse(`{"ticket":"T-4","a":${nestedText(62)}}`) as Record<string, unknown>;
    await expectRefused(
      () => assert.rejects(client.callTool({ name: 'up___echo', arguments: tooDeep }), (error: unknown) => error instanceof McpError && error.code === -32600 && /64 levels/.test(error.message)),
      { tool: 'up___echo', reason: /64 levels/ },
    );
  });

  test('deep nesting is refused the same way on the stateless revision and in a batch (SDK server path)', async () => {
    const call = (id: number, tool: string): string => `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"${tool}","arguments":{"ticket":"T-5","a":${nestedText(10_000)}}}}`;
    await expectRefused(async () => {
      const answer = await post(call(42, 'up___echo'), statelessHeaders('up___echo'));
      assert.equal(answer.status, 200);
      assert.deepEqual((answer.json as { id: unknown; error: { code: number } }).id, 42);
      assert.equal((answer.json as { error: { code: number } }).error.code, -32600);
    }, { tool: 'up___echo', reason: /64 levels/ });
    await expectRefused(async () => {
      const answer = await post(`[${call(43, 'fn___record')}]`);
      assert.equal(answer.status, 400);
      assert.deepEqual(answer.json, { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'JSON nested deeper than 64 levels is refused; send flatter tool arguments (the JSON-RPC message counts as level 1)' } });
    }, { tool: 'fn___record', reason: /64 levels/ });
  });

  test('a megabyte of open brackets is refused quickly without parsing it', async () => {
    const levels = 500_000;
    const body = `{"jsonrpc":"2.0","id":44,"method":"tools/call","params":{"name":"fn___record","arguments":{"ticket":"T-6","a":${'['.repeat(levels)}${']'.repeat(levels)}}}}`;
    const started = performance.now();
    await expectRefused(async () => {
      const answer = await post(body);
      assert.equal((answer.json as { error: { code: number } }).error.code, -32600);
    }, { tool: 'fn___record', reason: /64 levels/ });
    assert.ok(performance.now() - started < 2000, 'answered within 2 s');
  });

  for (const [key, argumentsText] of [
    ['__proto__', '{"ticket":"T-7","__proto__":{"polluted":true}}'],
    ['constructor', '{"ticket":"T-7","constructor":{"prototype":{"polluted":true}}}'],
    ['prototype', '{"ticket":"T-7","nested":[{"prototype":{"polluted":true}}]}'],
  ] as const) {
    test(`a "${key}" key in the arguments gets -32602 naming the key, never a schema dump`, async () => {
      const args = JSON.parse(argumentsText) as Record<string, unknown>; // JSON.parse makes it an own key, as the wire does
      await expectRefused(
        () =>
          assert.rejects(client.callTool({ name: 'fn___record', arguments: args }), (error: unknown) => {
            assert.ok(error instanceof McpError);
            assert.equal(error.code, -32602);
            assert.match(error.message, new RegExp(`The key "${key}" \\(at params\\.arguments\\.[^)]*${key}\\) is not accepted in a message; rename it`));
            assertNoInternals(error.message);
            return true;
          }),
        { tool: 'fn___record', reason: new RegExp(key) },
      );
    });
  }

  test('a "__proto__" key in the params themselves is refused on every path, with no schema dump', async () => {
    const body = (id: number): string => `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"__proto__":{"name":"fn___record","arguments":{"ticket":"T-8"}}}}`;
    const expected = (id: number | null, at = 'params.__proto__') => ({ jsonrpc: '2.0', id, error: { code: -32602, message: `The key "__proto__" (at ${at}) is not accepted in a message; rename it` } });
    await expectRefused(async () => assert.deepEqual((await post(body(45))).json, expected(45)), { tool: '', reason: /__proto__/ });
    await expectRefused(async () => assert.deepEqual((await post(`[${body(46)}]`)).json, expected(null, '[0].params.__proto__')), { tool: '', reason: /__proto__/ });
    await expectRefused(async () => assert.deepEqual((await post(body(47), statelessHeaders('fn___record'))).json, expected(47)), { tool: '', reason: /__proto__/ });
  });

  test('a "__proto__" key spelled with escapes is judged after decoding and refused', async () => {
    // "\u005f_proto__" decodes to "__proto__": a check on the raw text would miss it
    const body = '{"jsonrpc":"2.0","id":49,"method":"tools/call","params":{"name":"fn___record","arguments":{"ticket":"T-8","\\u005f_pro\\u0074o__":{"polluted":true}}}}';
    await expectRefused(async () => {
      const answer = await post(body);
      assert.deepEqual(answer.json, { jsonrpc: '2.0', id: 49, error: { code: -32602, message: 'The key "__proto__" (at params.arguments.__proto__) is not accepted in a message; rename it' } });
    }, { tool: 'fn___record', reason: /__proto__/ });
  });

  for (const [problem, params, at] of [
    ['arguments that are not an object', '{"name":"fn___record","arguments":"ticket"}', 'params.arguments'],
    ['a tool name that is not a string', '{"name":5,"arguments":{"ticket":"T-9"}}', 'params.name'],
    ['no tool name', '{"arguments":{"ticket":"T-9"}}', 'params.name'],
  ] as const) {
    test(`tools/call with ${problem} gets a short -32602 naming ${at}`, async () => {
      await expectRefused(async () => {
        const answer = await post(`{"jsonrpc":"2.0","id":48,"method":"tools/call","params":${params}}`);
        assert.deepEqual(answer.json, { jsonrpc: '2.0', id: 48, error: { code: -32602, message: `Invalid tools/call params at ${at}: send {"name": "<a tool from tools/list>", "arguments": {<an object>}}` } });
        assertNoInternals(answer.text);
      }, { tool: problem === 'arguments that are not an object' ? 'fn___record' : '', reason: new RegExp(at.replace('.', '\\.')) });
    });
  }

  test('a Cedar DENY names the fix but not the policy file, on every path; the file is in the server log only', async () => {
    const message = "Policy decision DENY for fn___record: no policy permits it (default deny). Ask an administrator of gateway default to permit it in the gateway's Cedar policy";
    const denial = { code: -32003, message, data: { decision: 'DENY', policies: [] } };
    const receivedBefore = received.length;
    const rowsBefore = await rowCount();
    const logBefore = stack.logs().length;
    await assert.rejects(client.callTool({ name: 'fn___record', arguments: { note: 'no ticket' } }), (error: unknown) => {
      assert.ok(error instanceof McpError);
      assert.deepEqual({ code: error.code, message: error.message, data: error.data }, { code: -32003, message: `MCP error -32003: ${message}`, data: denial.data });
      return true;
    });
    const call = (id: number): string => `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"fn___record","arguments":{"note":"no ticket"}}}`;
    // the SDK server path (a batch of one, answered as one message) and the stateless revision give the same error
    assert.deepEqual((await post(`[${call(50)}]`)).json, { jsonrpc: '2.0', id: 50, error: denial });
    assert.deepEqual((await post(call(51), statelessHeaders('fn___record'))).json, { jsonrpc: '2.0', id: 51, error: denial });
    assert.equal(received.length, receivedBefore, 'the target received nothing');
    const rows = await rowsAfter(rowsBefore);
    assert.deepEqual(rows.map((row) => [row.user, row.tool, row.decision, row.outcome]), [0, 1, 2].map(() => ['mallory', 'fn___record', 'deny', 'denied']));
    const log = stack.logs().slice(logBefore);
    assert.ok(log.includes(path.join(dataDir, 'policies', 'default.cedar')), 'the administrator finds the file in the server log');
    assert.doesNotMatch(log, /\n\s+at |"stack"/);
  });

  test('a policy file removed while running keeps the last good policy on every path; the log says so once, with the path', async () => {
    const file = path.join(dataDir, 'policies', 'default.cedar');
    const logBefore = stack.logs().length;
    renameSync(file, `${file}.away`);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1100)); // the file is looked at once a second
      const call = (id: number, args: string): string => `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"fn___record","arguments":${args}}}`;
      const denial = { code: -32003, message: "Policy decision DENY for fn___record: no policy permits it (default deny). Ask an administrator of gateway default to permit it in the gateway's Cedar policy", data: { decision: 'DENY', policies: [] } };
      const receivedBefore = received.length;
      for (const [id, headers, batch] of [[60, undefined, false], [62, undefined, true], [64, statelessHeaders('fn___record'), false]] as const) {
        const wrap = (text: string): string => (batch ? `[${text}]` : text);
        const allowed = (await post(wrap(call(id, '{"ticket":"T-10"}')), headers)).json as { result?: { structuredContent?: unknown } };
        assert.deepEqual(allowed.result?.structuredContent, { recorded: true }, `call ${id} allowed by the last good policy`);
        assert.deepEqual((await post(wrap(call(id + 1, '{"note":"no ticket"}')), headers)).json, { jsonrpc: '2.0', id: id + 1, error: denial });
        await new Promise((resolve) => setTimeout(resolve, 1100)); // the engine looks again and again finds no file
      }
      assert.equal(received.length, receivedBefore + 3, 'only the calls with a ticket reached the target');
      const log = stack.logs().slice(logBefore);
      assert.equal(log.split(`Policy file ${file} cannot be read (ENOENT)`).length - 1, 1, 'told once, not once a second');
      assert.doesNotMatch(log, /\n\s+at |"stack":"[^"]/);
    } finally {
      renameSync(`${file}.away`, file);
    }
  });
});

test('an unexpected failure maps to a fixed -32603 message and is handed over for the log', () => {
  const seen: unknown[] = [];
  const failure = new RangeError('Maximum call stack size exceeded');
  assert.deepEqual(toJsonRpcError(failure, (error) => seen.push(error)), { code: -32603, message: 'Internal error in the gateway; the call was not completed. Retry, and report it to the administrator if it persists' });
  assert.deepEqual(seen, [failure]);
});
