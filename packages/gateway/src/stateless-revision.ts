import type { ServerResponse } from 'node:http';
import { answerToolCall } from './answer-tool-call.ts';
import { toJsonRpcError } from './json-rpc-error.ts';
import type { McpExchange } from './mcp-exchange.ts';

export const STATELESS_VERSION = '2026-07-28';
/** What `server/discover` says of this server. */
export interface ServerInfo {
  readonly name: string;
  readonly version: string;
  readonly instructions?: string | undefined;
}

export const SESSION_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26'] as const;

interface RpcRequest {
  readonly jsonrpc: '2.0';
  readonly id: string | number;
  readonly method: string;
  readonly params?: Record<string, unknown>;
}

function reply(response: ServerResponse, status: number, id: string | number | null, payload: { result: unknown } | { error: { code: number; message: string; data?: unknown } }): void {
  const body = JSON.stringify({ jsonrpc: '2.0', id, ...payload });
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'mcp-protocol-version': STATELESS_VERSION });
  response.end(body);
}

/** A request of this revision whose headers matched its body. */
interface CheckedRequest {
  readonly id: string | number;
  readonly method: string;
  readonly params: Record<string, unknown>;
  /** params.name, for tools/call. */
  readonly name: string | undefined;
}

/** The revision's checks: one JSON-RPC request (a notification is answered 202), headers equal to the body. Answers and returns undefined when one fails. */
function checkRequest(exchange: McpExchange): CheckedRequest | undefined {
  const { request, response, body } = exchange;
  const header = (name: string): string | undefined => (typeof request.headers[name] === 'string' ? (request.headers[name] as string) : undefined);
  if (typeof body !== 'object' || body === null || Array.isArray(body) || (body as { jsonrpc?: unknown }).jsonrpc !== '2.0' || typeof (body as { method?: unknown }).method !== 'string') {
    reply(response, 400, null, { error: { code: -32600, message: 'The body must be one JSON-RPC 2.0 request' } });
    return undefined;
  }
  const message = body as RpcRequest;
  const id = typeof message.id === 'string' || typeof message.id === 'number' ? message.id : null;
  if (id === null) {
    // notifications need no answer in this revision
    response.writeHead(202).end();
    return undefined;
  }
  const params = message.params && typeof message.params === 'object' ? message.params : {};
  const method = header('mcp-method');
  if (method !== message.method) {
    reply(response, 400, id, { error: { code: -32020, message: `Mcp-Method header (${method ?? 'missing'}) must equal the body's method (${message.method})` } });
    return undefined;
  }
  const name = typeof params.name === 'string' ? params.name : undefined;
  const sentName = header('mcp-name');
  if (message.method === 'tools/call' && sentName !== name) {
    reply(response, 400, id, { error: { code: -32020, message: `Mcp-Name header (${sentName ?? 'missing'}) must equal params.name (${name ?? 'missing'})` } });
    return undefined;
  }
  const meta = params._meta && typeof params._meta === 'object' ? (params._meta as Record<string, unknown>) : {};
  const declared = meta['io.modelcontextprotocol/protocolVersion'];
  if (declared !== undefined && declared !== STATELESS_VERSION) {
    reply(response, 400, id, { error: { code: -32020, message: `MCP-Protocol-Version header (${STATELESS_VERSION}) must equal _meta protocolVersion (${String(declared)})` } });
    return undefined;
  }
  return { id, method: message.method, params, name };
}

/**
 * MCP 2026-07-28 (stateless): no initialize and no session; every POST carries `Mcp-Method`
 * (and `Mcp-Name` for tools/call), which must equal the body (else 400, HeaderMismatch −32020);
 * `_meta["io.modelcontextprotocol/protocolVersion"]`, when present, must equal the header.
 * Served by the gateway itself because SDK v1 does not speak this revision.
 */
export async function serveStatelessRequest(exchange: McpExchange, server: ServerInfo): Promise<void> {
  const checked = checkRequest(exchange);
  if (!checked) return;
  const { response, caller, dispatcher, onUnexpected } = exchange;
  const { id, params } = checked;
  const abort = new AbortController();
  response.on('close', () => abort.abort());
  try {
    switch (checked.method) {
      case 'server/discover':
        reply(response, 200, id, { result: discovery(server) });
        return;
      case 'ping':
        reply(response, 200, id, { result: {} });
        return;
      case 'tools/list':
        reply(response, 200, id, { result: { tools: await dispatcher.listTools(caller, abort.signal) } });
        return;
      case 'tools/call': {
        const args = params.arguments && typeof params.arguments === 'object' && !Array.isArray(params.arguments) ? (params.arguments as Record<string, unknown>) : {};
        const answer = await answerToolCall(dispatcher, { caller, sessionId: '', name: checked.name!, args, signal: abort.signal, onUnexpected });
        reply(response, 200, id, answer.kind === 'result' ? { result: answer.result } : { error: answer.error });
        return;
      }
      default:
        reply(response, 404, id, { error: { code: -32601, message: `Method ${checked.method} is not served by this gateway (tools/list, tools/call, server/discover, ping)` } });
    }
  } catch (error) {
    reply(response, 200, id, { error: toJsonRpcError(error, onUnexpected) });
  }
}

function discovery(server: ServerInfo): Record<string, unknown> {
  return {
    supportedVersions: [STATELESS_VERSION, ...SESSION_VERSIONS],
    capabilities: { tools: { listChanged: false } },
    serverInfo: { name: server.name, version: server.version },
    ...(server.instructions ? { instructions: server.instructions } : {}),
  };
}
