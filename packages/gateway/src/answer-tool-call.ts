import { CallToolResultSchema, ErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { elicitConsent } from './consent-elicitation.ts';
import { toJsonRpcError, type JsonRpcErrorBody } from './json-rpc-error.ts';
import type { CallRequest, ToolDispatcher } from './tool-dispatcher.ts';

/** A tools/call's answer: the checked result, or the JSON-RPC error the one mapper made of its failure. */
export type ToolCallAnswer = { readonly kind: 'result'; readonly result: CallToolResult } | { readonly kind: 'error'; readonly error: JsonRpcErrorBody };

export interface ToolCallRequest extends CallRequest {
  /** Logs a failure no typed error was made for. */
  readonly onUnexpected: (error: unknown) => void;
  /** The client's `Mcp-Protocol-Version`: from 2025-11-25 a missing consent is a URL elicitation (-32042)… */
  readonly protocolVersion?: string | string[] | undefined;
  /** …when the session's `initialize` declared `capabilities.elicitation.url`. */
  readonly urlElicitation?: boolean | undefined;
}

/**
 * The one tools/call path behind every way a client sends one (the direct JSON path, the SDK
 * server for everything else, the 2026-07-28 stateless revision): the dispatcher's steps, the result
 * checked against the MCP schema, any failure mapped by json-rpc-error.ts.
 */
export async function answerToolCall(dispatcher: ToolDispatcher, request: ToolCallRequest): Promise<ToolCallAnswer> {
  try {
    const result = elicitConsent(await dispatcher.callTool(request), { protocolVersion: request.protocolVersion, urlDeclared: request.urlElicitation === true });
    const checked = CallToolResultSchema.safeParse(result);
    // a short message: zod's issue list would dump the result schema to the client
    if (!checked.success) throw new McpError(ErrorCode.InvalidParams, `The target's answer is not a valid tools/call result (at ${checked.error.issues[0]?.path.join('.') || 'the result'}); the target must return MCP tool content`);
    return { kind: 'result', result: checked.data };
  } catch (error) {
    return { kind: 'error', error: toJsonRpcError(error, request.onUnexpected) };
  }
}
