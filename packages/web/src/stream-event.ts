import type { AgentEvent } from '@gatehouse/agent/events';

/**
 * The reference agent's stream events (DESIGN "Contract details"), as the agent defines them: the SSE
 * `event:` name and the `type` of each WebSocket frame. A type-only import, so nothing of the agent
 * reaches the bundle. Unknown or malformed events are dropped, never rendered raw.
 */
export type StreamEvent = AgentEvent;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** Turns one decoded event (type from SSE `event:` or the frame's `type`) into a typed event, or undefined. */
export function toStreamEvent(type: string | undefined, data: unknown): StreamEvent | undefined {
  if (!isRecord(data)) return undefined;
  const kind = type ?? text(data['type']);
  switch (kind) {
    case 'text-delta': {
      const delta = text(data['delta']);
      return delta === undefined ? undefined : { type: 'text-delta', delta };
    }
    case 'tool-call': {
      const id = text(data['id']);
      const name = text(data['name']);
      if (id === undefined || name === undefined) return undefined;
      const args = isRecord(data['arguments']) ? data['arguments'] : {};
      return { type: 'tool-call', id, name, arguments: args };
    }
    case 'tool-result': {
      const id = text(data['id']);
      const name = text(data['name']) ?? '';
      if (id === undefined) return undefined;
      const event: StreamEvent = { type: 'tool-result', id, name, ok: data['ok'] === true, summary: text(data['summary']) ?? '' };
      return 'result' in data ? { ...event, result: data['result'] } : event;
    }
    case 'message': {
      const body = text(data['text']);
      return body === undefined ? undefined : { type: 'message', text: body };
    }
    case 'error': {
      const message = text(data['message']) ?? 'The agent reported an error without a message.';
      const fix = text(data['fix']);
      const base = { type: 'error' as const, code: text(data['code']) ?? 'agent_error', message };
      return fix === undefined ? base : { ...base, fix };
    }
    default:
      return undefined;
  }
}

/** Whether this event closes a turn (the final answer or a failure). */
export function endsTurn(event: StreamEvent): boolean {
  return event.type === 'message' || event.type === 'error';
}
