import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLargeError, StoreUnavailableError, parseForm, readBody, sendWire } from '@gatehouse/core';
import { OAuthError } from './oauth-error.ts';
import { CognitoError } from './cognito-error.ts';
import type { IdentityContext } from './identity-context.ts';
import { AuthorizePageError, AuthorizeRedirectError, authorizeParameters, parseAuthorizeRequest, type AuthorizeRequest } from './authorize-request.ts';
import { authenticateClient } from './client-auth.ts';
import { authorizationCodeGrant, clientCredentialsGrant, refreshTokenGrant, tokenExchangeGrant, type CodePayload } from './token-grants.ts';
import { errorPage, loginPage, signedOutPage, signOutErrorPage } from './login-page.ts';
import { decideLogout, LogoutPageError, type LogoutDecision } from './logout-request.ts';
import { checkPassword } from './auth-flows.ts';
import { clientIp } from './cognito-api.ts';
import { checkLoginCsrf, issueLoginCsrf } from './login-csrf.ts';
import { verifyAccessToken } from './verify-access-token.ts';
import { passwordSecrets } from './user-secrets.ts';
import { userAttributeClaims } from './user-attributes.ts';

const SESSION_COOKIE = 'gatehouse_session';
const CSRF_COOKIE = 'gatehouse_csrf';
const SESSION_TTL_MS = 3600_000;
const CODE_TTL_MS = 5 * 60_000;
const MAX_FORM = 64 * 1024;
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  'referrer-policy': 'no-referrer',
};
const API_HEADERS = { 'cache-control': 'no-store', 'access-control-allow-origin': '*' };

type Route = (context: IdentityContext, request: IncomingMessage, response: ServerResponse, url: URL) => Promise<void>;

function cookies(request: IncomingMessage): Record<string, string> {
  const result: Record<string, string> = {};
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const index = part.indexOf('=');
    if (index > 0) result[part.slice(0, index).trim()] = decodeURIComponent(part.slice(index + 1).trim());
  }
  return result;
}

function cookie(context: IdentityContext, name: string, value: string, maxAgeSeconds: number, sameSite: 'Lax' | 'Strict'): string {
  const secure = context.platform.baseUrl.startsWith('https:') ? '; Secure' : '';
  return `${name}=${encodeURIComponent(value)}; Path=/; HttpOnly; SameSite=${sameSite}; Max-Age=${maxAgeSeconds}${secure}`;
}

function page(response: ServerResponse, status: number, html: string, headers: Record<string, string | string[]> = {}): void {
  response.writeHead(status, { ...PAGE_HEADERS, 'content-length': Buffer.byteLength(html), ...headers });
  response.end(html);
}

function redirect(response: ServerResponse, location: string, headers: Record<string, string | string[]> = {}): void {
  response.writeHead(302, { location, 'cache-control': 'no-store', 'content-length': 0, ...headers });
  response.end();
}

function json(response: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...API_HEADERS, ...headers });
  response.end(body);
}

async function readForm(request: IncomingMessage): Promise<Record<string, string>> {
  const type = String(request.headers['content-type'] ?? '');
  if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded')) throw new OAuthError('invalid_request', 'Send the parameters as application/x-www-form-urlencoded');
  try {
    const body = await readBody(request, MAX_FORM);
    const names = [...new URLSearchParams(body.toString('utf8')).keys()];
    const repeated = names.find((name, index) => names.indexOf(name) !== index);
    // RFC 6749 §3.2: a parameter sent twice is ambiguous, so refused rather than guessed
    if (repeated !== undefined) throw new OAuthError('invalid_request', `Parameter ${repeated} was sent more than once`);
    return parseForm(body);
  } catch (error) {
    if (error instanceof BodyTooLargeError) throw new OAuthError('invalid_request', `Request body exceeds ${MAX_FORM} bytes`);
    throw error;
  }
}

async function issueCode(context: IdentityContext, authorize: AuthorizeRequest, username: string, authTime: number): Promise<string> {
  const payload: CodePayload = {
    clientId: authorize.client.id, poolId: authorize.pool.id, redirectUri: authorize.redirectUri, scope: authorize.scope, nonce: authorize.nonce,
    codeChallenge: authorize.codeChallenge, username, authTime, family: crypto.randomUUID(),
  };
  const code = context.tokens.saveCode(payload, CODE_TTL_MS);
  const location = new URL(authorize.redirectUri);
  location.searchParams.set('code', code);
  if (authorize.state !== undefined) location.searchParams.set('state', authorize.state);
  return location.toString();
}

function queryParameters(url: URL): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of url.searchParams) if (!(name in result)) result[name] = value;
  return result;
}

function renderLogin(context: IdentityContext, response: ServerResponse, authorize: AuthorizeRequest, parameters: Record<string, string>, extra: { status?: number; error?: string; username?: string; newPasswordRequired?: boolean } = {}): void {
  const csrf = issueLoginCsrf(context, parameters);
  page(response, extra.status ?? 200, loginPage({
    poolName: authorize.pool.name, clientName: authorize.client.name, parameters: authorizeParameters(parameters), csrf: csrf.field,
    error: extra.error, username: extra.username, newPasswordRequired: extra.newPasswordRequired ?? false,
  }), { 'set-cookie': cookie(context, CSRF_COOKIE, csrf.cookie, 1800, 'Strict') });
}

/** Runs a step that may fail with an authorize error: page errors stay here, others go back to the client. */
function authorizeFailure(response: ServerResponse, error: unknown): boolean {
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

const authorize: Route = async (context, request, response, url) => {
  const parameters = queryParameters(url);
  let parsed: AuthorizeRequest;
  try {
    parsed = parseAuthorizeRequest(context, parameters);
  } catch (error) {
    if (authorizeFailure(response, error)) return;
    throw error;
  }
  const sessionId = cookies(request)[SESSION_COOKIE];
  const session = sessionId ? context.tokens.loginSession(sessionId) : undefined;
  if (session && session.poolId === parsed.pool.id) {
    const user = context.users.user(parsed.pool.id, session.username);
    if (user?.enabled && user.status === 'CONFIRMED') {
      redirect(response, await issueCode(context, parsed, user.username, session.authTime));
      return;
    }
  }
  redirect(response, `/login?${new URLSearchParams(authorizeParameters(parameters)).toString()}`);
};

const loginGet: Route = async (context, _request, response, url) => {
  const parameters = queryParameters(url);
  try {
    renderLogin(context, response, parseAuthorizeRequest(context, parameters), parameters);
  } catch (error) {
    if (authorizeFailure(response, error)) return;
    throw error;
  }
};

const loginPost: Route = async (context, request, response) => {
  let form: Record<string, string>;
  try {
    form = await readForm(request);
  } catch {
    page(response, 400, errorPage('The sign-in form was not sent as a form.'));
    return;
  }
  let parsed: AuthorizeRequest;
  try {
    parsed = parseAuthorizeRequest(context, form);
  } catch (error) {
    if (authorizeFailure(response, error)) return;
    throw error;
  }
  if (!checkLoginCsrf(context, cookies(request)[CSRF_COOKIE], form.csrf, form)) {
    renderLogin(context, response, parsed, form, { status: 403, error: 'Your sign-in form expired. Please sign in again.' });
    return;
  }
  const username = form.username ?? '';
  try {
    let user = await checkPassword(context, parsed.pool, username, form.password ?? '', clientIp(request));
    if (!user.enabled) throw new CognitoError('NotAuthorizedException', 'User is disabled.');
    if (user.status === 'UNCONFIRMED') throw new CognitoError('UserNotConfirmedException', 'User is not confirmed.');
    if (user.status === 'FORCE_CHANGE_PASSWORD') {
      if (!form.new_password) {
        renderLogin(context, response, parsed, form, { error: 'You must choose a new password.', username, newPasswordRequired: true });
        return;
      }
      context.users.setPassword(parsed.pool.id, user.username, await passwordSecrets(parsed.pool.id, user.username, form.new_password), 'CONFIRMED');
      user = context.users.user(parsed.pool.id, user.username)!;
    }
    const authTime = Math.floor(context.now() / 1000);
    const sessionId = context.tokens.createLoginSession(parsed.pool.id, user.username, authTime, SESSION_TTL_MS);
    redirect(response, await issueCode(context, parsed, user.username, authTime), {
      'set-cookie': [cookie(context, SESSION_COOKIE, sessionId, SESSION_TTL_MS / 1000, 'Lax'), cookie(context, CSRF_COOKIE, '', 0, 'Strict')],
    });
  } catch (error) {
    if (error instanceof CognitoError) {
      renderLogin(context, response, parsed, form, { status: 400, error: error.message, username, newPasswordRequired: error.code === 'InvalidPasswordException' });
      return;
    }
    throw error;
  }
};

const GRANTS: Record<string, typeof authorizationCodeGrant> = {
  authorization_code: authorizationCodeGrant,
  refresh_token: refreshTokenGrant,
  client_credentials: clientCredentialsGrant,
  'urn:ietf:params:oauth:grant-type:token-exchange': tokenExchangeGrant,
};

const token: Route = async (context, request, response) => {
  const form = await readForm(request);
  const grantType = form.grant_type;
  if (!grantType) throw new OAuthError('invalid_request', 'grant_type is required');
  const grant = Object.hasOwn(GRANTS, grantType) ? GRANTS[grantType] : undefined;
  if (!grant) throw new OAuthError('unsupported_grant_type', `grant_type ${grantType} is not supported`);
  const client = authenticateClient(context, request, form);
  if (grantType === 'authorization_code' || grantType === 'refresh_token') {
    if (!client.settings.allowedOAuthFlows.includes('code')) throw new OAuthError('unauthorized_client', `This client may not use ${grantType}`);
  }
  json(response, 200, await grant(context, client, form), { pragma: 'no-cache' });
};

const userInfo: Route = async (context, request, response) => {
  const header = request.headers.authorization;
  if (typeof header !== 'string' || !/^Bearer(\s|$)/i.test(header)) {
    // RFC 6750 §3.1: no bearer credentials at all is a 401 challenge without an error code
    json(response, 401, { error_description: 'Send the access token as Authorization: Bearer <token>' }, { 'www-authenticate': 'Bearer realm="userInfo"' });
    return;
  }
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header);
  if (!match) {
    json(response, 400, { error: 'invalid_request', error_description: 'The Authorization header must be Bearer followed by one token' }, { 'www-authenticate': 'Bearer error="invalid_request"' });
    return;
  }
  const verified = await verifyAccessToken(context, match[1]!);
  const user = verified && typeof verified.claims.username === 'string' ? context.users.user(verified.pool.id, verified.claims.username) : undefined;
  if (!verified || !user || user.sub !== verified.claims.sub || !user.enabled) throw new OAuthError('invalid_token', 'The access token is invalid, expired or revoked');
  if (!String(verified.claims.scope ?? '').split(' ').includes('openid')) throw new OAuthError('invalid_token', 'The access token lacks the openid scope');
  json(response, 200, { ...userAttributeClaims(user.attributes), sub: user.sub, username: user.username });
};

const revoke: Route = async (context, request, response) => {
  const form = await readForm(request);
  const client = authenticateClient(context, request, form);
  const value = form.token;
  if (!value) throw new OAuthError('invalid_request', 'token is required');
  if (form.token_type_hint === 'access_token' || value.split('.').length === 3) throw new OAuthError('unsupported_token_type', 'Only refresh tokens can be revoked');
  const lookup = context.tokens.lookupRefresh(value);
  // RFC 7009: unknown tokens and other clients' tokens get the same 200, so revocation is no oracle
  if (lookup.state !== 'invalid' && lookup.record.clientId === client.id) {
    context.tokens.revokeFamily(lookup.record.family, lookup.record.expiresAt);
    await context.publishRevocations();
  }
  response.writeHead(200, { ...API_HEADERS, 'content-length': 0 });
  response.end();
};

const logout: Route = async (context, request, response, url) => {
  let decision: LogoutDecision;
  try {
    decision = await decideLogout(context, queryParameters(url));
  } catch (error) {
    if (!(error instanceof LogoutPageError)) throw error;
    page(response, 400, signOutErrorPage(error.message));
    return;
  }
  const sessionId = cookies(request)[SESSION_COOKIE];
  if (sessionId) context.tokens.deleteLoginSession(sessionId);
  const clear = { 'set-cookie': cookie(context, SESSION_COOKIE, '', 0, 'Lax') };
  if (decision.location === undefined) page(response, 200, signedOutPage(), clear);
  else redirect(response, decision.location, clear);
};

const ROUTES: Record<string, Route> = {
  'GET /oauth2/authorize': authorize,
  'GET /login': loginGet,
  'POST /login': loginPost,
  'POST /oauth2/token': token,
  'GET /oauth2/userInfo': userInfo,
  'POST /oauth2/userInfo': userInfo,
  'POST /oauth2/revoke': revoke,
  'GET /logout': logout,
};
const CORS_PATHS = new Set(['/oauth2/token', '/oauth2/userInfo', '/oauth2/revoke']);
// Amplify's token exchange after signInWithRedirect sends x-amz-user-agent (and its SDK cache-control): a
// preflight that did not allow them blocked the code exchange from every other origin.
const OAUTH_PREFLIGHT_HEADERS = 'authorization, content-type, x-amz-user-agent, cache-control';

/** The hosted-login and OAuth endpoints at Cognito's paths; false for anything else. */
export async function handleOAuth(context: IdentityContext, request: IncomingMessage, response: ServerResponse, url: URL): Promise<boolean> {
  if (request.method === 'OPTIONS' && CORS_PATHS.has(url.pathname)) {
    response.writeHead(204, {
      ...API_HEADERS, 'access-control-allow-methods': 'GET, POST', 'access-control-allow-headers': OAUTH_PREFLIGHT_HEADERS, 'access-control-max-age': '600',
    });
    response.end();
    return true;
  }
  const route = ROUTES[`${request.method ?? 'GET'} ${url.pathname}`];
  if (!route) return false;
  const revocations = context.tokens.revocations;
  try {
    await route(context, request, response, url);
  } catch (error) {
    // A code or refresh token replayed revokes its sign-in before the invalid_grant: share that first.
    const published = context.tokens.revocations === revocations || (await context.publishRevocations().then(() => true, () => false));
    if (error instanceof StoreUnavailableError || !published) {
      json(
        response, 503,
        { error: 'temporarily_unavailable', error_description: 'The revocation is saved but could not yet be shared with other instances; retry shortly.' },
        { 'access-control-allow-origin': '*', 'retry-after': '1' },
      );
      return true;
    }
    if (error instanceof OAuthError) {
      const wire = error.toResponse();
      sendWire(response, { ...wire, headers: { ...wire.headers, 'access-control-allow-origin': '*' } });
      return true;
    }
    context.logger.error({ err: error, path: url.pathname }, 'oauth endpoint failed');
    if (!response.headersSent) json(response, 500, { error: 'server_error', error_description: 'Internal error' });
    else response.destroy();
  }
  return true;
}
