import { useCallback, useEffect, useState } from 'react';
import type { User } from 'oidc-client-ts';
import { createAuthClient, type AuthClient } from '../auth-client.ts';
import { ChatError } from '../chat-error.ts';
import { loadWebSettings, type WebSettings } from '../web-settings.ts';
import { ChatScreen } from './chat-screen.tsx';
import { SignInScreen } from './sign-in-screen.tsx';
import { takeConsentReturn } from '../vault-consent.ts';

type Phase =
  | { readonly kind: 'loading' }
  | { readonly kind: 'signing-out' }
  | { readonly kind: 'connected' }
  | { readonly kind: 'broken'; readonly message: string }
  | { readonly kind: 'signed-out'; readonly settings: WebSettings; readonly auth: AuthClient; readonly notice?: string }
  | { readonly kind: 'signed-in'; readonly settings: WebSettings; readonly auth: AuthClient; readonly user: User };

export function App() {
  const [phase, setPhase] = useState<Phase>({ kind: 'loading' });

  useEffect(() => {
    let cancelled = false;
    void (async () => {
      // Back from a SaaS consent in the popup: the chat (its opener) completes it; this window just closes.
      if (takeConsentReturn().popup) {
        setPhase({ kind: 'connected' });
        window.close();
        return;
      }
      let settings: WebSettings;
      try {
        settings = await loadWebSettings(window.location.origin);
      } catch (error) {
        if (!cancelled) setPhase({ kind: 'broken', message: error instanceof Error ? error.message : 'Could not load settings.' });
        return;
      }
      const auth = createAuthClient(settings);
      try {
        const user = await auth.start();
        if (cancelled) return;
        setPhase(user ? { kind: 'signed-in', settings, auth, user } : { kind: 'signed-out', settings, auth });
      } catch (error) {
        if (cancelled) return;
        const notice = error instanceof ChatError ? `${error.message} ${error.fix ?? ''}`.trim() : 'Sign-in did not complete. Please try again.';
        setPhase({ kind: 'signed-out', settings, auth, notice });
      }
    })();
    return () => {
      cancelled = true;
    };
  }, []);

  // Keep the displayed user in step with silent renewals; drop to sign-in when the session is gone.
  useEffect(() => {
    if (phase.kind !== 'signed-in') return;
    const { auth, settings } = phase;
    const loaded = (user: User) => setPhase({ kind: 'signed-in', settings, auth, user });
    const unloaded = () => setPhase({ kind: 'signed-out', settings, auth, notice: 'You were signed out.' });
    auth.userManager.events.addUserLoaded(loaded);
    auth.userManager.events.addUserUnloaded(unloaded);
    return () => {
      auth.userManager.events.removeUserLoaded(loaded);
      auth.userManager.events.removeUserUnloaded(unloaded);
    };
  }, [phase]);

  // The sign-in screen must not flash up (and be clickable) while the hosted session is still being ended.
  const signOut = useCallback(() => {
    if (phase.kind !== 'signed-in') return;
    const { auth } = phase;
    setPhase({ kind: 'signing-out' });
    void auth.signOut();
  }, [phase]);

  const signInAgain = useCallback(() => {
    if (phase.kind === 'signed-in' || phase.kind === 'signed-out') void phase.auth.signIn();
  }, [phase]);

  switch (phase.kind) {
    case 'loading':
      return (
        <main className="centered" aria-busy="true">
          <p role="status">Loading Gatehouse…</p>
        </main>
      );
    case 'connected':
      return (
        <main className="centered">
          <p role="status">Connected. You can close this window and go back to the chat.</p>
        </main>
      );
    case 'signing-out':
      return (
        <main className="centered" aria-busy="true">
          <p role="status">Signing out…</p>
        </main>
      );
    case 'broken':
      return (
        <main className="centered">
          <div className="notice notice-error" role="alert">
            <h1>Gatehouse is not ready</h1>
            <p>{phase.message}</p>
            <button type="button" onClick={() => window.location.reload()}>
              Reload
            </button>
          </div>
        </main>
      );
    case 'signed-out':
      return <SignInScreen notice={phase.notice} onSignIn={signInAgain} />;
    case 'signed-in':
      return <ChatScreen settings={phase.settings} auth={phase.auth} user={phase.user} onSignIn={signInAgain} onSignOut={signOut} />;
  }
}
