import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CognitoIdentityProviderClient, InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { SpanKind, closeServer, createLogger, extractTraceContext, injectTraceContext, listen, startSpan, startTracing } from '@gatehouse/core';
import { startGatehouse, type RunningGatehouse } from '@gatehouse/cli';

/** One span as the OTLP/HTTP JSON export carries it, with its service. */
interface CollectedSpan {
  readonly service: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: number;
  readonly attributes: Record<string, unknown>;
}

const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CLIENT = 3;
const SESSION = (suffix: string): string => `tracing-session-${suffix}-${'t'.repeat(40)}`;
const JWT_SHAPE = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\./;

const servers: Server[] = [];
const running: RunningGatehouse[] = [];
after(async () => {
  for (const gatehouse of running) await gatehouse.close();
  await Promise.all(servers.map((server) => closeServer(server)));
});

async function readAll(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** OTLP JSON ids are hex; accept base64 too (the protobuf-JSON default) so the test checks values, not encoding. */
function hexId(value: unknown): string {
  if (typeof value !== 'string' || value === '') return '';
  return /^[0-9a-f]+$/i.test(value) ? value.toLowerCase() : Buffer.from(value, 'base64').toString('hex');
}

function attributeValue(value: Record<string, unknown> | undefined): unknown {
  if (!value) return undefined;
  return value.stringValue ?? value.intValue ?? value.boolValue ?? value.doubleValue ?? value.arrayValue;
}

/** A loopback OTLP/HTTP collector: keeps every POST /v1/traces body raw and as spans. */
async function startCollector(): Promise<{ url: string; bodies: string[]; spans: CollectedSpan[] }> {
  const bodies: string[] = [];
  const spans: CollectedSpan[] = [];
  const server = createServer((request, response) => {
    void readAll(request).then((body) => {
      if (request.method !== 'POST' || request.url !== '/v1/traces') {
        response.writeHead(404).end();
        return;
      }
      bodies.push(body);
      const document = JSON.parse(body) as { resourceSpans?: Array<{ resource?: { attributes?: Array<{ key: string; value: Record<string, unknown> }> }; scopeSpans?: Array<{ spans?: Array<Record<string, unknown>> }> }> };
      for (const resourceSpans of document.resourceSpans ?? []) {
        const service = String(attributeValue(resourceSpans.resource?.attributes?.find((attribute) => attribute.key === 'service.name')?.value) ?? '');
        for (const scope of resourceSpans.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) {
            const attributes: Record<string, unknown> = {};
            for (const attribute of (span.attributes ?? []) as Array<{ key: string; value: Record<string, unknown> }>) attributes[attribute.key] = attributeValue(attribute.value);
            spans.push({ service, traceId: hexId(span.traceId), spanId: hexId(span.spanId), parentSpanId: hexId(span.parentSpanId), name: String(span.name), kind: Number(span.kind), attributes });
          }
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  servers.push(server);
  const port = await listen(server, 0);
  return { url: `http://127.0.0.1:${port}`, bodies, spans };
}

const INVENTORY_OPENAPI = JSON.stringify({
  openapi: '3.0.3',
  info: { title: 'Inventory', version: '1' },
  paths: { '/accounts': { get: { operationId: 'list_accounts', summary: 'List the accounts in the inventory' } } },
});

/** The HTTP API behind the gateway's OpenAPI target: records the `traceparent` of each request it gets. */
async function startInventoryApi(): Promise<{ url: string; traceparents: Array<string | undefined> }> {
  const traceparents: Array<string | undefined> = [];
  const server = createServer((request, response) => {
    traceparents.push(typeof request.headers.traceparent === 'string' ? request.headers.traceparent : undefined);
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ accounts: [{ name: 'Traced', id: '111122223333' }] }));
  });
  servers.push(server);
  const port = await listen(server, 0);
  return { url: `http://127.0.0.1:${port}`, traceparents };
}

/** A free loopback port: the issuer URL in the gateway's config must name the port before Gatehouse starts. */
async function freePort(): Promise<number> {
  const probe = createServer();
  const port = await listen(probe, 0);
  await closeServer(probe);
  return port;
}

async function startTracedGatehouse(targetUrl: string, env: NodeJS.ProcessEnv): Promise<RunningGatehouse> {
  const port = await freePort();
  const poolId = 'local_tracing';
  const gatehouse = await startGatehouse({
    dataDir: mkdtempSync(path.join(tmpdir(), 'gh-tracing-')),
    port,
    logger: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    env,
    config: {
      identity: {
        userPools: [
          { poolName: 'default', userPoolId: poolId, clients: [{ clientName: 'web', clientId: 'tracingweb', explicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'] }] },
        ],
      },
      tools: { sandbox: { enabled: false } },
      gateways: [
        {
          name: 'default',
          authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: `http://localhost:${port}/${poolId}/.well-known/openid-configuration`, allowedClients: ['tracingweb'] } },
          targets: [{ name: 'inventory', targetConfiguration: { mcp: { openApiSchema: { inlinePayload: INVENTORY_OPENAPI }, baseUrl: targetUrl } } }],
        },
      ],
    },
  });
  running.push(gatehouse);
  return gatehouse;
}

async function signIn(gatehouse: RunningGatehouse): Promise<string> {
  assert.ok(gatehouse.firstRun, 'a fresh data dir creates the admin user');
  const cognito = new CognitoIdentityProviderClient({ endpoint: gatehouse.url, region: gatehouse.config.region, credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' } });
  try {
    const result = await cognito.send(
      new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: 'tracingweb', AuthParameters: { USERNAME: gatehouse.firstRun.username, PASSWORD: gatehouse.firstRun.password } }),
    );
    const token = result.AuthenticationResult?.AccessToken;
    assert.ok(token, 'InitiateAuth returned an access token');
    return token;
  } finally {
    cognito.destroy();
  }
}

/** Invokes the default runtime with the caller's own `traceparent`; returns the SSE text once the stream ends. */
async function invokeWithTrace(gatehouse: RunningGatehouse, token: string, traceparent: string, session: string): Promise<string> {
  const response = await fetch(`${gatehouse.url}/runtimes/${encodeURIComponent(gatehouse.settings.runtimeArn)}/invocations?qualifier=DEFAULT`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'text/event-stream',
      traceparent,
      'x-amzn-bedrock-agentcore-runtime-session-id': session,
    },
    body: JSON.stringify({ prompt: 'List my accounts' }),
  });
  const text = await response.text();
  assert.equal(response.status, 200, text);
  assert.match(text, /event: tool-call\ndata: .*"name":"inventory___list_accounts"/, `the agent calls the inventory tool through the gateway:\n${text}`);
  assert.match(text, /event: tool-result\ndata: .*"ok":true/, `the tool call succeeds:\n${text}`);
  return text;
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function one(spans: readonly CollectedSpan[], description: string, match: (span: CollectedSpan) => boolean): CollectedSpan {
  const found = spans.filter(match);
  assert.equal(found.length, 1, `exactly one ${description} span; got ${found.length} among ${JSON.stringify(spans.map((span) => `${span.service}:${span.name}`))}`);
  return found[0]!;
}

test('one trace runs from the caller through runtime, agent process and gateway to the HTTP target, exported over OTLP/HTTP without any token', async () => {
  const collector = await startCollector();
  const inventory = await startInventoryApi();
  // OTEL_BSP_SCHEDULE_DELAY reaches the agent process too, so its spans arrive within the test's patience.
  const gatehouse = await startTracedGatehouse(inventory.url, { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_BSP_SCHEDULE_DELAY: '100' });
  // Tracing is per process: this instance stops even when an assertion fails, so the next test runs with tracing off.
  try {
    const token = await signIn(gatehouse);
    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');

    await invokeWithTrace(gatehouse, token, `00-${traceId}-${callerSpanId}-01`, SESSION('on'));

    const isTargetCall = (span: CollectedSpan): boolean => span.service === 'gatehouse' && span.name === 'call inventory';
    const isAgentTool = (span: CollectedSpan): boolean => span.service === 'gatehouse-agent' && span.name === 'execute_tool inventory___list_accounts';
    // Each process exports on its own schedule; the agent's invocation span ends (and leaves) last of its process.
    const isAgentInvocation = (span: CollectedSpan): boolean => span.service === 'gatehouse-agent' && span.name === 'invoke_agent';
    await waitFor('the runtime, agent and gateway spans', () =>
      [isTargetCall, isAgentTool, isAgentInvocation, (span: CollectedSpan) => span.name === 'InvokeAgentRuntime'].every((wanted) => collector.spans.some(wanted)) ? true : undefined,
    );
    const spans = collector.spans;

    // Every exported span belongs to the caller's trace.
    assert.deepEqual([...new Set(spans.map((span) => span.traceId))], [traceId], JSON.stringify(spans.filter((span) => span.traceId !== traceId)));

    // runtime (gatehouse) → agent (gatehouse-agent, another process) → gateway (gatehouse) → target: one parent chain.
    const runtimeServer = one(spans, 'runtime SERVER', (span) => span.name === 'InvokeAgentRuntime');
    assert.equal(runtimeServer.service, 'gatehouse');
    assert.equal(runtimeServer.kind, SPAN_KIND_SERVER);
    assert.equal(runtimeServer.parentSpanId, callerSpanId, 'the runtime continues the caller\'s span');
    assert.equal(runtimeServer.attributes['gatehouse.runtime.arn'], gatehouse.settings.runtimeArn);
    assert.equal(runtimeServer.attributes['http.response.status_code'], 200);

    const runtimeClient = one(spans, 'runtime CLIENT', (span) => span.name === 'agent /invocations');
    assert.equal(runtimeClient.kind, SPAN_KIND_CLIENT);
    assert.equal(runtimeClient.parentSpanId, runtimeServer.spanId);

    const agentServer = one(spans, 'agent invocation', (span) => span.service === 'gatehouse-agent' && span.name === 'invoke_agent');
    assert.equal(agentServer.parentSpanId, runtimeClient.spanId, 'the agent continues the runtime\'s CLIENT span, not the caller\'s header');
    assert.equal(agentServer.attributes['gatehouse.session.id'], SESSION('on'));
    const modelCalls = spans.filter((span) => span.service === 'gatehouse-agent' && span.name.startsWith('chat '));
    assert.equal(modelCalls.length, 2, 'one span per model call: plan the tool call, then word the answer');
    for (const modelCall of modelCalls) assert.equal(modelCall.parentSpanId, agentServer.spanId);
    const agentTool = one(spans, 'agent tool call', isAgentTool);
    assert.equal(agentTool.parentSpanId, agentServer.spanId);

    const gatewayTool = one(spans, 'gateway tools/call', (span) => span.name === 'tools/call inventory___list_accounts');
    const gatewayServer = one(spans, 'gateway SERVER of the tools/call', (span) => span.spanId === gatewayTool.parentSpanId);
    assert.equal(gatewayServer.service, 'gatehouse');
    assert.equal(gatewayServer.kind, SPAN_KIND_SERVER);
    assert.equal(gatewayServer.parentSpanId, agentTool.spanId, 'the gateway continues the agent\'s tool-call span');
    assert.deepEqual(
      { target: gatewayTool.attributes['gatehouse.target'], decision: gatewayTool.attributes['gatehouse.decision'], outcome: gatewayTool.attributes['gatehouse.outcome'] },
      { target: 'inventory', decision: 'allow', outcome: 'ok' },
    );
    const targetCall = one(spans, 'gateway CLIENT to the target', isTargetCall);
    assert.equal(targetCall.kind, SPAN_KIND_CLIENT);
    assert.equal(targetCall.parentSpanId, gatewayTool.spanId);
    // The agent's other MCP requests (initialize, tools/list) are gateway SERVER spans under its invocation.
    const gatewayRequests = spans.filter((span) => span.service === 'gatehouse' && span.kind === SPAN_KIND_SERVER && span.name.startsWith('MCP '));
    assert.ok(gatewayRequests.length >= 3, `initialize, tools/list and tools/call reach the gateway traced: ${gatewayRequests.length}`);
    for (const request of gatewayRequests) assert.ok([agentServer.spanId, agentTool.spanId].includes(request.parentSpanId), `gateway request ${request.name} hangs under the agent's spans`);

    // The target got this trace, with the gateway's CLIENT span as its parent.
    assert.deepEqual(inventory.traceparents, [`00-${traceId}-${targetCall.spanId}-01`]);

    // Neither the user's access token nor the workload token (both JWTs) is in anything exported.
    const exported = collector.bodies.join('\n');
    assert.ok(!exported.includes(token), 'the access token is not exported');
    assert.doesNotMatch(exported, JWT_SHAPE, 'no JWT (access or workload token) is exported');
    assert.doesNotMatch(exported, /authorization|bearer/i, 'no Authorization header is exported');

    // A refused invocation is traced too, by its error type, and nothing reaches an agent.
    const refusedTrace = randomBytes(16).toString('hex');
    const forged = `${token.slice(0, -6)}AAAAAA`;
    const refused = await fetch(`${gatehouse.url}/runtimes/${encodeURIComponent(gatehouse.settings.runtimeArn)}/invocations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${forged}`, traceparent: `00-${refusedTrace}-${randomBytes(8).toString('hex')}-01`, 'x-amzn-bedrock-agentcore-runtime-session-id': SESSION('refused') },
      body: '{}',
    });
    assert.equal(refused.status, 403);
    const refusedSpan = await waitFor('the refused invocation\'s span', () => collector.spans.find((span) => span.traceId === refusedTrace));
    assert.equal(refusedSpan.name, 'InvokeAgentRuntime');
    assert.equal(refusedSpan.attributes['error.type'], 'AccessDeniedException');
    assert.equal(refusedSpan.attributes['http.response.status_code'], 403);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(collector.spans.filter((span) => span.traceId === refusedTrace).map((span) => span.name), ['InvokeAgentRuntime'], 'no agent or gateway span for a refused call');
    assert.ok(!collector.bodies.join('\n').includes(forged), 'the forged token is not exported either');
  } finally {
    await gatehouse.close();
  }
});

test('with the exporter switched off nothing is exported, and the target still receives the caller\'s trace id', async () => {
  const collector = await startCollector();
  const inventory = await startInventoryApi();
  // The collector is named but OTEL_TRACES_EXPORTER=none switches exporting off (for the agent processes too).
  const gatehouse = await startTracedGatehouse(inventory.url, { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer collector-secret' });
  try {
    // Agents get the OTEL_* settings, but not the collector's credentials.
    const agentEnvironment = gatehouse.config.runtimes?.[0]?.environmentVariables ?? {};
    assert.equal(agentEnvironment.OTEL_TRACES_EXPORTER, 'none');
    assert.equal(agentEnvironment.OTEL_EXPORTER_OTLP_ENDPOINT, collector.url);
    assert.equal(agentEnvironment.OTEL_EXPORTER_OTLP_HEADERS, undefined);
    const token = await signIn(gatehouse);
    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');

    await invokeWithTrace(gatehouse, token, `00-${traceId}-${callerSpanId}-01`, SESSION('off'));

    assert.equal(inventory.traceparents.length, 1);
    const received = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(inventory.traceparents[0] ?? '');
    assert.ok(received, `the target got a traceparent: ${String(inventory.traceparents[0])}`);
    assert.equal(received[1], traceId, 'the caller\'s trace id reaches the target through runtime, agent and gateway');
    // No span was recorded anywhere, so the caller's span is still the parent at the far end.
    assert.equal(received[2], callerSpanId);
  } finally {
    await gatehouse.close();
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual(collector.bodies, [], 'nothing was exported');
});

test('an unreachable collector costs the traced work nothing and is reported once, without the collector\'s credentials', async () => {
  const dead = await freePort();
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = createLogger({ level: 'warn', destination });
  const tracing = startTracing({ serviceName: 'gatehouse', endpoint: `http://user:s3cret@127.0.0.1:${dead}/?token=s3cret`, env: { OTEL_BSP_SCHEDULE_DELAY: '20' }, logger });
  assert.equal(tracing.enabled, true);
  const caller = extractTraceContext({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
  for (let batch = 0; batch < 3; batch++) {
    const span = startSpan('InvokeAgentRuntime', SpanKind.SERVER, caller);
    const outgoing: Record<string, string> = {};
    injectTraceContext(span.context, outgoing);
    assert.match(outgoing.traceparent ?? '', /^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/, 'spans are still made and propagated');
    span.span.end();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const started = Date.now();
  await tracing.shutdown();
  assert.ok(Date.now() - started < 4000, 'shutdown does not wait out the exporter\'s own timeout');
  await waitFor('the export failure warning', () => (lines.length > 0 ? true : undefined), 12_000);
  await new Promise((resolve) => setTimeout(resolve, 200));
  const warnings = lines.filter((line) => line.includes('trace export failed'));
  assert.equal(warnings.length, 1, `warned once: ${lines.join('')}`);
  assert.ok(!lines.join('').includes('s3cret'), 'the collector URL is logged without user info or query');
});
