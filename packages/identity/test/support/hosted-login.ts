import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { RunningIdentity } from '@gatehouse/testing/start-identity';

/** Drives the hosted login page with plain fetch, as a browser would: GET the form, POST it back with its cookie. */
export interface LoginResult {
  readonly status: number;
  readonly location: string | null;
  readonly body: string;
  readonly sessionCookie: string | undefined;
}

function cookieValue(setCookies: readonly string[], name: string): string | undefined {
  for (const header of setCookies) {
    const [pair] = header.split(';');
    if (pair?.startsWith(`${name}=`)) return pair;
  }
  return undefined;
}

export function hiddenFields(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields[match[1]!] = match[2]!.replace(/&#(\d+);/g, (_all, code: string) => String.fromCharCode(Number(code)));
  }
  return fields;
}

export async function login(authorizeUrl: string, username: string, password: string, options: { cookie?: string; extra?: Record<string, string> } = {}): Promise<LoginResult> {
  const first = await fetch(authorizeUrl, { redirect: 'manual', headers: options.cookie ? { cookie: options.cookie } : {} });
  const location = first.headers.get('location');
  if (first.status !== 302 || !location) return { status: first.status, location, body: await first.text(), sessionCookie: undefined };
  const loginUrl = new URL(location, authorizeUrl);
  if (loginUrl.pathname !== '/login') return { status: first.status, location, body: '', sessionCookie: undefined };
  const page = await fetch(loginUrl);
  const html = await page.text();
  const csrfCookie = cookieValue(page.headers.getSetCookie(), 'gatehouse_csrf');
  const form = new URLSearchParams({ ...hiddenFields(html), username, password, ...options.extra });
  const posted = await fetch(new URL('/login', authorizeUrl), {
    method: 'POST', redirect: 'manual', body: form,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(csrfCookie ? { cookie: csrfCookie } : {}) },
  });
  return { status: posted.status, location: posted.headers.get('location'), body: await posted.text(), sessionCookie: cookieValue(posted.headers.getSetCookie(), 'gatehouse_session') };
}

/** A code + PKCE (S256) authorization request of the default pool's web client, calling back to `{baseUrl}/callback`. */
export function authorizeWebClient(running: RunningIdentity): { url: string; verifier: string; state: string } {
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(8).toString('hex');
  const parameters = new URLSearchParams({
    response_type: 'code', client_id: running.identity.defaultPool.webClientId, redirect_uri: `${running.baseUrl}/callback`, scope: 'openid email', state,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
  });
  return { url: `${running.baseUrl}/oauth2/authorize?${parameters}`, verifier, state };
}

/** Redeems the code in `callback` (from `authorizeWebClient`) at the token endpoint with its verifier; the exchange must succeed. */
export async function redeemCode(running: RunningIdentity, callback: string, verifier: string): Promise<Record<string, string>> {
  const code = new URL(callback).searchParams.get('code')!;
  const response = await fetch(`${running.baseUrl}/oauth2/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: running.identity.defaultPool.webClientId, code, redirect_uri: `${running.baseUrl}/callback`, code_verifier: verifier }),
  });
  assert.equal(response.status, 200);
  return (await response.json()) as Record<string, string>;
}
