import { createServer, type Server } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
import { closeServer, listen, readBody } from '@gatehouse/core';

export interface RecordedCall {
  readonly authorization: string | undefined;
  readonly tool: string;
  readonly arguments: Record<string, unknown>;
}

export interface GatewayStandIn {
  readonly url: string;
  /** Authorization header of every HTTP request that reached the MCP endpoint, accepted or not. */
  readonly authorizations: Array<string | undefined>;
  /** Tool calls that were accepted and executed. */
  readonly calls: RecordedCall[];
  /** DELETEs that ended an MCP session, with the token they carried. */
  readonly deletes: Array<{ authorization: string | undefined; sessionId: string | undefined }>;
  /** Milliseconds each tool call waits before answering (to observe a busy agent). */
  delayMs: number;
  close(): Promise<void>;
}

const accounts = [
  { name: 'Production', accountId: '111111111111', environment: 'prod' },
  { name: 'Staging', accountId: '222222222222', environment: 'staging' },
  { name: 'Development', accountId: '333333333333', environment: 'dev' },
];
const buckets: Record<string, string[]> = { Production: ['prod-logs', 'prod-assets'], Staging: ['staging-assets'], Development: ['dev-scratch'] };

/**
 * A real MCP server (official SDK, Streamable HTTP, stateless) standing in for the gateway: it accepts only
 * the bearer tokens in `acceptedTokens` (401 otherwise, like the gateway's authorizer) and records what it got.
 */
export async function startGatewayStandIn(acceptedTokens: Set<string>): Promise<GatewayStandIn> {
  const authorizations: Array<string | undefined> = [];
  const calls: RecordedCall[] = [];
  const deletes: Array<{ authorization: string | undefined; sessionId: string | undefined }> = [];
  let sessions = 0;
  const server: Server = createServer((request, response) => {
    const authorization = request.headers.authorization;
    authorizations.push(authorization);
    const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    if (!token || !acceptedTokens.has(token)) {
      response.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer error="invalid_token"' }).end('{"error":"invalid_token"}');
      return;
    }
    if (request.method === 'DELETE') {
      const sessionId = request.headers['mcp-session-id'];
      deletes.push({ authorization, sessionId: typeof sessionId === 'string' ? sessionId : undefined });
      response.writeHead(200).end();
      return;
    }
    const mcp = new McpServer({ name: 'gateway-stand-in', version: '1.0.0' });
    const record = async (tool: string, args: Record<string, unknown>): Promise<void> => {
      calls.push({ authorization, tool, arguments: args });
      if (standIn.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, standIn.delayMs));
    };
    const json = (value: unknown) => ({ content: [{ type: 'text' as const, text: JSON.stringify(value) }] });
    mcp.registerTool('ops___list_accounts', { description: 'List the accounts you may use', inputSchema: {} }, async (args) => {
      await record('ops___list_accounts', args);
      return json({ accounts });
    });
    mcp.registerTool(
      'ops___call_aws',
      { description: 'Call an AWS API in an account', inputSchema: { account: z.string(), service: z.string().optional(), operation: z.string().optional(), params: z.record(z.string(), z.unknown()).optional(), cli_command: z.string().optional() } },
      async (args) => {
        await record('ops___call_aws', args);
        const names = buckets[args.account];
        if (!names) return { isError: true, content: [{ type: 'text' as const, text: `Unknown account ${args.account}` }] };
        return json({ Buckets: names.map((name) => ({ Name: name })) });
      },
    );
    mcp.registerTool(
      'ops___bucket_objects_list',
      { description: 'List objects in a bucket', inputSchema: { account: z.string(), bucket: z.string(), prefix: z.string().optional() } },
      async (args) => {
        await record('ops___bucket_objects_list', args);
        return json({ objects: [{ key: 'report.csv', size: 12 }, { key: 'notes.txt', size: 5 }] });
      },
    );
    mcp.registerTool(
      'ops___bucket_objects_put',
      { description: 'Write an object', inputSchema: { account: z.string(), bucket: z.string(), key: z.string(), body: z.string() } },
      async (args) => {
        await record('ops___bucket_objects_put', args);
        return json({ written: { bucket: args.bucket, key: args.key, bytes: Buffer.byteLength(args.body) } });
      },
    );
    const transport = new StreamableHTTPServerTransport({ enableJsonResponse: true });
    response.on('close', () => {
      void transport.close();
      void mcp.close();
    });
    // Like the real gateway: stateless SDK transport, but initialize hands out a session id the client echoes.
    readBody(request, 1_000_000)
      .then(async (raw) => {
        const parsed: unknown = raw.length ? JSON.parse(raw.toString('utf8')) : undefined;
        if ((parsed as { method?: string } | undefined)?.method === 'initialize') {
          sessions += 1;
          response.setHeader('mcp-session-id', `stand-in-session-${sessions}`);
        }
        await mcp.connect(transport);
        await transport.handleRequest(request, response, parsed);
      })
      .catch(() => {
        if (!response.headersSent) response.writeHead(500).end();
      });
  });
  const port = await listen(server, 0);
  const standIn: GatewayStandIn = { url: `http://127.0.0.1:${port}/mcp`, authorizations, calls, deletes, delayMs: 0, close: () => closeServer(server) };
  return standIn;
}
