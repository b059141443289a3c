import type { IncomingMessage } from 'node:http';
import { JSONRPCRequestSchema, ListToolsRequestSchema, SUPPORTED_PROTOCOL_VERSIONS, type CallToolRequest } from '@modelcontextprotocol/sdk/types.js';
import { answerToolCall } from './answer-tool-call.ts';
import { toJsonRpcError } from './json-rpc-error.ts';
import type { McpExchange } from './mcp-exchange.ts';
import type { ToolDefinition } from './tool-definition.ts';

/** Serialized `tools` arrays, per visible-list array (the dispatcher returns the same array while it is valid). */
const serializedLists = new WeakMap<readonly ToolDefinition[], string>();

function acceptsBoth(request: IncomingMessage): boolean {
  const accept = request.headers.accept;
  return typeof accept === 'string' && accept.includes('application/json') && accept.includes('text/event-stream');
}

function isPlainJson(request: IncomingMessage): boolean {
  const type = request.headers['content-type'];
  return typeof type === 'string' && /^application\/json\s*(;[^,]*)?$/i.test(type.trim());
}

function protocolVersionOk(request: IncomingMessage): boolean {
  const version = request.headers['mcp-protocol-version'];
  return version === undefined || (typeof version === 'string' && SUPPORTED_PROTOCOL_VERSIONS.includes(version));
}

const ENVELOPE_KEYS: ReadonlySet<string> = new Set(['jsonrpc', 'id', 'method', 'params']);

/**
 * What JSONRPCRequestSchema (strict) adds to a tools/call that CallToolRequestSchema already
 * accepted: `jsonrpc: "2.0"`, an id that is a string or an integer, no other top-level key.
 */
function isRequestEnvelope(body: object): boolean {
  const message = body as { jsonrpc?: unknown; id?: unknown };
  if (message.jsonrpc !== '2.0' || !(typeof message.id === 'string' || Number.isSafeInteger(message.id))) return false;
  for (const key of Object.keys(body)) if (!ENVELOPE_KEYS.has(key)) return false;
  return true;
}

/** The request as this path answers it (a tools/call or tools/list it can serve), else undefined. */
function servable(exchange: McpExchange): { id: string | number; call: CallToolRequest | undefined } | undefined {
  const { body, request, toolCall } = exchange;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const method = (body as { method?: unknown }).method;
  if (method !== 'tools/call' && method !== 'tools/list') return undefined;
  if (!acceptsBoth(request) || !isPlainJson(request) || !protocolVersionOk(request)) return undefined;
  if (toolCall) {
    // parsed once by inspect-message.ts; only the envelope is left to check
    if (!isRequestEnvelope(body) || (toolCall.params as { task?: unknown }).task !== undefined) return undefined;
    return { id: (body as { id: string | number }).id, call: toolCall };
  }
  if (method === 'tools/call') return undefined;
  const message = JSONRPCRequestSchema.safeParse(body);
  if (!message.success || (message.data.params as { task?: unknown } | undefined)?.task !== undefined) return undefined;
  if (!ListToolsRequestSchema.safeParse(message.data).success) return undefined;
  return { id: message.data.id, call: undefined };
}

/** The tools/list answer, serialized once per visible-list array. */
async function listText(exchange: McpExchange, signal: AbortSignal): Promise<string> {
  const tools = await exchange.dispatcher.listTools(exchange.caller, signal);
  let serialized = serializedLists.get(tools);
  if (serialized === undefined) {
    serialized = JSON.stringify(tools);
    serializedLists.set(tools, serialized);
  }
  return `{"result":{"tools":${serialized}},"jsonrpc":"2.0"`;
}

/**
 * `tools/call` and `tools/list` answered without building an SDK `Server` and transport for the
 * request: the same validation (the SDK's own schemas), the same JSON-RPC answers, a fraction of the
 * work. Anything else — another method, a batch, a task request, an unusual header, a message the
 * schemas refuse — returns false and goes through the SDK, which answers it as always. (A tools/call
 * whose params the schema refuses never gets here: the endpoint's inspect-message.ts refused it.)
 * tools/call goes through answer-tool-call.ts, the one path every revision shares; failures are
 * answered by the one mapper, json-rpc-error.ts.
 */
export async function serveToolRequest(exchange: McpExchange): Promise<boolean> {
  const served = servable(exchange);
  if (!served) return false;
  const { id, call } = served;
  const { request, response, caller, session, onUnexpected } = exchange;
  const abort = new AbortController();
  response.on('close', () => {
    if (!response.writableFinished) abort.abort();
  });
  let text: string;
  try {
    if (!call) text = `${await listText(exchange, abort.signal)},"id":${JSON.stringify(id)}}`;
    else {
      const params = call.params;
      const answer = await answerToolCall(exchange.dispatcher, { caller, sessionId: session.id, urlElicitation: session.urlElicitation, name: params.name, args: (params.arguments ?? {}) as Record<string, unknown>, signal: abort.signal, onUnexpected, protocolVersion: request.headers['mcp-protocol-version'] });
      text = JSON.stringify(answer.kind === 'result' ? { result: answer.result, jsonrpc: '2.0', id } : { jsonrpc: '2.0', id, error: answer.error });
    }
  } catch (error) {
    text = JSON.stringify({ jsonrpc: '2.0', id, error: toJsonRpcError(error, onUnexpected) });
  }
  if (abort.signal.aborted || response.destroyed) return true;
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  response.end(text);
  return true;
}
