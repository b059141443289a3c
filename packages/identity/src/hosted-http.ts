import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseForm, readBodyFor, type FailureTable } from '@gatehouse/core';
import { OAuthError } from './oauth-error.ts';
import type { IdentityContext } from './identity-context.ts';
import { AuthorizePageError, AuthorizeRedirectError, type AuthorizeRequest } from './authorize-request.ts';
import type { CodePayload } from './token-grants.ts';
import { errorPage } from './login-page.ts';

/** The HTTP pieces the hosted pages and the OAuth endpoints share: cookies, pages, redirects, forms, codes. */
export const SESSION_COOKIE = 'gatehouse_session';
export const CSRF_COOKIE = 'gatehouse_csrf';
export const SESSION_TTL_MS = 3600_000;
const CODE_TTL_MS = 5 * 60_000;
const MAX_FORM = 64 * 1024;

/** A refresh or code replay revoked a sign-in that other instances have not heard of yet. */
export const revocationUnshared = (): OAuthError =>
  new OAuthError('temporarily_unavailable', 'The revocation is saved but could not yet be shared with other instances; retry shortly.', { expose: true });

/** The OAuth surface's one table of answers to internal failures (core's failureFor). */
export const OAUTH_FAILURES: FailureTable<OAuthError> = {
  bodyTooLarge: () => new OAuthError('invalid_request', `Request body exceeds ${MAX_FORM} bytes`),
  storeUnavailable: revocationUnshared,
  databaseUnavailable: () => new OAuthError('temporarily_unavailable', 'The identity database is unavailable; retry shortly.', { expose: true }),
  timeout: () => new OAuthError('temporarily_unavailable', 'A service the identity provider depends on did not answer in time; retry shortly.', { expose: true }),
};
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  'referrer-policy': 'no-referrer',
};
export const API_HEADERS = { 'cache-control': 'no-store', 'access-control-allow-origin': '*' };

export type Route = (context: IdentityContext, request: IncomingMessage, response: ServerResponse, url: URL) => Promise<void>;

export function cookies(request: IncomingMessage): Record<string, string> {
  const result: Record<string, string> = {};
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const index = part.indexOf('=');
    if (index > 0) result[part.slice(0, index).trim()] = decodeURIComponent(part.slice(index + 1).trim());
  }
  return result;
}

export interface CookieSetting {
  readonly name: string;
  readonly value: string;
  readonly maxAgeSeconds: number;
  readonly sameSite: 'Lax' | 'Strict';
}

export function cookie(context: IdentityContext, { name, value, maxAgeSeconds, sameSite }: CookieSetting): string {
  const secure = context.platform.baseUrl.startsWith('https:') ? '; Secure' : '';
  return `${name}=${encodeURIComponent(value)}; Path=/; HttpOnly; SameSite=${sameSite}; Max-Age=${maxAgeSeconds}${secure}`;
}

export function page(response: ServerResponse, status: number, html: string, headers: Record<string, string | string[]> = {}): void {
  response.writeHead(status, { ...PAGE_HEADERS, 'content-length': Buffer.byteLength(html), ...headers });
  response.end(html);
}

export function redirect(response: ServerResponse, location: string, headers: Record<string, string | string[]> = {}): void {
  response.writeHead(302, { location, 'cache-control': 'no-store', 'content-length': 0, ...headers });
  response.end();
}

export function json(response: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...API_HEADERS, ...headers });
  response.end(body);
}

export async function readForm(request: IncomingMessage): Promise<Record<string, string>> {
  const type = String(request.headers['content-type'] ?? '');
  if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded')) throw new OAuthError('invalid_request', 'Send the parameters as application/x-www-form-urlencoded');
  const body = await readBodyFor(request, MAX_FORM, OAUTH_FAILURES);
  const names = [...new URLSearchParams(body.toString('utf8')).keys()];
  const repeated = names.find((name, index) => names.indexOf(name) !== index);
  // RFC 6749 §3.2: a parameter sent twice is ambiguous, so refused rather than guessed
  if (repeated !== undefined) throw new OAuthError('invalid_request', `Parameter ${repeated} was sent more than once`);
  return parseForm(body);
}

export function queryParameters(url: URL): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of url.searchParams) if (!(name in result)) result[name] = value;
  return result;
}

/** Saves an authorization code for this sign-in and returns the client's callback URL carrying it. */
export async function issueCode(context: IdentityContext, authorize: AuthorizeRequest, username: string, authTime: number): Promise<string> {
  const payload: CodePayload = {
    clientId: authorize.client.id, poolId: authorize.pool.id, redirectUri: authorize.redirectUri, scope: authorize.scope, nonce: authorize.nonce,
    codeChallenge: authorize.codeChallenge, username, authTime, family: crypto.randomUUID(),
  };
  const code = await context.tokens.saveCode(payload, CODE_TTL_MS);
  const location = new URL(authorize.redirectUri);
  location.searchParams.set('code', code);
  if (authorize.state !== undefined) location.searchParams.set('state', authorize.state);
  return location.toString();
}

/** Answers an authorize error: page errors stay here, others go back to the client. False for other errors. */
export function authorizeFailure(response: ServerResponse, error: unknown): boolean {
  if (error instanceof AuthorizePageError) {
    page(response, 400, errorPage(error.message));
    return true;
  }
  if (error instanceof AuthorizeRedirectError) {
    redirect(response, error.location());
    return true;
  }
  return false;
}
