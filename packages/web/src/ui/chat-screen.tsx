import { useCallback, useEffect, useRef } from 'react';
import type { User } from 'oidc-client-ts';
import type { AuthClient } from '../auth-client.ts';
import type { WebSettings } from '../web-settings.ts';
import { AccountsPanel } from './accounts-panel.tsx';
import { Composer } from './composer.tsx';
import { StatusBadge } from './status-badge.tsx';
import { Transcript } from './transcript.tsx';
import { useChat } from './use-chat.ts';

export const EXAMPLE_PROMPTS = [
  'List S3 buckets in the Production account',
  'List my accounts',
  'Describe resources in the Staging account',
  'List S3 buckets in the Development account',
];

interface ChatScreenProps {
  readonly settings: WebSettings;
  readonly auth: AuthClient;
  readonly user: User;
  readonly onSignIn: () => void;
  readonly onSignOut: () => void;
}

export function ChatScreen({ settings, auth, user, onSignIn, onSignOut }: ChatScreenProps) {
  const userKey = user.profile.sub;
  const composerRef = useRef<HTMLTextAreaElement>(null);
  const chat = useChat(settings, auth, userKey);
  const displayName = (typeof user.profile.email === 'string' && user.profile.email) || (user.profile['cognito:username'] as string | undefined) || user.profile.preferred_username || 'you';

  useEffect(() => {
    composerRef.current?.focus();
  }, []);

  const retry = useCallback(
    (prompt: string) => {
      void chat.send(prompt);
    },
    [chat],
  );

  return (
    <div className="layout">
      <header className="topbar">
        <h1 className="brand">Gatehouse</h1>
        <StatusBadge status={chat.status} mode={chat.mode} socketState={chat.socketState} />
        <fieldset className="transport" disabled={chat.busy}>
          <legend className="visually-hidden">Connection type</legend>
          <label>
            <input type="radio" name="transport" value="sse" checked={chat.mode === 'sse'} onChange={() => chat.setMode('sse')} /> SSE
          </label>
          <label>
            <input type="radio" name="transport" value="websocket" checked={chat.mode === 'websocket'} onChange={() => chat.setMode('websocket')} /> WebSocket
          </label>
        </fieldset>
        <div className="account-menu">
          <span className="user" title="Signed in as">
            {displayName}
          </span>
          <button type="button" onClick={chat.newConversation} disabled={chat.busy}>
            New conversation
          </button>
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <AccountsPanel accounts={chat.accounts} onReload={() => void chat.loadAccounts()} examples={EXAMPLE_PROMPTS} onExample={(prompt) => void chat.send(prompt)} busy={chat.busy} />
      <main className="chat" aria-label="Conversation">
        <Transcript entries={chat.entries} onRetry={retry} onSignIn={onSignIn} busy={chat.busy} />
        <Composer ref={composerRef} busy={chat.busy} onSend={(text) => void chat.send(text)} sessionId={chat.sessionId} restored={chat.restoredDraft} />
      </main>
    </div>
  );
}
