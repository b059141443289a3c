import { useCallback, useEffect, useRef, useState } from 'react';
import type { User } from 'oidc-client-ts';
import type { AuthClient } from '../auth-client.ts';
import type { WebSettings } from '../web-settings.ts';
import { AccountsPanel } from './accounts-panel.tsx';
import { Composer } from './composer.tsx';
import { StatusBadge } from './status-badge.tsx';
import { Transcript } from './transcript.tsx';
import { useChat } from './use-chat.ts';
import { completeConsent, disconnectAll, listenForConsent, openConsent, type ConsentLink } from '../vault-consent.ts';

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

  // A SaaS consent finished (popup or this tab): bind it to this user, then ask the same question again.
  const [connectNotice, setConnectNotice] = useState<string | undefined>(undefined);
  const sendRef = useRef(chat.send);
  sendRef.current = chat.send;
  useEffect(
    () =>
      listenForConsent((sessionUri, prompt) => {
        void (async () => {
          try {
            await completeConsent(window.location.origin, await auth.freshAccessToken(), sessionUri);
            setConnectNotice(undefined);
            if (prompt) await sendRef.current(prompt);
          } catch (error) {
            setConnectNotice(error instanceof Error ? error.message : 'Connecting failed.');
          }
        })();
      }),
    [auth],
  );
  const connect = useCallback((link: ConsentLink, prompt: string | undefined) => openConsent(link, prompt), []);
  const disconnect = useCallback(() => {
    void (async () => {
      try {
        const count = await disconnectAll(window.location.origin, await auth.freshAccessToken());
        setConnectNotice(`Disconnected ${count} app connection${count === 1 ? '' : 's'}; tools will ask you to connect again.`);
      } catch (error) {
        setConnectNotice(error instanceof Error ? error.message : 'Disconnecting failed.');
      }
    })();
  }, [auth]);

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
          <button type="button" onClick={disconnect} title="Forget and revoke the SaaS accounts you connected for tools">
            Disconnect apps
          </button>
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
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
