import { createServer, type Server as HttpServer } from 'node:http';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { listen } from '@gatehouse/core';

// 1×1 PNG and an empty WAV: the conformance scenarios only check that binary content arrives intact.
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const WAV = 'UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQAAAAA=';

const RESOURCE = { type: 'resource' as const, resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' } };
const NO_ARGUMENTS = { type: 'object' as const, properties: {} };

/**
 * The tools the official conformance tool scenarios call (the conformance package ships no server of its
 * own), with the texts they compare against. Declared as raw JSON Schema (low-level `Server`) so the
 * 2020-12 keywords reach the client untouched — the json-schema-2020-12 scenario checks exactly that.
 */
const TOOLS: ReadonlyArray<{ tool: Tool; result: CallToolResult }> = [
  { tool: { name: 'test_simple_text', description: 'simple text', inputSchema: NO_ARGUMENTS }, result: { content: [{ type: 'text', text: 'This is a simple text response for testing.' }] } },
  { tool: { name: 'test_image_content', description: 'image', inputSchema: NO_ARGUMENTS }, result: { content: [{ type: 'image', data: PNG, mimeType: 'image/png' }] } },
  { tool: { name: 'test_audio_content', description: 'audio', inputSchema: NO_ARGUMENTS }, result: { content: [{ type: 'audio', data: WAV, mimeType: 'audio/wav' }] } },
  { tool: { name: 'test_embedded_resource', description: 'resource', inputSchema: NO_ARGUMENTS }, result: { content: [RESOURCE] } },
  {
    tool: { name: 'test_multiple_content_types', description: 'mixed', inputSchema: NO_ARGUMENTS },
    result: { content: [{ type: 'text', text: 'Multiple content types test:' }, { type: 'image', data: PNG, mimeType: 'image/png' }, RESOURCE] },
  },
  { tool: { name: 'test_error_handling', description: 'error', inputSchema: NO_ARGUMENTS }, result: { isError: true, content: [{ type: 'text', text: 'This tool intentionally returns an error for testing' }] } },
  {
    tool: {
      name: 'json_schema_2020_12_tool',
      description: 'JSON Schema 2020-12 keywords in its input schema',
      inputSchema: {
        type: 'object',
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        $defs: { address: { type: 'object', properties: { street: { type: 'string' }, city: { type: 'string' } } } },
        properties: { name: { type: 'string' }, address: { $ref: '#/$defs/address' } },
        additionalProperties: false,
      },
    },
    result: { content: [{ type: 'text', text: 'ok' }] },
  },
];

function conformanceTools(): Server {
  const server = new Server({ name: 'conformance-tools', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: TOOLS.map((entry) => entry.tool) }));
  server.setRequestHandler(CallToolRequestSchema, (request) => {
    const entry = TOOLS.find((candidate) => candidate.tool.name === request.params.name);
    if (!entry) throw new McpError(ErrorCode.InvalidParams, `Unknown tool ${request.params.name}`);
    return entry.result;
  });
  return server;
}

export interface ConformanceServer {
  readonly url: string;
  readonly server: HttpServer;
}

/** A stateless MCP server (official SDK, JSON responses) on 127.0.0.1:0 serving the conformance tools. */
export async function startConformanceServer(): Promise<ConformanceServer> {
  const server = createServer((request, response) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks).toString('utf8');
      const mcp = conformanceTools();
      const transport = new StreamableHTTPServerTransport({ enableJsonResponse: true });
      response.on('close', () => void mcp.close());
      await mcp.connect(transport);
      await transport.handleRequest(request, response, body ? JSON.parse(body) : undefined);
    })().catch(() => {
      if (!response.headersSent) response.writeHead(400, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } }));
    });
  });
  const port = await listen(server, 0);
  return { url: `http://127.0.0.1:${port}/mcp`, server };
}
