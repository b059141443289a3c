import { useCallback, useEffect, useRef, useState } from 'react';
import type { AuthClient } from '../auth-client.ts';
import { ChatError, refusedDespiteRefresh } from '../chat-error.ts';
import type { TransportMode } from '../conversation-store.ts';
import { invokeSse } from '../invoke-sse.ts';
import { RuntimeSocket, type SocketState } from '../runtime-socket.ts';
import type { StreamEvent } from '../stream-event.ts';
import type { WebSettings } from '../web-settings.ts';

/** One turn sent to the runtime: the prompt, the conversation (session id) and how. */
export interface TurnRequest {
  readonly prompt: string;
  readonly conversation: string;
  readonly via: TransportMode;
  readonly onEvent: (event: StreamEvent) => void;
}

export interface RuntimeTransport {
  /** Sends one turn; a refused token is refreshed and the turn retried once if nothing was streamed yet. */
  readonly transport: (turn: TurnRequest) => Promise<void>;
  readonly socketState: SocketState;
  /** Closes the conversation's WebSocket (a new conversation or SSE mode opens none). */
  readonly closeSocket: () => void;
}

/** The runtime, reached over SSE or the conversation's WebSocket (opened with a fresh token, then reused). */
export function useRuntimeTransport(settings: WebSettings, auth: AuthClient): RuntimeTransport {
  const [socketState, setSocketState] = useState<SocketState>('closed');
  const socket = useRef<RuntimeSocket | undefined>(undefined);

  useEffect(() => () => socket.current?.close(), []);

  const transport = useCallback(
    async ({ prompt, conversation, via, onEvent }: TurnRequest) => {
      let received = false;
      const relay = (event: StreamEvent) => {
        received = true;
        onEvent(event);
      };
      const attempt = async (forceRefresh: boolean) => {
        const accessToken = await auth.freshAccessToken(forceRefresh);
        if (via === 'sse') {
          await invokeSse({ runtimeBase: settings.runtimeBase, sessionId: conversation, accessToken, prompt, protocol: settings.runtimeProtocol, onEvent: relay });
          return;
        }
        if (socket.current?.sessionId !== conversation) {
          socket.current?.close();
          socket.current = new RuntimeSocket(settings.runtimeBase, conversation, setSocketState, settings.runtimeProtocol);
        }
        await socket.current.send(prompt, accessToken, relay);
      };
      try {
        await attempt(false);
      } catch (error) {
        // One refresh-and-retry when the runtime says the token is no good and nothing was streamed yet.
        if (!(error instanceof ChatError) || error.code !== 'signin_expired' || received) throw error;
        try {
          await attempt(true);
        } catch (second) {
          throw second instanceof ChatError ? refusedDespiteRefresh(second) : second;
        }
      }
    },
    [auth, settings.runtimeBase, settings.runtimeProtocol],
  );

  const closeSocket = useCallback(() => {
    socket.current?.close();
    socket.current = undefined;
  }, []);

  return { transport, socketState, closeSocket };
}
