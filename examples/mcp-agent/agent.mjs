#!/usr/bin/env node
// An MCP agent for a runtime with protocolConfiguration.serverProtocol MCP (AgentCore's MCP contract):
//   POST /mcp   stateless streamable-HTTP MCP server (official SDK): a fresh server and transport per request,
//               so nothing is shared between callers (CVE-2026-25536); accepts the platform's Mcp-Session-Id
//   (no /ping: AgentCore's MCP contract is /mcp alone; Gatehouse counts any HTTP answer as "up" for MCP runtimes)
// It listens on $PORT (default 8000, the MCP contract's port) on 127.0.0.1 ($HOST to change it).
// Tools: `add` (a + b), `whoami` (what the perimeter told this process: user id, session ids, pid).
import { createServer } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

const port = Number(process.env.PORT ?? 8000);
const host = process.env.HOST ?? '127.0.0.1';

function buildServer() {
  const server = new McpServer({ name: 'gatehouse-mcp-agent', version: '1.0.0' });
  server.registerTool('add', { description: 'Adds two numbers', inputSchema: { a: z.number(), b: z.number() } }, ({ a, b }) => ({
    content: [{ type: 'text', text: String(a + b) }],
  }));
  server.registerTool('whoami', { description: 'What the runtime told this agent about the caller' }, (extra) => {
    const headers = extra.requestInfo?.headers ?? {};
    const seen = {
      userId: headers['x-amzn-bedrock-agentcore-runtime-user-id'] ?? null,
      sessionId: headers['x-amzn-bedrock-agentcore-runtime-session-id'] ?? null,
      mcpSessionId: headers['mcp-session-id'] ?? null,
      hasAuthorization: headers.authorization !== undefined,
      pid: process.pid,
      port,
    };
    return { content: [{ type: 'text', text: JSON.stringify(seen) }] };
  });
  return server;
}

async function readJson(request) {
  const chunks = [];
  for await (const chunk of request) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

const http = createServer(async (request, response) => {
  const path = new URL(request.url ?? '/', 'http://agent').pathname;
  if (path !== '/mcp') {
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: 'not found; MCP is served at /mcp' }));
    return;
  }
  if (request.method !== 'POST') {
    // Stateless: no standalone SSE stream and no session to delete (MCP streamable HTTP: 405).
    response.writeHead(405, { allow: 'POST', 'content-type': 'application/json' });
    response.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed' }, id: null }));
    return;
  }
  let body;
  try {
    body = await readJson(request);
  } catch {
    response.writeHead(400, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null }));
    return;
  }
  const server = buildServer();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  response.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(request, response, body);
});

http.listen(port, host, () => process.stderr.write(`mcp-agent: listening on ${host}:${port}/mcp\n`));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => http.close(() => process.exit(0)));
