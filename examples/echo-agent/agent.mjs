#!/usr/bin/env node
// A minimal agent that follows the AgentCore container contract (HTTP protocol):
//   POST /invocations  JSON in; SSE out when the caller accepts text/event-stream, else JSON
//   GET  /ping         {"status":"Healthy","time_of_last_update":<unix seconds>}
//   WS   /ws           text frames {"prompt":…} answered with the same events as SSE; others echoed
// It echoes what the perimeter told it (user id, session id, whether a workload access token
// arrived), so tests and newcomers can see exactly what reaches an agent. It never validates
// tokens: the runtime in front of it is the security perimeter.
//
// Test hooks: payload fields delayMs, chunks, crashAfter, busy, allocateMiB (holds that much memory
// while answering, to test memory limits); a WS frame {"crash":true} exits.
// Environment: ECHO_AGENT_RECORD=<file> appends one JSON line per request seen
// (method, path, headers with credentials masked); ECHO_AGENT_FAIL_START=<code> exits at start
// after writing to stderr; ECHO_AGENT_PING_FORMAT=iso answers /ping with an ISO date;
// ECHO_AGENT_START_DELAY_MS delays listening.
import { appendFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { WebSocketServer } from 'ws';

// node:http through getBuiltinModule, not `import`: an ES module import of node:http evaluates its lazy WebSocket
// getters, which load Node's bundled undici (~50 ms of every cold start).
const { createServer } = process.getBuiltinModule('node:http');

const port = Number(process.env.PORT ?? 8080);
const recordFile = process.env.ECHO_AGENT_RECORD;
const startedAt = Math.floor(Date.now() / 1000);
let busy = 0;
let lastStatusChange = startedAt;

if (process.env.ECHO_AGENT_FAIL_START) {
  process.stderr.write('echo-agent: refusing to start because ECHO_AGENT_FAIL_START is set\n');
  process.stderr.write('echo-agent: configuration error (example) in line 2\n');
  process.exit(Number(process.env.ECHO_AGENT_FAIL_START) || 1);
}

const CREDENTIAL_HEADERS = new Set(['authorization', 'workloadaccesstoken', 'x-amz-bedrock-agentcore-identity-wat']);

/**
 * Headers as seen, with credential values replaced by a short SHA-256 fingerprint: tests can tell
 * which token arrived, while the record never holds a usable token.
 */
function maskedHeaders(headers) {
  const result = {};
  for (const [name, value] of Object.entries(headers)) {
    result[name] = CREDENTIAL_HEADERS.has(name) ? `sha256:${createHash('sha256').update(String(value)).digest('hex').slice(0, 16)}` : value;
  }
  return result;
}

function record(entry) {
  if (!recordFile) return;
  appendFileSync(recordFile, `${JSON.stringify({ pid: process.pid, at: Date.now(), ...entry })}\n`);
}

function whoAmI(headers) {
  return {
    sessionId: headers['x-amzn-bedrock-agentcore-runtime-session-id'] ?? null,
    userId: headers['x-amzn-bedrock-agentcore-runtime-user-id'] ?? null,
    requestId: headers['x-amzn-bedrock-agentcore-runtime-request-id'] ?? null,
    hasWorkloadAccessToken: Boolean(headers['workloadaccesstoken'] || headers['x-amz-bedrock-agentcore-identity-wat']),
    pid: process.pid,
  };
}

function parsePrompt(body) {
  try {
    const value = JSON.parse(body.toString('utf8') || '{}');
    return value && typeof value === 'object' ? value : { prompt: String(value) };
  } catch {
    return null;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function sse(response, type, data) {
  return response.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
}

async function streamAnswer(request, response, input, identity) {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let aborted = false;
  response.on('close', () => {
    if (!response.writableFinished) {
      aborted = true;
      record({ event: 'client-aborted', path: request.url });
    }
  });
  const words = String(input.prompt ?? '').split(/\s+/).filter(Boolean);
  const chunks = Number(input.chunks ?? words.length);
  const delay = Number(input.delayMs ?? 0);
  for (let index = 0; index < chunks && !aborted; index += 1) {
    sse(response, 'text-delta', { delta: words[index % Math.max(words.length, 1)] ?? '', index });
    if (input.crashAfter !== undefined && index + 1 >= Number(input.crashAfter)) {
      // Simulates an agent that dies mid-stream (the runtime must tell the client and reset the session);
      // the short wait lets the events already written leave the process first.
      await sleep(50);
      process.exit(70);
    }
    if (delay > 0) await sleep(delay);
  }
  if (aborted) return;
  sse(response, 'message', { text: `echo: ${String(input.prompt ?? '')}`, ...identity });
  response.end();
}

const server = createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://agent.invalid');
  if (request.method === 'GET' && url.pathname === '/ping') {
    const status = busy > 0 ? 'HealthyBusy' : 'Healthy';
    const time = process.env.ECHO_AGENT_PING_FORMAT === 'iso' ? new Date(lastStatusChange * 1000).toISOString() : lastStatusChange;
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ status, time_of_last_update: time }));
    return;
  }
  if (request.method === 'POST' && url.pathname === '/invocations') {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      record({ event: 'request', method: request.method, path: url.pathname, headers: maskedHeaders(request.headers), bodyBytes: body.length });
      const input = parsePrompt(body);
      const identity = whoAmI(request.headers);
      if (input === null) {
        response.writeHead(400, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: 'Invalid JSON', bytes: body.length }));
        return;
      }
      if (input.busy !== undefined) {
        // Lets callers exercise HealthyBusy: background work for `busy` ms.
        busy += 1;
        lastStatusChange = Math.floor(Date.now() / 1000);
        setTimeout(() => {
          busy -= 1;
          lastStatusChange = Math.floor(Date.now() / 1000);
        }, Number(input.busy));
      }
      if ((request.headers.accept ?? '').includes('text/event-stream')) {
        void streamAnswer(request, response, input, identity);
        return;
      }
      if (input.crashAfter !== undefined) process.exit(70);
      // Filled, so the pages are really committed (an unfilled allocation may never touch memory).
      const held = input.allocateMiB === undefined ? undefined : Buffer.alloc(Number(input.allocateMiB) * 1024 * 1024, 1);
      const answer = JSON.stringify({ type: 'message', text: `echo: ${String(input.prompt ?? '')}`, bodyBytes: body.length, ...(held ? { allocatedBytes: held.length } : {}), ...identity });
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
      response.end(answer);
    });
    return;
  }
  response.writeHead(404, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ error: `No route for ${request.method} ${url.pathname}` }));
});

const sockets = new WebSocketServer({ noServer: true });
server.on('upgrade', (request, socket, head) => {
  const url = new URL(request.url ?? '/', 'http://agent.invalid');
  if (url.pathname !== '/ws') {
    socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  record({ event: 'websocket', path: url.pathname, headers: maskedHeaders(request.headers) });
  sockets.handleUpgrade(request, socket, head, (client) => {
    const identity = whoAmI(request.headers);
    client.on('message', (data, isBinary) => {
      if (isBinary) {
        client.send(data, { binary: true });
        return;
      }
      const input = parsePrompt(Buffer.from(data));
      if (input?.crash) process.exit(70);
      if (!input || input.prompt === undefined) {
        client.send(data.toString());
        return;
      }
      for (const [index, word] of String(input.prompt).split(/\s+/).filter(Boolean).entries()) {
        client.send(JSON.stringify({ type: 'text-delta', delta: word, index }));
      }
      client.send(JSON.stringify({ type: 'message', text: `echo: ${String(input.prompt)}`, ...identity }));
    });
  });
});

const startDelay = Number(process.env.ECHO_AGENT_START_DELAY_MS ?? 0);
setTimeout(() => {
  server.listen(port, process.env.HOST ?? '127.0.0.1', () => {
    process.stdout.write(`echo-agent listening on ${port}\n`);
  });
}, startDelay);

const shutdown = () => {
  for (const client of sockets.clients) client.close(1001, 'agent shutting down');
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
