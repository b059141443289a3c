import { useCallback, useEffect, useRef, useState } from 'react';
import type { AuthClient } from '../auth-client.ts';
import { completeConsent, disconnectAll, listenForConsent, openConsent, type ConsentLink } from '../vault-consent.ts';

export interface VaultConsent {
  /** What the last connect or disconnect said (an error, or how many connections were dropped). */
  readonly connectNotice: string | undefined;
  readonly connect: (link: ConsentLink, prompt: string | undefined) => void;
  readonly disconnect: () => void;
}

/**
 * SaaS consents for tools (the token vault): open one, and when it finishes (popup or this tab) bind it to
 * this user, then ask the same question again with `send`; or disconnect every app at once.
 */
export function useVaultConsent(auth: AuthClient, send: (prompt: string) => Promise<void>): VaultConsent {
  const [connectNotice, setConnectNotice] = useState<string | undefined>(undefined);
  const sendRef = useRef(send);
  sendRef.current = send;
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
  return { connectNotice, connect, disconnect };
}
