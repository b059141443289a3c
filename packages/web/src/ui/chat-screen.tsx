import { useCallback, useEffect, useRef } from 'react';
import type { User } from 'oidc-client-ts';
import type { AuthClient } from '../auth-client.ts';
import type { WebSettings } from '../web-settings.ts';
import { AccountsPanel } from './accounts-panel.tsx';
import { Composer } from './composer.tsx';
import { TopBar } from './top-bar.tsx';
import { Transcript } from './transcript.tsx';
import { useChat } from './use-chat.ts';
import { useVaultConsent } from './use-vault-consent.ts';

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

  const { connectNotice, connect, disconnect } = useVaultConsent(auth, chat.send);

  return (
    <div className="layout">
      <TopBar
        status={chat.status}
        mode={chat.mode}
        socketState={chat.socketState}
        busy={chat.busy}
        displayName={displayName}
        onMode={chat.setMode}
        onNewConversation={chat.newConversation}
        onDisconnect={disconnect}
        onSignOut={onSignOut}
      />
      <AccountsPanel accounts={chat.accounts} onReload={() => void chat.loadAccounts()} examples={EXAMPLE_PROMPTS} onExample={(prompt) => void chat.send(prompt)} busy={chat.busy} />
      <main className="chat" aria-label="Conversation">
        {connectNotice ? (
          <div className="notice" role="status" data-vault-notice="">
            {connectNotice}
          </div>
        ) : null}
        <Transcript entries={chat.entries} onRetry={retry} onSignIn={onSignIn} onConnect={connect} busy={chat.busy} />
        <Composer ref={composerRef} busy={chat.busy} onSend={(text) => void chat.send(text)} sessionId={chat.sessionId} restored={chat.restoredDraft} />
      </main>
    </div>
  );
}
