import { useCallback, useEffect, useRef, useState, type RefObject } from 'react';
import type { ConversationStore } from '../conversation-store.ts';
import { extractAccounts, type AccountSummary } from '../extract-accounts.ts';
import type { StreamEvent } from '../stream-event.ts';
import type { RuntimeTransport } from './use-runtime-transport.ts';

export type AccountsState = { readonly status: 'loading' | 'unavailable' } | { readonly status: 'loaded'; readonly accounts: readonly AccountSummary[] };

const isAccountsResult = (event: StreamEvent): event is Extract<StreamEvent, { type: 'tool-result' }> =>
  event.type === 'tool-result' && event.ok && /(^|_)list_accounts$/.test(event.name);

export interface AccountsRequest {
  readonly store: ConversationStore;
  readonly transport: RuntimeTransport['transport'];
  readonly sessionId: string;
  /** True while a visible turn runs: the accounts turn then waits for the next load. */
  readonly turnRunning: RefObject<boolean>;
}

export interface Accounts {
  readonly accounts: AccountsState;
  readonly loadAccounts: () => Promise<void>;
  /** Takes the accounts from a `list_accounts` result seen in any turn; true when it was one. */
  readonly rememberAccounts: (event: StreamEvent) => boolean;
  /** The hidden accounts turn while it runs: a question sent meanwhile waits for it. */
  readonly accountsTurn: RefObject<Promise<void> | undefined>;
}

/** The accounts panel: remembered per user, loaded once per tab by a hidden turn, updated by every `list_accounts`. */
export function useAccounts({ store, transport, sessionId, turnRunning }: AccountsRequest): Accounts {
  const [accounts, setAccounts] = useState<AccountsState>(() => {
    const known = store.accounts<AccountSummary[]>();
    return known ? { status: 'loaded', accounts: known } : { status: 'loading' };
  });

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
        await transport({ prompt: 'List my accounts', conversation: sessionId, via: 'sse', onEvent: (event) => {
          found = rememberAccounts(event) || found;
        } });
      } catch {
        // The panel says it could not load and offers a retry; the chat itself is unaffected.
      }
      if (!found) setAccounts((current) => (current.status === 'loaded' ? current : { status: 'unavailable' }));
    })().finally(() => {
      accountsTurn.current = undefined;
    });
    accountsTurn.current = run;
    return run;
  }, [transport, sessionId, rememberAccounts, turnRunning]);

  const started = useRef(false);
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    if (accounts.status === 'loading') void loadAccounts();
  }, [accounts.status, loadAccounts]);

  return { accounts, loadAccounts, rememberAccounts, accountsTurn };
}
