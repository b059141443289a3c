import type { IncomingMessage, ServerResponse } from 'node:http';
import { failureFor, sendWire } from '@gatehouse/core';
import { AuthError, readCredential } from '@gatehouse/auth';
import { OAuthError } from './oauth-error.ts';
import type { IdentityContext } from './identity-context.ts';
import { authorizeParameters, parseAuthorizeRequest, type AuthorizeRequest } from './authorize-request.ts';
import { authenticateClient } from './client-auth.ts';
import { authorizationCodeGrant, clientCredentialsGrant, refreshTokenGrant, tokenExchangeGrant } from './token-grants.ts';
import { signedOutPage, signOutErrorPage } from './login-page.ts';
import { decideLogout, LogoutPageError, type LogoutDecision } from './logout-request.ts';
import { verifyAccessToken } from './verify-access-token.ts';
import { userAttributeClaims } from './user-attributes.ts';
import { API_HEADERS, OAUTH_FAILURES, SESSION_COOKIE, authorizeFailure, cookie, cookies, issueCode, json, page, queryParameters, readForm, redirect, revocationUnshared, type Route } from './hosted-http.ts';
import { HOSTED_PAGE_ROUTES } from './hosted-pages.ts';

const authorize: Route = async (context, request, response, url) => {
  const parameters = queryParameters(url);
  let parsed: AuthorizeRequest;
  try {
    parsed = await parseAuthorizeRequest(context, parameters);
  } catch (error) {
    if (authorizeFailure(response, error)) return;
    throw error;
  }
  const sessionId = cookies(request)[SESSION_COOKIE];
  const session = sessionId ? await context.tokens.loginSession(sessionId) : undefined;
  if (session && session.poolId === parsed.pool.id) {
    const user = await context.users.user(parsed.pool.id, session.username);
    if (user?.enabled && user.status === 'CONFIRMED') {
      redirect(response, await issueCode(context, parsed, user.username, session.authTime));
      return;
    }
  }
  redirect(response, `/login?${new URLSearchParams(authorizeParameters(parameters)).toString()}`);
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
  const client = await authenticateClient(context, request, form);
  if (grantType === 'authorization_code' || grantType === 'refresh_token') {
    if (!client.settings.allowedOAuthFlows.includes('code')) throw new OAuthError('unauthorized_client', `This client may not use ${grantType}`);
  }
  json(response, 200, await grant(context, client, form), { pragma: 'no-cache' });
};

/** The token of a `Bearer` Authorization header, read by `@gatehouse/auth`'s one bearer reader; undefined when it is malformed. */
function bearerToken(request: IncomingMessage): string | undefined {
  try {
    const credential = readCredential(request.headers, undefined, request.rawHeaders);
    return credential.kind === 'bearer' ? credential.token : undefined;
  } catch (error) {
    if (error instanceof AuthError) return undefined;
    throw error;
  }
}

const userInfo: Route = async (context, request, response) => {
  const header = request.headers.authorization;
  if (typeof header !== 'string' || !/^Bearer(\s|$)/i.test(header)) {
    // RFC 6750 §3.1: no bearer credentials at all is a 401 challenge without an error code
    json(response, 401, { error_description: 'Send the access token as Authorization: Bearer <token>' }, { 'www-authenticate': 'Bearer realm="userInfo"' });
    return;
  }
  const token = bearerToken(request);
  if (token === undefined) {
    json(response, 400, { error: 'invalid_request', error_description: 'The Authorization header must be Bearer followed by one token' }, { 'www-authenticate': 'Bearer error="invalid_request"' });
    return;
  }
  const verified = await verifyAccessToken(context, token);
  const user = verified && typeof verified.claims.username === 'string' ? await context.users.user(verified.pool.id, verified.claims.username) : undefined;
  if (!verified || !user || user.sub !== verified.claims.sub || !user.enabled) throw new OAuthError('invalid_token', 'The access token is invalid, expired or revoked');
  if (!String(verified.claims.scope ?? '').split(' ').includes('openid')) throw new OAuthError('invalid_token', 'The access token lacks the openid scope');
  json(response, 200, { ...userAttributeClaims(user.attributes), sub: user.sub, username: user.username });
};

const revoke: Route = async (context, request, response) => {
  const form = await readForm(request);
  const client = await authenticateClient(context, request, form);
  const value = form.token;
  if (!value) throw new OAuthError('invalid_request', 'token is required');
  if (form.token_type_hint === 'access_token' || value.split('.').length === 3) throw new OAuthError('unsupported_token_type', 'Only refresh tokens can be revoked');
  const lookup = await context.tokens.lookupRefresh(value);
  // RFC 7009: unknown tokens and other clients' tokens get the same 200, so revocation is no oracle
  if (lookup.state !== 'invalid' && lookup.record.clientId === client.id) {
    await context.tokens.revokeFamily(lookup.record.family, lookup.record.expiresAt);
    await context.publishRevocations();
    await context.userSignedOut(lookup.record.poolId, lookup.record.username);
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
  if (sessionId) await context.tokens.deleteLoginSession(sessionId);
  const clear = { 'set-cookie': cookie(context, { name: SESSION_COOKIE, value: '', maxAgeSeconds: 0, sameSite: 'Lax' }) };
  if (decision.location === undefined) page(response, 200, signedOutPage(), clear);
  else redirect(response, decision.location, clear);
};

const ROUTES: Record<string, Route> = {
  'GET /oauth2/authorize': authorize,
  ...HOSTED_PAGE_ROUTES,
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
    const failure = !published ? revocationUnshared() : error instanceof OAuthError ? error : failureFor(OAUTH_FAILURES, error);
    if (failure) {
      const wire = failure.toResponse();
      sendWire(response, { ...wire, headers: { ...wire.headers, 'access-control-allow-origin': '*' } });
      return true;
    }
    context.logger.error({ err: error, path: url.pathname }, 'oauth endpoint failed');
    if (!response.headersSent) json(response, 500, { error: 'server_error', error_description: 'Internal error' });
    else response.destroy();
  }
  return true;
}
