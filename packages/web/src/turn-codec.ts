import { AgUiTranslator, runAgentInput } from './ag-ui-events.ts';
import { toStreamEvent, type StreamEvent } from './stream-event.ts';

/** The runtime protocols the chat can speak (`/config.json` `runtimeProtocol`); MCP and A2A runtimes are not chats. */
export type ChatProtocol = 'HTTP' | 'AGUI';

/** How one turn is written to the runtime and how its stream (SSE events or WebSocket frames) is read back. */
export interface TurnCodec {
  /** The invocation payload (SSE) or the WebSocket text frame. */
  readonly body: string;
  /** UI events for one decoded event; `name` is the SSE `event:` field (absent for frames). */
  decode(name: string | undefined, data: unknown): StreamEvent[];
}

export function turnCodec(protocol: ChatProtocol, sessionId: string, prompt: string): TurnCodec {
  if (protocol === 'AGUI') {
    const translator = new AgUiTranslator();
    return { body: JSON.stringify(runAgentInput(sessionId, prompt)), decode: (_name, data) => translator.translate(data) };
  }
  return {
    body: JSON.stringify({ prompt }),
    decode: (name, data) => {
      const event = toStreamEvent(name, data);
      return event ? [event] : [];
    },
  };
}
