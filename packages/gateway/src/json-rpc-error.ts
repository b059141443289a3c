import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { ToolCallError, toolRpcCode } from './gateway-error.ts';
import { MessageRefusal } from './inspect-message.ts';

export interface JsonRpcErrorBody {
  readonly code: number;
  readonly message: string;
  readonly data?: unknown;
}

const INTERNAL_ERROR: JsonRpcErrorBody = { code: ErrorCode.InternalError, message: 'Internal error in the gateway; the call was not completed. Retry, and report it to the administrator if it persists' };

/**
 * The one mapping from a failure of a JSON-RPC request (tools/call above all) to its wire error, used
 * by every path that answers one: the direct path, the 2026-07-28 stateless path and the SDK server.
 * Decided by type and typed code only. Anything unexpected becomes InternalError with a fixed
 * message (never a stack, a path or a library's text) and is handed to `onUnexpected` to be logged.
 */
export function toJsonRpcError(error: unknown, onUnexpected: (error: unknown) => void): JsonRpcErrorBody {
  if (error instanceof MessageRefusal) return { code: error.rpcCode, message: error.message };
  if (error instanceof ToolCallError) return { code: toolRpcCode[error.code], message: error.message };
  if (error instanceof McpError) {
    // McpError prefixes its message with "MCP error <code>: "; the client adds that itself again
    const prefix = `MCP error ${error.code}: `;
    const message = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
    return error.data === undefined ? { code: error.code, message } : { code: error.code, message, data: error.data };
  }
  onUnexpected(error);
  return INTERNAL_ERROR;
}

/**
 * What an SDK `Server` request handler throws so that the SDK answers exactly `toJsonRpcError`'s
 * body: the SDK copies `code`, `message` and `data` of a thrown error onto the wire.
 */
export class JsonRpcFailure extends Error {
  readonly code: number;
  readonly data: unknown;

  constructor(body: JsonRpcErrorBody) {
    super(body.message);
    this.name = 'JsonRpcFailure';
    this.code = body.code;
    this.data = body.data;
  }
}
