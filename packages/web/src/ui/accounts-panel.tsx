import type { AccountsState } from './use-chat.ts';

interface AccountsPanelProps {
  readonly accounts: AccountsState;
  readonly examples: readonly string[];
  readonly busy: boolean;
  readonly onReload: () => void;
  readonly onExample: (prompt: string) => void;
}

export function AccountsPanel({ accounts, examples, busy, onReload, onExample }: AccountsPanelProps) {
  return (
    <aside className="side" aria-label="Accounts and examples">
      <section aria-labelledby="accounts-title">
        <h2 id="accounts-title">Accounts</h2>
        {accounts.status === 'loading' ? <p role="status">Asking the agent for your accounts…</p> : null}
        {accounts.status === 'unavailable' ? (
          <div>
            <p>The account list could not be loaded.</p>
            <button type="button" onClick={onReload} disabled={busy}>
              Try again
            </button>
          </div>
        ) : null}
        {accounts.status === 'loaded' ? (
          accounts.accounts.length === 0 ? (
            <p>No accounts are registered.</p>
          ) : (
            <ul className="accounts" data-testid="accounts">
              {accounts.accounts.map((account) => (
                <li key={`${account.name}-${account.accountId ?? ''}`}>
                  <span className="account-name">{account.name}</span>
                  {account.accountId ? <span className="account-id">{account.accountId}</span> : null}
                  {account.description ? <span className="account-description">{account.description}</span> : null}
                </li>
              ))}
            </ul>
          )
        ) : null}
      </section>
      <section aria-labelledby="examples-title">
        <h2 id="examples-title">Try asking</h2>
        <ul className="examples">
          {examples.map((prompt) => (
            <li key={prompt}>
              <button type="button" className="example" disabled={busy} onClick={() => onExample(prompt)}>
                {prompt}
              </button>
            </li>
          ))}
        </ul>
      </section>
    </aside>
  );
}
