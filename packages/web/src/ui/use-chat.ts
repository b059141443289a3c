import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import type { AuthClient } from '../auth-client.ts';
import { ChatError, networkError } from '../chat-error.ts';
import { chatReducer, type Entry } from '../chat-state.ts';
import { ConversationStore, saveDraft, saveTransport, loadTransport, type TransportMode } from '../conversation-store.ts';
import type { WebSettings } from '../web-settings.ts';
import { useAccounts } from './use-accounts.ts';
import { useRuntimeTransport } from './use-runtime-transport.ts';

export type { AccountsState } from './use-accounts.ts';
export type ConnectionStatus = 'ready' | 'connecting' | 'streaming' | 'offline' | 'interrupted';

/**
 * Everything the chat screen does: turns over SSE or WebSocket with refresh-and-retry (`use-runtime-transport`),
 * the accounts panel (`use-accounts`), persistence of the conversation and the connection status.
 */
export function useChat(settings: WebSettings, auth: AuthClient, userKey: string) {
  const store = useRef(new ConversationStore(userKey)).current;
  const [sessionId, setSessionId] = useState(() => store.sessionId());
  const [entries, dispatch] = useReducer(chatReducer, [] as readonly Entry[], () =>
    chatReducer([], { type: 'load', entries: store.transcript<readonly Entry[]>(store.sessionId()) ?? [] }),
  );
  const [mode, setModeState] = useState<TransportMode>(loadTransport);
  const [busy, setBusy] = useState(false);
  const [interrupted, setInterrupted] = useState(false);
  const [restoredDraft, setRestoredDraft] = useState<{ readonly text: string; readonly at: number } | undefined>(undefined);
  const online = useOnline(() => setInterrupted(false));
  const { transport, socketState, closeSocket } = useRuntimeTransport(settings, auth);
  // One visible turn at a time per conversation: the runtime serves a session's requests in order anyway.
  const turnRunning = useRef(false);
  const { accounts, loadAccounts, rememberAccounts, accountsTurn } = useAccounts({ store, transport, sessionId, turnRunning });

  useEffect(() => {
    store.saveTranscript(sessionId, entries);
  }, [store, sessionId, entries]);

  const send = useCallback(
    async (prompt: string) => {
      const text = prompt.trim();
      if (text === '' || turnRunning.current) return;
      turnRunning.current = true;
      setBusy(true);
      setInterrupted(false);
      dispatch({ type: 'ask', prompt: text });
      try {
        await accountsTurn.current;
        await transport({ prompt: text, conversation: sessionId, via: mode, onEvent: (event) => {
          rememberAccounts(event);
          dispatch({ type: 'event', event });
        } });
        dispatch({ type: 'finish' });
      } catch (error) {
        const failure = error instanceof ChatError ? error : networkError();
        if (failure.code === 'network') setInterrupted(true);
        // The message goes back into the composer and the stored draft, which survives the sign-in round trip.
        if (failure.code === 'signin_expired') {
          saveDraft(text);
          setRestoredDraft({ text, at: Date.now() });
        }
        dispatch({ type: 'fail', error: failure });
      } finally {
        turnRunning.current = false;
        setBusy(false);
      }
    },
    [transport, sessionId, mode, rememberAccounts, accountsTurn],
  );

  const newConversation = useCallback(() => {
    closeSocket();
    const id = store.newConversation();
    setSessionId(id);
    dispatch({ type: 'load', entries: [] });
    setInterrupted(false);
  }, [store, closeSocket]);

  const setMode = useCallback((next: TransportMode) => {
    saveTransport(next);
    if (next === 'sse') closeSocket();
    setModeState(next);
  }, [closeSocket]);

  const status = connectionStatus({ online, busy, connecting: socketState === 'connecting', interrupted });
  return { sessionId, entries, mode, setMode, busy, status, socketState, accounts, loadAccounts, send, newConversation, restoredDraft };
}

/** `navigator.onLine`, kept current; `onBackOnline` runs when the browser is online again. */
function useOnline(onBackOnline: () => void): boolean {
  const [online, setOnline] = useState(() => navigator.onLine);
  const backOnline = useRef(onBackOnline);
  backOnline.current = onBackOnline;
  useEffect(() => {
    const update = () => {
      setOnline(navigator.onLine);
      // Back online: the failed turn keeps its Retry button; the badge need not stay red.
      if (navigator.onLine) backOnline.current();
    };
    window.addEventListener('online', update);
    window.addEventListener('offline', update);
    return () => {
      window.removeEventListener('online', update);
      window.removeEventListener('offline', update);
    };
  }, []);
  return online;
}

function connectionStatus(state: { online: boolean; busy: boolean; connecting: boolean; interrupted: boolean }): ConnectionStatus {
  if (!state.online) return 'offline';
  if (state.busy) return 'streaming';
  if (state.connecting) return 'connecting';
  return state.interrupted ? 'interrupted' : 'ready';
}
