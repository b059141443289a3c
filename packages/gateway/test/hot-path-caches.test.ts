// The hot path's shortcuts must not change what the gateway decides or records: Cedar `call`
// decisions are memoized only while no policy reads `context`, and audit rows written in batches
// are all on disk once the gateway has closed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { startTestIssuer, type TestIssuer } from '@gatehouse/testing/test-issuer';
import { temporaryDirectory } from '@gatehouse/testing/temporary-directory';
import { AuditLog } from '../src/audit-log.ts';
import type { GatewayDeps } from '../src/index.ts';
import { connectClient, startGatewayStack } from '@gatehouse/testing/gateway-stack';

const CONTEXT_POLICY = `@id("public-bucket-only")
permit (principal, action == Gatehouse::Action::"call", resource) when { context.arguments.bucket == "public" };
@id("everyone-lists")
permit (principal, action == Gatehouse::Action::"list", resource);
`;

describe('hot-path caches keep decisions and records exact', () => {
  const dataDir = temporaryDirectory('gatehouse-hot-path-');
  let issuer: TestIssuer;
  const received: unknown[] = [];
  const functions: NonNullable<GatewayDeps['functions']> = {
    'test:buckets': {
      toolSchema: [{ name: 'bucket_read', inputSchema: { type: 'object' as const, properties: { bucket: { type: 'string' } } } }],
      async handler(event: unknown) {
        received.push(event);
        return { read: (event as { bucket: string }).bucket };
      },
    },
  };
  const gateway = (jwt: object) => ({
    name: 'default',
    authorizerConfiguration: { customJWTAuthorizer: jwt },
    limits: { maxRequestBytes: 100_000, requestsPerMinutePerPrincipal: 100_000 },
    targets: [{ name: 'fn', targetConfiguration: { mcp: { lambda: { module: 'test:buckets' } } } }],
  });

  before(async () => {
    issuer = await startTestIssuer();
  });

  after(() => issuer.close());

  test('a policy that reads context.arguments decides every call by its own arguments', async () => {
    mkdirSync(path.join(dataDir, 'policies'), { recursive: true });
    writeFileSync(path.join(dataDir, 'policies', 'default.cedar'), CONTEXT_POLICY);
    const stack = await startGatewayStack([gateway({ discoveryUrl: issuer.discoveryUrl, allowedClients: ['test-client'] })], { functions }, { dataDir });
    const { client } = await connectClient(`${stack.baseUrl}/mcp`, issuer.sign({ sub: 'alice' }));
    try {
      received.length = 0;
      const denied = (error: unknown): boolean => error instanceof McpError && error.code === -32003 && /no policy permits it/.test(error.message);
      assert.deepEqual((await client.callTool({ name: 'fn___bucket_read', arguments: { bucket: 'public' } })).structuredContent, { read: 'public' });
      await assert.rejects(client.callTool({ name: 'fn___bucket_read', arguments: { bucket: 'private' } }), denied);
      assert.deepEqual((await client.callTool({ name: 'fn___bucket_read', arguments: { bucket: 'public' } })).structuredContent, { read: 'public' });
      await assert.rejects(client.callTool({ name: 'fn___bucket_read', arguments: { bucket: 'private' } }), denied);
      // the function saw the allowed calls only
      assert.deepEqual(received, [{ bucket: 'public' }, { bucket: 'public' }]);
    } finally {
      await client.close();
      await stack.close();
    }
  });

  test('every answered call has its audit row once the gateway has closed, even when closed right after the answers', async () => {
    writeFileSync(path.join(dataDir, 'policies', 'default.cedar'), CONTEXT_POLICY);
    const stack = await startGatewayStack([gateway({ discoveryUrl: issuer.discoveryUrl, allowedClients: ['test-client'] })], { functions }, { dataDir });
    const { client } = await connectClient(`${stack.baseUrl}/mcp`, issuer.sign({ sub: 'bob' }));
    const buckets = Array.from({ length: 25 }, (_, index) => (index % 5 === 0 ? 'private' : 'public'));
    const answers = await Promise.allSettled(buckets.map((bucket) => client.callTool({ name: 'fn___bucket_read', arguments: { bucket } })));
    await client.close();
    await stack.close();
    const log = await AuditLog.open({ dataDir });
    try {
      const rows = await log.query({ user: 'bob', limit: 1000 });
      const tally = (rowsOrAnswers: string[]): Record<string, number> => rowsOrAnswers.reduce<Record<string, number>>((counts, key) => ({ ...counts, [key]: (counts[key] ?? 0) + 1 }), {});
      assert.deepEqual(tally(rows.map((row) => row.outcome)), tally(answers.map((answer) => (answer.status === 'fulfilled' ? 'ok' : 'denied'))));
      assert.equal(rows.length, 25);
    } finally {
      await log.close();
    }
  });
});
