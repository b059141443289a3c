import { Pool } from 'undici';
import { McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { activeTraceContext, injectTraceContext, parseSseText } from '@gatehouse/core';

/** What the SDK client negotiated at `initialize`, sent on every request of that session. */
export interface UpstreamSession {
  readonly sessionId: string | undefined;
  readonly protocolVersion: string | undefined;
}

export interface PooledCall {
  readonly tool: string;
  readonly args: Record<string, unknown>;
  readonly session: UpstreamSession;
  /** The caller's credentials for this target (headers and query parameters). */
  readonly credentials: { readonly headers: Readonly<Record<string, string>>; readonly query: Readonly<Record<string, string>> };
  readonly signal: AbortSignal;
}

/** An answer that is not a JSON-RPC answer over HTTP 200 (the client is replaced for the next call, as for any transport failure). */
export class UpstreamHttpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UpstreamHttpError';
  }
}

/**
 * `tools/call` to an upstream MCP server (Streamable HTTP) on a kept-alive undici Pool, in the session the
 * SDK client opened: one POST with the JSON-RPC request, the answer read as JSON or as an event stream.
 * The SDK client stays for everything else (initialize, tools/list, tools with an output schema or task
 * support, redirects); this skips its fetch, stream and schema layers on the hot path (profiled: the
 * upstream hop was the largest part of the gateway's own time). A JSON-RPC error becomes the SDK's
 * own McpError, so the one mapper answers it as before.
 */
export class PooledToolCaller {
  readonly #endpoint: URL;
  readonly #pool: Pool;
  #next = 0;

  constructor(endpoint: string) {
    this.#endpoint = new URL(endpoint);
    this.#pool = new Pool(this.#endpoint.origin, { connections: 16, keepAliveTimeout: 10_000 });
  }

  #path(query: Readonly<Record<string, string>>): string {
    const url = new URL(this.#endpoint);
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
    return `${url.pathname}${url.search}`;
  }

  #headers(call: PooledCall): Record<string, string> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    if (call.session.sessionId) headers['mcp-session-id'] = call.session.sessionId;
    if (call.session.protocolVersion) headers['mcp-protocol-version'] = call.session.protocolVersion;
    Object.assign(headers, call.credentials.headers);
    injectTraceContext(activeTraceContext(), headers);
    return headers;
  }

  /** The tool's result; undefined when the server redirected (not followed here: the SDK client sends it instead). */
  async call(call: PooledCall): Promise<CallToolResult | undefined> {
    const id = `gw-${++this.#next}`;
    const body = JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: call.tool, arguments: call.args } });
    const response = await this.#pool.request({ path: this.#path(call.credentials.query), method: 'POST', headers: this.#headers(call), body, signal: call.signal });
    if (response.statusCode >= 300 && response.statusCode < 400) {
      await response.body.dump();
      return undefined;
    }
    const text = await response.body.text();
    if (response.statusCode !== 200) throw new UpstreamHttpError(`The MCP server answered HTTP ${response.statusCode}`);
    const type = String(response.headers['content-type'] ?? '');
    return resultOf(type.includes('text/event-stream') ? answerInStream(text, id) : parseJson(text), id);
  }

  async close(): Promise<void> {
    await this.#pool.close().catch(() => undefined);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UpstreamHttpError('The MCP server answered with a body that is not JSON');
  }
}

/** The JSON-RPC answer to `id` among the stream's messages (notifications and other messages are skipped). */
function answerInStream(text: string, id: string): unknown {
  for (const message of parseSseText(text)) {
    if (message.event !== undefined && message.event !== 'message') continue;
    let value: unknown;
    try {
      value = JSON.parse(message.data);
    } catch {
      continue;
    }
    if (typeof value === 'object' && value !== null && (value as { id?: unknown }).id === id) return value;
  }
  throw new UpstreamHttpError('The MCP server\'s event stream ended without an answer to the call');
}

function resultOf(message: unknown, id: string): CallToolResult {
  if (typeof message !== 'object' || message === null || (message as { id?: unknown }).id !== id) throw new UpstreamHttpError('The MCP server\'s answer is not a JSON-RPC answer to the call');
  const { result, error } = message as { result?: unknown; error?: { code?: unknown; message?: unknown; data?: unknown } };
  if (error !== undefined) {
    if (typeof error !== 'object' || error === null || typeof error.code !== 'number') throw new UpstreamHttpError('The MCP server answered with a malformed JSON-RPC error');
    throw McpError.fromError(error.code, typeof error.message === 'string' ? error.message : '', error.data);
  }
  if (typeof result !== 'object' || result === null) throw new UpstreamHttpError('The MCP server\'s answer has no result');
  // the answer step checks it against the MCP result schema
  return result as CallToolResult;
}
