import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import type { AuthClient } from '../auth-client.ts';
import { ChatError, networkError, refusedDespiteRefresh } from '../chat-error.ts';
import { chatReducer, type Entry } from '../chat-state.ts';
import { ConversationStore, saveDraft, saveTransport, loadTransport, type TransportMode } from '../conversation-store.ts';
import { extractAccounts, type AccountSummary } from '../extract-accounts.ts';
import { invokeSse } from '../invoke-sse.ts';
import { RuntimeSocket, type SocketState } from '../runtime-socket.ts';
import type { StreamEvent } from '../stream-event.ts';
import type { WebSettings } from '../web-settings.ts';

export type ConnectionStatus = 'ready' | 'connecting' | 'streaming' | 'offline' | 'interrupted';
export type AccountsState = { readonly status: 'loading' | 'unavailable' } | { readonly status: 'loaded'; readonly accounts: readonly AccountSummary[] };

const isAccountsResult = (event: StreamEvent): event is Extract<StreamEvent, { type: 'tool-result' }> =>
  event.type === 'tool-result' && event.ok && /(^|_)list_accounts$/.test(event.name);

/** Everything the chat screen does: turns over SSE or WebSocket, refresh-and-retry, persistence, accounts. */
export function useChat(settings: WebSettings, auth: AuthClient, userKey: string) {
  const store = useRef(new ConversationStore(userKey)).current;
  const [sessionId, setSessionId] = useState(() => store.sessionId());
  const [entries, dispatch] = useReducer(chatReducer, [] as readonly Entry[], () =>
    chatReducer([], { type: 'load', entries: store.transcript<readonly Entry[]>(store.sessionId()) ?? [] }),
  );
  const [mode, setModeState] = useState<TransportMode>(loadTransport);
  const [busy, setBusy] = useState(false);
  const [socketState, setSocketState] = useState<SocketState>('closed');
  const [online, setOnline] = useState(() => navigator.onLine);
  const [interrupted, setInterrupted] = useState(false);
  const [restoredDraft, setRestoredDraft] = useState<{ readonly text: string; readonly at: number } | undefined>(undefined);
  const [accounts, setAccounts] = useState<AccountsState>(() => {
    const known = store.accounts<AccountSummary[]>();
    return known ? { status: 'loaded', accounts: known } : { status: 'loading' };
  });
  const socket = useRef<RuntimeSocket | undefined>(undefined);
  // One visible turn at a time per conversation: the runtime serves a session's requests in order anyway.
  const turnRunning = useRef(false);

  useEffect(() => {
    store.saveTranscript(sessionId, entries);
  }, [store, sessionId, entries]);

  useEffect(() => {
    const update = () => {
      setOnline(navigator.onLine);
      // Back online: the failed turn keeps its Retry button; the badge need not stay red.
      if (navigator.onLine) setInterrupted(false);
    };
    window.addEventListener('online', update);
    window.addEventListener('offline', update);
    return () => {
      window.removeEventListener('online', update);
      window.removeEventListener('offline', update);
    };
  }, []);

  useEffect(() => () => socket.current?.close(), []);

  const rememberAccounts = useCallback(
    (event: StreamEvent) => {
      if (!isAccountsResult(event)) return false;
      const found = extractAccounts(event.result ?? event.summary);
      if (!found) return false;
      store.saveAccounts(found);
      setAccounts({ status: 'loaded', accounts: found });
      return true;
    },
    [store],
  );

  const transport = useCallback(
    async (prompt: string, conversation: string, via: TransportMode, onEvent: (event: StreamEvent) => void) => {
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

  /**
   * Asks the agent for the accounts in the current conversation without showing the turn, so a new
   * user gets the panel without a second session (each session is an agent process of its own).
   * A question sent meanwhile waits for it, since the runtime serves one session's turns in order.
   */
  const accountsTurn = useRef<Promise<void> | undefined>(undefined);
  const loadAccounts = useCallback((): Promise<void> => {
    if (accountsTurn.current) return accountsTurn.current;
    if (turnRunning.current) return Promise.resolve();
    setAccounts({ status: 'loading' });
    const run = (async () => {
      let found = false;
      try {
        await transport('List my accounts', sessionId, 'sse', (event) => {
          found = rememberAccounts(event) || found;
        });
      } catch {
        // The panel says it could not load and offers a retry; the chat itself is unaffected.
      }
      if (!found) setAccounts((current) => (current.status === 'loaded' ? current : { status: 'unavailable' }));
    })().finally(() => {
      accountsTurn.current = undefined;
    });
    accountsTurn.current = run;
    return run;
  }, [transport, sessionId, rememberAccounts]);

  const started = useRef(false);
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    if (accounts.status === 'loading') void loadAccounts();
  }, [accounts.status, loadAccounts]);

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
        await transport(text, sessionId, mode, (event) => {
          rememberAccounts(event);
          dispatch({ type: 'event', event });
        });
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
    [transport, sessionId, mode, rememberAccounts],
  );

  const newConversation = useCallback(() => {
    socket.current?.close();
    socket.current = undefined;
    const id = store.newConversation();
    setSessionId(id);
    dispatch({ type: 'load', entries: [] });
    setInterrupted(false);
  }, [store]);

  const setMode = useCallback((next: TransportMode) => {
    saveTransport(next);
    if (next === 'sse') {
      socket.current?.close();
      socket.current = undefined;
    }
    setModeState(next);
  }, []);

  const status: ConnectionStatus = !online
    ? 'offline'
    : busy
      ? 'streaming'
      : socketState === 'connecting'
        ? 'connecting'
        : interrupted
          ? 'interrupted'
          : 'ready';

  return { sessionId, entries, mode, setMode, busy, status, socketState, accounts, loadAccounts, send, newConversation, restoredDraft };
}
