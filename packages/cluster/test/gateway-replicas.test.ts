import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createAppServer, closeServer, createLogger, listen, parseConfig, systemClock, type Platform } from '@gatehouse/core';
import { createGateway, type GatewayService } from '@gatehouse/gateway';
import { RedisStore } from '@gatehouse/cluster';
import { startTestIssuer, type TestIssuer } from '@gatehouse/testing/test-issuer';
import { startRedisServer, type RedisServer } from '@gatehouse/testing/redis-server';

interface Replica {
  readonly name: string;
  readonly url: string;
  readonly calls: string[];
  close(): Promise<void>;
}

let redis: RedisServer;
let issuer: TestIssuer;
let dataDir: string;
let replicas: Replica[] = [];

async function startReplica(name: string): Promise<Replica> {
  const logger = createLogger({ level: 'silent' });
  const store = new RedisStore(redis.url, { logger, keyPrefix: 'gatehouse:', maxReconnectDelayMs: 100 });
  await store.connect();
  const calls: string[] = [];
  const gatewayConfig = {
    name: 'default',
    authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: issuer.discoveryUrl, allowedClients: ['test-client'] } },
    targets: [{ name: 'fn', targetConfiguration: { mcp: { lambda: { module: 'test:whoami' } } } }],
  };
  const config = parseConfig({ gateways: [gatewayConfig] }, 'test');
  const platform: Platform = { config, dataDir, baseUrl: 'http://127.0.0.1', logger, clock: systemClock, store };
  const gateway: GatewayService = await createGateway(platform, {
    functions: {
      // Each replica answers with its own name, so the test sees which instance served a call.
      'test:whoami': {
        toolSchema: [{ name: 'whoami', inputSchema: { type: 'object' as const } }],
        handler: async () => {
          calls.push(name);
          return { servedBy: name };
        },
      },
    },
  });
  const server: Server = createAppServer([gateway], logger);
  const port = await listen(server, 0);
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    calls,
    async close() {
      await closeServer(server);
      await gateway.close();
      await store.close();
    },
  };
}

/** A fetch that sends each request to the next replica in turn: a round-robin balancer inside the official client. */
function roundRobin(targets: readonly Replica[]): typeof fetch {
  let next = 0;
  return (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const target = new URL(targets[next++ % targets.length]!.url);
    url.host = target.host;
    return fetch(url, init);
  };
}

async function connect(token: string, fetchVia: typeof fetch): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name: 'cluster-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${replicas[0]!.url}/mcp`), { fetch: fetchVia, requestInit: { headers: { authorization: `Bearer ${token}` } } });
  await client.connect(transport);
  return { client, transport };
}

before(async () => {
  redis = await startRedisServer();
  issuer = await startTestIssuer();
  dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-gateway-replicas-'));
  replicas = [await startReplica('gateway-a'), await startReplica('gateway-b')];
});

after(async () => {
  await Promise.allSettled(replicas.map((replica) => replica.close()));
  await issuer?.close();
  await redis?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('an MCP session behind a round-robin balancer is served by both gateway replicas through Redis', async () => {
  const { client } = await connect(issuer.sign({ sub: 'alice' }), roundRobin(replicas));
  try {
    const served: unknown[] = [];
    for (let index = 0; index < 4; index++) {
      const result = await client.callTool({ name: 'fn___whoami', arguments: {} });
      assert.equal(result.isError, undefined, JSON.stringify(result));
      served.push((result.structuredContent as { servedBy: string }).servedBy);
    }
    assert.deepEqual([...new Set(served)].sort(), ['gateway-a', 'gateway-b']);
  } finally {
    await client.close();
  }
});

test('refuses the session to another principal on the other replica, and the tool never runs', async () => {
  const { client, transport } = await connect(issuer.sign({ sub: 'alice' }), roundRobin([replicas[0]!]));
  try {
    const before = replicas.map((replica) => replica.calls.length);
    const intrusion = await fetch(`${replicas[1]!.url}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${issuer.sign({ sub: 'mallory' })}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': transport.sessionId!,
        'mcp-protocol-version': '2025-06-18',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'fn___whoami', arguments: {} } }),
    });
    assert.equal(intrusion.status, 404);
    assert.deepEqual(replicas.map((replica) => replica.calls.length), before);
  } finally {
    await client.close();
  }
});

test('fails closed while Redis is down (503 on a session it cannot check), with no tool run, and serves again when it returns', async () => {
  const token = issuer.sign({ sub: 'bob' });
  const { client, transport } = await connect(token, roundRobin(replicas));
  const sessionId = transport.sessionId!;
  await redis.kill();
  const before = replicas.map((replica) => replica.calls.length);
  for (const replica of replicas) {
    const refused = await fetch(`${replica.url}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': sessionId,
        'mcp-protocol-version': '2025-06-18',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'fn___whoami', arguments: {} } }),
    });
    assert.equal(refused.status, 503, `${replica.name}: ${await refused.text()}`);
  }
  // A new session cannot be bound to its user either: refused with 503, not opened unbound.
  await assert.rejects(connect(token, roundRobin(replicas)));
  const initialize = await fetch(`${replicas[0]!.url}/mcp`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
  });
  assert.equal(initialize.status, 503, `initialize while Redis is down: ${await initialize.text()}`);
  assert.deepEqual(replicas.map((replica) => replica.calls.length), before);
  await client.close().catch(() => undefined);
  await redis.restart();
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const again = await connect(token, roundRobin(replicas));
      const result = await again.client.callTool({ name: 'fn___whoami', arguments: {} });
      assert.equal(result.isError, undefined);
      await again.client.close();
      break;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
});
