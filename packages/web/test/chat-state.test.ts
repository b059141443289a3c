import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chatErrorFromStatus, refusedDespiteRefresh } from '../src/chat-error.ts';
import { chatReducer, displaySummary, splitToolName, toolAccount, type Entry } from '../src/chat-state.ts';
import { extractAccounts } from '../src/extract-accounts.ts';
import { isSessionId, newSessionId } from '../src/session-id.ts';
import { toMarkdown } from '../src/to-markdown.ts';

const strip = (entries: readonly Entry[]) => entries.map(({ role, parts, done }) => ({ role, parts, done }));

test('a turn streams text, pairs a tool result with its call, and does not repeat the final message', () => {
  let state = chatReducer([], { type: 'ask', prompt: 'List S3 buckets in the Production account' });
  state = chatReducer(state, { type: 'event', event: { type: 'tool-call', id: 'c1', name: 'ops___call_aws', arguments: { account: 'Production' } } });
  state = chatReducer(state, { type: 'event', event: { type: 'tool-result', id: 'c1', name: 'ops___call_aws', ok: true, summary: '2 buckets', result: ['a', 'b'] } });
  state = chatReducer(state, { type: 'event', event: { type: 'text-delta', delta: 'Found ' } });
  state = chatReducer(state, { type: 'event', event: { type: 'text-delta', delta: '2 buckets' } });
  state = chatReducer(state, { type: 'event', event: { type: 'message', text: 'Found 2 buckets' } });
  state = chatReducer(state, { type: 'finish' });
  assert.deepEqual(strip(state), [
    { role: 'user', parts: [{ kind: 'text', text: 'List S3 buckets in the Production account' }], done: true },
    {
      role: 'assistant',
      parts: [
        { kind: 'tool', tool: { id: 'c1', name: 'ops___call_aws', arguments: { account: 'Production' }, status: 'ok', summary: '2 buckets', result: ['a', 'b'] } },
        { kind: 'text', text: 'Found 2 buckets' },
      ],
      done: true,
    },
  ]);
});

test('a final message with no deltas is shown, and a refused tool is marked refused', () => {
  let state = chatReducer([], { type: 'ask', prompt: 'write' });
  state = chatReducer(state, { type: 'event', event: { type: 'tool-call', id: 'c1', name: 'ops___bucket_objects_put', arguments: { accountName: 'Staging' } } });
  state = chatReducer(state, { type: 'event', event: { type: 'tool-result', id: 'c1', name: 'ops___bucket_objects_put', ok: false, summary: 'AccessDenied' } });
  state = chatReducer(state, { type: 'event', event: { type: 'message', text: 'Not allowed.' } });
  const parts = state.at(-1)?.parts;
  assert.deepEqual(parts, [
    { kind: 'tool', tool: { id: 'c1', name: 'ops___bucket_objects_put', arguments: { accountName: 'Staging' }, status: 'refused', summary: 'AccessDenied' } },
    { kind: 'text', text: 'Not allowed.' },
  ]);
});

test('a turn that ends in an agent error leaves no tool spinning, and a reload settles a half-streamed turn', () => {
  let state = chatReducer([], { type: 'ask', prompt: 'List S3 buckets in the Production account' });
  state = chatReducer(state, { type: 'event', event: { type: 'tool-call', id: 'c1', name: 'ops___call_aws', arguments: { account: 'Production' } } });
  const halfway = chatReducer([], { type: 'load', entries: state });
  assert.deepEqual(
    halfway.at(-1)?.parts.map((part) => (part.kind === 'tool' ? part.tool.status : part.kind)),
    ['unfinished'],
  );
  assert.equal(halfway.at(-1)?.done, true);
  state = chatReducer(state, { type: 'event', event: { type: 'error', code: 'GatewayUnreachable', message: 'Cannot reach the gateway.', fix: 'Start it.' } });
  assert.deepEqual(state.at(-1)?.parts, [
    { kind: 'tool', tool: { id: 'c1', name: 'ops___call_aws', arguments: { account: 'Production' }, status: 'unfinished' } },
    {
      kind: 'error',
      error: { code: 'GatewayUnreachable', title: 'The agent reported a problem', message: 'Cannot reach the gateway.', fix: 'Start it.', action: 'retry', errorType: 'GatewayUnreachable' },
    },
  ]);
});

test('HTTP failures become errors that say what to do, with the action the UI offers', () => {
  const cases = [
    [401, 'UnauthorizedException', 'signin_expired', 'sign-in'],
    [403, 'AccessDeniedException', 'access_denied', 'none'],
    [429, 'ThrottlingException', 'throttled', 'retry'],
    [424, 'RuntimeClientError', 'agent_failed', 'retry'],
    [500, 'InternalServerException', 'server_error', 'retry'],
  ] as const;
  for (const [status, type, code, action] of cases) {
    const error = chatErrorFromStatus(status, 'msg', type, { retryAfter: '30' });
    assert.equal(error.code, code);
    assert.equal(error.action, action);
    assert.equal(error.message, 'msg');
    assert.ok(error.fix && error.fix.length > 10, `${status} has a fix`);
  }
  assert.match(chatErrorFromStatus(429, '', 'ThrottlingException', { retryAfter: '30' }).fix ?? '', /30 seconds/);
  // AgentCore refuses a presented-but-bad token with 403; the bearer challenge marks it as a sign-in problem.
  assert.equal(chatErrorFromStatus(403, 'Token has expired', 'AccessDeniedException', { wwwAuthenticate: 'Bearer error="invalid_token"' }).code, 'signin_expired');
  assert.equal(chatErrorFromStatus(403, "Claim 'client_id' mismatch", 'AccessDeniedException', { wwwAuthenticate: 'Bearer error="insufficient_scope"' }).code, 'access_denied');
  // The same 403 again with a freshly refreshed token means the token lacks a right, not freshness.
  const again = refusedDespiteRefresh(chatErrorFromStatus(403, "Claim 'cognito:groups' mismatch", 'AccessDeniedException', { wwwAuthenticate: 'Bearer error="invalid_token"' }));
  assert.equal(again.code, 'access_denied');
  assert.equal(again.message, "Claim 'cognito:groups' mismatch");
  assert.equal(refusedDespiteRefresh(chatErrorFromStatus(401, 'Missing token', 'UnauthorizedException')).code, 'signin_expired');
  let state = chatReducer([], { type: 'ask', prompt: 'hi' });
  state = chatReducer(state, { type: 'fail', error: chatErrorFromStatus(403, 'Claim client_id mismatch', 'AccessDeniedException') });
  const last = state.at(-1);
  assert.equal(last?.done, true);
  assert.equal(last?.prompt, 'hi');
  assert.deepEqual(last?.parts[0], {
    kind: 'error',
    error: {
      code: 'access_denied',
      title: 'The runtime refused this request',
      message: 'Claim client_id mismatch',
      action: 'none',
      fix: chatErrorFromStatus(403, '', undefined).fix,
      errorType: 'AccessDeniedException',
    },
  });
});

test('finds the account list in a list_accounts result in its usual wrappings', () => {
  const accounts = [
    { accountId: '111111111111', name: 'Production', environment: 'prod', roleName: 'R', enabled: true },
    { accountId: '222222222222', name: 'Staging', environment: 'staging', roleName: 'R', enabled: true },
  ];
  const expected = [
    { name: 'Production', accountId: '111111111111', description: 'prod' },
    { name: 'Staging', accountId: '222222222222', description: 'staging' },
  ];
  assert.deepEqual(extractAccounts({ accounts }), expected);
  assert.deepEqual(extractAccounts({ content: [{ type: 'text', text: JSON.stringify({ accounts }) }] }), expected);
  assert.deepEqual(extractAccounts({ structuredContent: { accounts } }), expected);
  assert.equal(extractAccounts({ content: [{ type: 'text', text: 'no json here' }] }), undefined);
});

test('session ids are long enough for AgentCore and unique', () => {
  const ids = new Set(Array.from({ length: 100 }, newSessionId));
  assert.equal(ids.size, 100);
  for (const id of ids) {
    assert.ok(id.length >= 33 && id.length <= 100, `length ${id.length}`);
    assert.ok(isSessionId(id));
  }
  assert.equal(isSessionId('short'), false);
});

test('tool names and accounts are split out for display; bullets become list items', () => {
  assert.deepEqual(splitToolName('ops___call_aws'), { target: 'ops', tool: 'call_aws' });
  assert.deepEqual(splitToolName('plain'), { target: undefined, tool: 'plain' });
  assert.equal(toolAccount({ account: 'Production', service: 's3' }), 'Production');
  assert.equal(toolAccount({ service: 's3' }), undefined);
  assert.equal(toMarkdown('Found 2:\n• a\n• b'), 'Found 2:\n- a\n- b');
});

test('a tool summary that is raw JSON is replaced by a description of the result', () => {
  const result = { account: 'Production', result: { Buckets: [{ Name: 'prod-app-logs' }, { Name: 'prod-backups' }] } };
  assert.equal(displaySummary(JSON.stringify(result), result), '2 items: prod-app-logs, prod-backups');
  assert.equal(displaySummary('{"truncated…', undefined), 'Returned data (see Details).');
  assert.equal(displaySummary('Listed 2 buckets', result), 'Listed 2 buckets');
  assert.equal(displaySummary(undefined, { items: Array.from({ length: 7 }, (_, index) => ({ key: `k${index}` })) }), '7 items: k0, k1, k2, k3, k4, …');
  assert.equal(displaySummary(undefined, undefined), undefined);
});
