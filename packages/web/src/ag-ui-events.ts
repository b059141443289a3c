import type { RunAgentInput } from '@ag-ui/core';
import type { StreamEvent } from './stream-event.ts';

/**
 * AG-UI (the `AGUI` runtime protocol) → the UI's own event union: the one place that knows AG-UI's event names.
 * Type-only imports from `@ag-ui/core`, so none of it reaches the bundle. AG-UI streams text and tool arguments in
 * pieces and ends a run with RUN_FINISHED; the UI wants a `tool-call` with whole arguments and a final `message`,
 * so this keeps the run's text and each open tool call until they are complete.
 */
export class AgUiTranslator {
  private text = '';
  private readonly toolCalls = new Map<string, { name: string; args: string }>();
  /** Names of finished tool calls, for their results (AG-UI's TOOL_CALL_RESULT carries only the id). */
  private readonly toolNames = new Map<string, string>();

  /** The UI events one decoded AG-UI event (an SSE `data:` or a WebSocket frame) stands for; none for unknown ones. */
  translate(data: unknown): StreamEvent[] {
    if (!isRecord(data) || typeof data['type'] !== 'string') return [];
    switch (data['type']) {
      case 'RUN_STARTED':
        this.text = '';
        this.toolCalls.clear();
        this.toolNames.clear();
        return [];
      case 'TEXT_MESSAGE_CONTENT':
      case 'TEXT_MESSAGE_CHUNK': {
        const delta = text(data['delta']);
        if (!delta) return [];
        this.text += delta;
        return [{ type: 'text-delta', delta }];
      }
      case 'TOOL_CALL_START':
      case 'TOOL_CALL_CHUNK':
        return this.toolCallPiece(data);
      case 'TOOL_CALL_ARGS':
        this.toolCallPiece(data);
        return [];
      case 'TOOL_CALL_END':
        return this.endToolCall(text(data['toolCallId']));
      case 'TOOL_CALL_RESULT':
        return this.toolResult(data);
      case 'RUN_FINISHED':
        // Tool calls streamed as chunks have no END: they are complete when the run is.
        return [...[...this.toolCalls.keys()].flatMap((id) => this.endToolCall(id)), { type: 'message', text: this.text }];
      case 'RUN_ERROR':
        return [{ type: 'error', code: text(data['code']) ?? 'agent_error', message: text(data['message']) ?? 'The agent reported an error without a message.' }];
      default:
        return [];
    }
  }

  private toolCallPiece(data: Record<string, unknown>): StreamEvent[] {
    const id = text(data['toolCallId']);
    if (id === undefined) return [];
    const call = this.toolCalls.get(id) ?? { name: '', args: '' };
    call.name ||= text(data['toolCallName']) ?? '';
    call.args += text(data['delta']) ?? '';
    this.toolCalls.set(id, call);
    return [];
  }

  private endToolCall(id: string | undefined): StreamEvent[] {
    const call = id === undefined ? undefined : this.toolCalls.get(id);
    if (id === undefined || !call) return [];
    this.toolCalls.delete(id);
    this.toolNames.set(id, call.name);
    const parsed = parseJson(call.args);
    return [{ type: 'tool-call', id, name: call.name, arguments: isRecord(parsed) ? parsed : {} }];
  }

  private toolResult(data: Record<string, unknown>): StreamEvent[] {
    const id = text(data['toolCallId']);
    if (id === undefined) return [];
    const content = typeof data['content'] === 'string' ? data['content'] : JSON.stringify(data['content'] ?? '');
    const result = parseJson(content) ?? content;
    const failed = isRecord(data['metadata']) && data['metadata']['error'] === true;
    return [{ type: 'tool-result', id, name: this.toolNames.get(id) ?? '', ok: !failed, summary: content.length > 200 ? `${content.slice(0, 200)}…` : content, result }];
  }
}

/** The body of one AG-UI run: the thread is the runtime session, the prompt the one new user message. */
export function runAgentInput(threadId: string, prompt: string): RunAgentInput {
  return {
    threadId,
    runId: crypto.randomUUID(),
    messages: [{ id: crypto.randomUUID(), role: 'user', content: prompt }],
    tools: [],
    context: [],
    state: {},
    forwardedProps: {},
  };
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

function parseJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}
