import { useCallback, useEffect, useState } from 'react';
import type { User } from 'oidc-client-ts';
import { createAuthClient, type AuthClient } from '../auth-client.ts';
import { ChatError } from '../chat-error.ts';
import { takeConsentReturn } from '../vault-consent.ts';
import { loadWebSettings, type WebSettings } from '../web-settings.ts';

/** Where the app is: loading settings, signed out or in, or a consent popup that is done. */
export type Phase =
  | { readonly kind: 'loading' }
  | { readonly kind: 'signing-out' }
  | { readonly kind: 'connected' }
  | { readonly kind: 'broken'; readonly message: string }
  | { readonly kind: 'signed-out'; readonly settings: WebSettings; readonly auth: AuthClient; readonly notice?: string }
  | { readonly kind: 'signed-in'; readonly settings: WebSettings; readonly auth: AuthClient; readonly user: User };

export interface AuthPhase {
  readonly phase: Phase;
  readonly signOut: () => void;
  readonly signInAgain: () => void;
}

/** Settings → sign-in state, kept in step with silent renewals; sign-in and sign-out. */
export function useAuthPhase(): AuthPhase {
  const [phase, setPhase] = useState<Phase>({ kind: 'loading' });

  useEffect(() => {
    const start = { cancelled: false };
    void startPhase(setPhase, start);
    return () => {
      start.cancelled = true;
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

  return { phase, signOut, signInAgain };
}

/** The first phase after loading: a finished consent popup, broken settings, or the sign-in state. */
async function startPhase(setPhase: (phase: Phase) => void, start: { readonly cancelled: boolean }): Promise<void> {
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
    if (!start.cancelled) setPhase({ kind: 'broken', message: error instanceof Error ? error.message : 'Could not load settings.' });
    return;
  }
  const auth = createAuthClient(settings);
  try {
    const user = await auth.start();
    if (start.cancelled) return;
    setPhase(user ? { kind: 'signed-in', settings, auth, user } : { kind: 'signed-out', settings, auth });
  } catch (error) {
    if (start.cancelled) return;
    const notice = error instanceof ChatError ? `${error.message} ${error.fix ?? ''}`.trim() : 'Sign-in did not complete. Please try again.';
    setPhase({ kind: 'signed-out', settings, auth, notice });
  }
}
