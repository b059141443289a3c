/**
 * What the loop needs from a model, in a neutral shape every provider translates to and from.
 * Providers stream `ModelChunk`s; a tool use is only emitted once its input is complete.
 */
export type ContentBlock =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'tool-use'; readonly id: string; readonly name: string; readonly input: Record<string, unknown> }
  | { readonly type: 'tool-result'; readonly id: string; readonly name: string; readonly content: string; readonly isError: boolean };

export interface ConversationMessage {
  readonly role: 'user' | 'assistant';
  readonly content: readonly ContentBlock[];
}

export interface ToolSpec {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: Record<string, unknown>;
}

export interface ModelRequest {
  readonly system: string;
  readonly messages: readonly ConversationMessage[];
  readonly tools: readonly ToolSpec[];
  readonly signal?: AbortSignal;
}

export type ModelChunk =
  | { readonly type: 'text-delta'; readonly delta: string }
  | { readonly type: 'tool-use'; readonly id: string; readonly name: string; readonly input: Record<string, unknown> }
  | { readonly type: 'stop'; readonly reason: 'end_turn' | 'tool_use' | 'max_tokens' | 'other' };

export interface ModelProvider {
  /** Short label for logs and `gatehouse doctor`, e.g. `bedrock anthropic.claude-…`. */
  readonly label: string;
  stream(request: ModelRequest): AsyncIterable<ModelChunk>;
  /** One small call proving credentials and model access; resolves with a description or throws an AgentError. */
  check(): Promise<string>;
}
