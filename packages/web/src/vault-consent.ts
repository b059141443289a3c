/**
 * "Connect <provider>": a tool that acts with the user's own SaaS account answers with a consent link
 * (the gateway's URL-mode elicitation). The user consents at the SaaS in a popup (or this tab); the SaaS
 * sends the browser back to this app with `session_id`; the app, signed in as that user, completes the
 * consent at Gatehouse (`POST /identities/vault/complete`), which binds it to this user only.
 */
export interface ConsentLink {
  readonly provider: string;
  readonly url: string;
  readonly elicitationId: string;
}

const CHANNEL = 'gatehouse-vault-consent';
const PENDING_KEY = 'gatehouse.vault.pending';
const PROMPT_KEY = 'gatehouse.vault.prompt';
const SESSION_PREFIX = 'urn:ietf:params:oauth:request_uri:';

/** The consent a tool result asks for (the agent's `result` of a "Connect" tool result), if any. */
export function consentOf(result: unknown): ConsentLink | undefined {
  if (!result || typeof result !== 'object') return undefined;
  const { error, provider, elicitation } = result as { error?: unknown; provider?: unknown; elicitation?: unknown };
  if (error !== 'ConsentRequired' || !elicitation || typeof elicitation !== 'object') return undefined;
  const { url, elicitationId } = elicitation as { url?: unknown; elicitationId?: unknown };
  if (typeof url !== 'string' || !/^https?:\/\//.test(url) || typeof elicitationId !== 'string') return undefined;
  return { provider: typeof provider === 'string' ? provider : new URL(url).host, url, elicitationId };
}

/**
 * On load: when the SaaS sent the browser back here (`?session_id=…`), tell the chat (another tab or the
 * popup's opener) and drop the parameter from the address. Answers whether this window is a popup that
 * should now close.
 */
export function takeConsentReturn(): { returned: boolean; popup: boolean } {
  const url = new URL(window.location.href);
  const sessionUri = url.searchParams.get('session_id');
  if (!sessionUri?.startsWith(SESSION_PREFIX)) return { returned: false, popup: false };
  url.searchParams.delete('session_id');
  url.searchParams.delete('state');
  window.history.replaceState(null, '', url.href);
  window.sessionStorage.setItem(PENDING_KEY, sessionUri);
  const channel = new BroadcastChannel(CHANNEL);
  channel.postMessage({ sessionUri });
  channel.close();
  return { returned: true, popup: window.opener !== null || window.name === 'gatehouse-connect' };
}

/** Opens the consent page in a popup (the chat stays); a blocked popup falls back to this tab. */
export function openConsent(link: ConsentLink, prompt: string | undefined): void {
  if (prompt !== undefined) window.sessionStorage.setItem(PROMPT_KEY, prompt);
  const popup = window.open(link.url, 'gatehouse-connect', 'popup,width=560,height=720');
  if (!popup) window.location.assign(link.url);
}

/** Calls `onReturn(sessionUri, prompt)` for each consent finished in a popup, and once for one finished in this tab. */
export function listenForConsent(onReturn: (sessionUri: string, prompt: string | undefined) => void): () => void {
  const take = (sessionUri: string): void => {
    window.sessionStorage.removeItem(PENDING_KEY);
    const prompt = window.sessionStorage.getItem(PROMPT_KEY) ?? undefined;
    window.sessionStorage.removeItem(PROMPT_KEY);
    onReturn(sessionUri, prompt);
  };
  const pending = window.sessionStorage.getItem(PENDING_KEY);
  if (pending) take(pending);
  const channel = new BroadcastChannel(CHANNEL);
  channel.onmessage = (message: MessageEvent<{ sessionUri?: unknown }>) => {
    if (typeof message.data.sessionUri === 'string' && message.data.sessionUri.startsWith(SESSION_PREFIX)) take(message.data.sessionUri);
  };
  return () => channel.close();
}

/** Binds the finished consent to the signed-in user (Gatehouse refuses it for anyone but the user who started it). */
export async function completeConsent(origin: string, accessToken: string, sessionUri: string): Promise<void> {
  const response = await fetch(new URL('/identities/vault/complete', origin), {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sessionUri }),
  });
  if (!response.ok) {
    const body = (await response.json().catch(() => ({}))) as { message?: unknown };
    throw new Error(typeof body.message === 'string' ? body.message : `Connecting failed (HTTP ${response.status}).`);
  }
}

/** "Disconnect": Gatehouse forgets the user's SaaS tokens (all providers) and revokes them at each SaaS. */
export async function disconnectAll(origin: string, accessToken: string): Promise<number> {
  const response = await fetch(new URL('/identities/vault/disconnect', origin), {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
    body: '{}',
  });
  const body = (await response.json().catch(() => ({}))) as { disconnected?: unknown; message?: unknown };
  if (!response.ok || typeof body.disconnected !== 'number') throw new Error(typeof body.message === 'string' ? body.message : `Disconnecting failed (HTTP ${response.status}).`);
  return body.disconnected;
}
