import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Caller } from '../caller.ts';
import type { OutboundCredentials } from '../credentials/resolve-credentials.ts';
import type { ToolDefinition } from '../tool-definition.ts';

/** Everything one target call may use: the verified caller and that caller's credentials for this target. */
export interface TargetCallScope {
  readonly caller: Caller;
  readonly credentials: OutboundCredentials;
  readonly signal: AbortSignal;
  /** Epoch ms after which the call is abandoned (the target's timeout). */
  readonly deadline: number;
  readonly gatewayName: string;
  readonly requestId: string;
}

/** One configured target (MCP server, OpenAPI API, function module). Tool names here are unprefixed. */
export interface ToolTarget {
  readonly name: string;
  listTools(scope: TargetCallScope): Promise<readonly ToolDefinition[]>;
  callTool(tool: string, args: Record<string, unknown>, scope: TargetCallScope): Promise<CallToolResult>;
  close(): Promise<void>;
}

/** A JSON value as an MCP tool result: text for any client, structuredContent for those that use it. */
export function jsonResult(value: unknown, isError = false): CallToolResult {
  const text = typeof value === 'string' ? value : JSON.stringify(value ?? null);
  const result: CallToolResult = { content: [{ type: 'text', text }] };
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) result.structuredContent = value as Record<string, unknown>;
  if (isError) result.isError = true;
  return result;
}
