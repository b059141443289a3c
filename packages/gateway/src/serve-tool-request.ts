import type { IncomingMessage, ServerResponse } from 'node:http';
import { CallToolRequestSchema, JSONRPCRequestSchema, ListToolsRequestSchema, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import { answerToolCall } from './answer-tool-call.ts';
import type { Caller } from './caller.ts';
import { toJsonRpcError } from './json-rpc-error.ts';
import type { ToolDispatcher } from './tool-dispatcher.ts';
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

/**
 * `tools/call` and `tools/list` answered without building an SDK `Server` and transport for the
 * request: the same validation (the SDK's own schemas), the same JSON-RPC answers, a fraction of the
 * work. Anything else — another method, a batch, a task request, an unusual header, a message the
 * schemas refuse — returns false and goes through the SDK, which answers it as always. (A tools/call
 * whose params the schema refuses never gets here: the endpoint's inspect-message.ts refused it.)
 * tools/call goes through answer-tool-call.ts, the one path every revision shares; failures are
 * answered by the one mapper, json-rpc-error.ts.
 */
export async function serveToolRequest(request: IncomingMessage, response: ServerResponse, body: unknown, caller: Caller, session: { readonly id: string; readonly urlElicitation: boolean }, dispatcher: ToolDispatcher, onUnexpected: (error: unknown) => void): Promise<boolean> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const method = (body as { method?: unknown }).method;
  if (method !== 'tools/call' && method !== 'tools/list') return false;
  if (!acceptsBoth(request) || !isPlainJson(request) || !protocolVersionOk(request)) return false;
  const message = JSONRPCRequestSchema.safeParse(body);
  if (!message.success || (message.data.params as { task?: unknown } | undefined)?.task !== undefined) return false;
  const id = message.data.id;
  const call = method === 'tools/call' ? CallToolRequestSchema.safeParse(message.data) : undefined;
  if (call ? !call.success : !ListToolsRequestSchema.safeParse(message.data).success) return false;

  const abort = new AbortController();
  response.on('close', () => {
    if (!response.writableFinished) abort.abort();
  });
  let text: string;
  try {
    if (!call?.data) {
      const tools = await dispatcher.listTools(caller, abort.signal);
      let serialized = serializedLists.get(tools);
      if (serialized === undefined) {
        serialized = JSON.stringify(tools);
        serializedLists.set(tools, serialized);
      }
      text = `{"result":{"tools":${serialized}},"jsonrpc":"2.0","id":${JSON.stringify(id)}}`;
    } else {
      const params = call.data.params;
      const answer = await answerToolCall(dispatcher, { caller, sessionId: session.id, urlElicitation: session.urlElicitation, name: params.name, args: (params.arguments ?? {}) as Record<string, unknown>, signal: abort.signal, onUnexpected, protocolVersion: request.headers['mcp-protocol-version'] });
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
