import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
import { closeServer, listen } from '@gatehouse/core';

export interface RecordingServer {
  readonly url: string;
  /** Every request the server received: method, path, authorization header, body. */
  readonly requests: { method: string; path: string; authorization: string | undefined; body: string }[];
  close(): Promise<void>;
}

async function readAll(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function start(handler: (request: IncomingMessage, response: ServerResponse, body: string) => Promise<void> | void): Promise<{ server: Server; url: string; requests: RecordingServer['requests'] }> {
  const requests: RecordingServer['requests'] = [];
  const server = createServer((request, response) => {
    void (async () => {
      const body = await readAll(request);
      requests.push({ method: request.method ?? '', path: request.url ?? '', authorization: request.headers.authorization, body });
      await handler(request, response, body);
    })().catch(() => {
      if (!response.headersSent) response.writeHead(500).end();
    });
  });
  const port = await listen(server, 0);
  return { server, url: `http://127.0.0.1:${port}`, requests };
}

/** A real MCP server (official SDK, stateless) at `{url}/mcp` with `echo` and `add` tools. */
export async function startUpstreamMcpServer(): Promise<RecordingServer> {
  const { server, url, requests } = await start(async (request, response, body) => {
    const mcp = new McpServer({ name: 'upstream', version: '1.0.0' });
    mcp.registerTool('echo', { description: 'Echo a text back', inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text', text: `echo:${text}` }] }));
    mcp.registerTool('add', { description: 'Add two numbers', inputSchema: { a: z.number(), b: z.number() } }, async ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }] }));
    const transport = new StreamableHTTPServerTransport({ enableJsonResponse: true });
    response.on('close', () => {
      void transport.close();
      void mcp.close();
    });
    await mcp.connect(transport);
    await transport.handleRequest(request, response, body ? JSON.parse(body) : undefined);
  });
  return { url: `${url}/mcp`, requests, close: () => closeServer(server) };
}

export const PETS_OPENAPI = JSON.stringify({
  openapi: '3.0.3',
  info: { title: 'Pets', version: '1' },
  paths: {
    '/pets/{petId}': {
      get: {
        operationId: 'get_pet',
        summary: 'Read one pet',
        parameters: [{ name: 'petId', in: 'path', required: true, schema: { type: 'string' } }, { name: 'verbose', in: 'query', schema: { type: 'boolean' } }],
      },
    },
    '/pets': {
      post: {
        operationId: 'create_pet',
        summary: 'Create a pet',
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Pet' } } } },
      },
    },
  },
  components: { schemas: { Pet: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } } },
});

/** A real JSON API that the OpenAPI document above describes. */
export async function startPetsApi(): Promise<RecordingServer> {
  const { server, url, requests } = await start((request, response, body) => {
    const target = new URL(request.url ?? '/', 'http://x');
    const match = /^\/pets\/([^/]+)$/.exec(target.pathname);
    response.setHeader('content-type', 'application/json');
    if (request.method === 'GET' && match) {
      response.end(JSON.stringify({ id: decodeURIComponent(match[1]!), verbose: target.searchParams.get('verbose') }));
    } else if (request.method === 'POST' && target.pathname === '/pets') {
      response.writeHead(201).end(JSON.stringify({ created: JSON.parse(body) as unknown }));
    } else response.writeHead(404).end('{"error":"not found"}');
  });
  return { url, requests, close: () => closeServer(server) };
}
