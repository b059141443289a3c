/**
 * The reference agent's stream events (DESIGN "Contract details", pinned). One union travels unchanged
 * from the loop to SSE (`event:` name = `type`) and WebSocket text frames.
 */
export type AgentEvent =
  | { readonly type: 'text-delta'; readonly delta: string }
  | { readonly type: 'tool-call'; readonly id: string; readonly name: string; readonly arguments: Record<string, unknown> }
  | { readonly type: 'tool-result'; readonly id: string; readonly name: string; readonly ok: boolean; readonly summary: string; readonly result?: unknown }
  | { readonly type: 'message'; readonly text: string }
  | { readonly type: 'error'; readonly code: string; readonly message: string; readonly fix?: string };

export type AgentEventType = AgentEvent['type'];
