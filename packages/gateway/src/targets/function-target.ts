import { randomUUID } from 'node:crypto';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ToolCallError } from '../gateway-error.ts';
import type { LambdaContext, LambdaHandler, ToolDefinition } from '../tool-definition.ts';
import { jsonResult, type TargetCallScope, type ToolTarget } from './tool-target.ts';

/**
 * A Lambda-shaped function: `handler(event, context)` with the tool's arguments flat as `event`
 * (as AgentCore's Lambda targets receive them) and Gatehouse's context contract (see README).
 */
export class FunctionTarget implements ToolTarget {
  readonly name: string;
  readonly #functionName: string;
  readonly #handler: LambdaHandler;
  readonly #tools: readonly ToolDefinition[];

  constructor(name: string, functionName: string, handler: LambdaHandler, tools: readonly ToolDefinition[]) {
    this.name = name;
    this.#functionName = functionName;
    this.#handler = handler;
    this.#tools = tools;
  }

  async listTools(): Promise<readonly ToolDefinition[]> {
    return this.#tools;
  }

  async callTool(tool: string, args: Record<string, unknown>, scope: TargetCallScope): Promise<CallToolResult> {
    const { caller, credentials } = scope;
    const identity: { sub: string; username: string; groups: string[]; scopes: string[]; credentials?: NonNullable<LambdaContext['identity']['credentials']> } = {
      sub: caller.subject,
      username: caller.username,
      groups: [...caller.groups],
      scopes: [...caller.scopes],
    };
    if (credentials.aws) {
      identity.credentials = { accessKeyId: credentials.aws.accessKeyId, secretAccessKey: credentials.aws.secretAccessKey, sessionToken: credentials.aws.sessionToken, expiration: credentials.aws.expiration };
    }
    const context: LambdaContext = {
      functionName: this.#functionName,
      awsRequestId: randomUUID(),
      getRemainingTimeInMillis: () => Math.max(0, scope.deadline - Date.now()),
      clientContext: { custom: { bedrockAgentCoreToolName: `${this.name}___${tool}`, bedrockAgentCoreGatewayName: scope.gatewayName, bedrockAgentCoreTargetName: this.name } },
      identity,
    };
    try {
      return jsonResult(await this.#handler({ ...args }, context));
    } catch (error) {
      if (error instanceof ToolCallError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      return jsonResult({ error: error instanceof Error ? error.name : 'Error', message }, true);
    }
  }

  async close(): Promise<void> {}
}

/** Tool schemas of a function target: AgentCore's `toolSchema.inlinePayload` (JSON text or an array of tool definitions). */
export function parseToolSchema(payload: string | readonly unknown[], targetName: string): ToolDefinition[] {
  const raw: unknown = typeof payload === 'string' ? JSON.parse(payload) : payload;
  if (!Array.isArray(raw)) throw new Error(`Target ${targetName}: toolSchema.inlinePayload must be a JSON array of tools`);
  return raw.map((entry, index) => {
    const tool = entry as { name?: unknown; description?: unknown; inputSchema?: unknown; outputSchema?: unknown };
    if (typeof tool.name !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(tool.name)) throw new Error(`Target ${targetName}: tool #${index} needs a name of letters, digits, _ and -`);
    const inputSchema = (tool.inputSchema && typeof tool.inputSchema === 'object' ? tool.inputSchema : { type: 'object', properties: {} }) as ToolDefinition['inputSchema'];
    const definition: { -readonly [K in keyof ToolDefinition]: ToolDefinition[K] } = { name: tool.name, inputSchema: { ...inputSchema, type: 'object' } };
    if (typeof tool.description === 'string') definition.description = tool.description;
    if (tool.outputSchema && typeof tool.outputSchema === 'object') definition.outputSchema = tool.outputSchema as Record<string, unknown>;
    return definition;
  });
}
