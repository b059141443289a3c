import { ChatError, chatErrorFromResponse, networkError } from './chat-error.ts';
import { readSse } from '@gatehouse/core/sse';
import { endsTurn, type StreamEvent } from './stream-event.ts';
import { turnCodec, type ChatProtocol } from './turn-codec.ts';

export interface TurnRequest {
  readonly runtimeBase: string;
  readonly sessionId: string;
  readonly accessToken: string;
  readonly prompt: string;
  /** The runtime's `serverProtocol`; default HTTP (`{"prompt": …}` in, the agent's own events out). */
  readonly protocol?: ChatProtocol;
  readonly signal?: AbortSignal;
  readonly onEvent: (event: StreamEvent) => void;
}

/**
 * One turn over `POST /runtimes/{arn}/invocations` (AgentCore InvokeAgentRuntime with a bearer token).
 * Resolves when the agent's stream ends; rejects with a ChatError the UI can explain.
 */
export async function invokeSse(turn: TurnRequest): Promise<void> {
  const codec = turnCodec(turn.protocol ?? 'HTTP', turn.sessionId, turn.prompt);
  let response: Response;
  try {
    response = await fetch(`${turn.runtimeBase}/invocations?qualifier=DEFAULT`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${turn.accessToken}`,
        'content-type': 'application/json',
        accept: 'text/event-stream, application/json',
        'x-amzn-bedrock-agentcore-runtime-session-id': turn.sessionId,
      },
      body: codec.body,
      ...(turn.signal ? { signal: turn.signal } : {}),
    });
  } catch (error) {
    if (turn.signal?.aborted) throw error;
    throw networkError('Could not reach the agent runtime.');
  }
  if (!response.ok) throw await chatErrorFromResponse(response);
  const type = response.headers.get('content-type') ?? '';
  if (!type.includes('text/event-stream')) {
    // A non-streaming agent answers with one JSON document; show its text as the final message.
    const body: unknown = await response.json().catch(() => undefined);
    turn.onEvent({ type: 'message', text: finalText(body) });
    return;
  }
  if (!response.body) throw networkError();
  try {
    for await (const message of readSse(response.body)) {
      let data: unknown;
      try {
        data = JSON.parse(message.data);
      } catch {
        continue;
      }
      for (const event of codec.decode(message.event, data)) {
        turn.onEvent(event);
        if (endsTurn(event)) return;
      }
    }
  } catch (error) {
    if (turn.signal?.aborted || error instanceof ChatError) throw error;
    throw networkError();
  }
}

function finalText(body: unknown): string {
  if (typeof body === 'string') return body;
  if (typeof body === 'object' && body !== null) {
    for (const key of ['text', 'message', 'result', 'output', 'response']) {
      const value = (body as Record<string, unknown>)[key];
      if (typeof value === 'string') return value;
    }
  }
  return '```json\n' + JSON.stringify(body, null, 2) + '\n```';
}
