// A real MCP server over stdio (official SDK), started by the gateway as a child process.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const server = new McpServer({ name: 'stdio-upstream', version: '1.0.0' });
server.registerTool('shout', { description: 'Upper-case a text', inputSchema: { text: z.string() } }, async ({ text }) => ({
  content: [{ type: 'text', text: `${text.toUpperCase()} from pid ${process.pid}` }],
}));
await server.connect(new StdioServerTransport());
