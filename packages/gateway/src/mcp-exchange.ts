import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallToolRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Caller } from './caller.ts';
import type { ToolDispatcher } from './tool-dispatcher.ts';

/** One MCP POST past the endpoint's checks: who sent it, what it said, and where the answer goes. */
export interface McpExchange {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  /** The parsed JSON-RPC message (or batch). */
  readonly body: unknown;
  readonly caller: Caller;
  /** The bound MCP session ('' for the stateless revision and initialize) and what its initialize declared. */
  readonly session: { readonly id: string; readonly urlElicitation: boolean };
  /** The tools/call of a single-message body as inspect-message.ts parsed it, so no path parses it again. */
  readonly toolCall: CallToolRequest | undefined;
  readonly dispatcher: ToolDispatcher;
  /** Logs a failure no typed error was made for. */
  readonly onUnexpected: (error: unknown) => void;
}
