import type { IdentityContext } from './identity-context.ts';
import { poolOf, verifyOwnJwt } from './verify-access-token.ts';
import type { ClientRecord } from './user-store.ts';
import { AuthorizePageError, authorizeParameters, parseAuthorizeRequest } from './authorize-request.ts';

/** A logout request that names an unknown client or an unregistered URL: shown on a page, never redirected. */
export class LogoutPageError extends Error {}

export interface LogoutDecision {
  /** Where to send the browser once the session is ended; undefined: show the signed-out page. */
  readonly location: string | undefined;
}

interface IdTokenHint {
  readonly clientId: string;
}

/**
 * An ID token this issuer signed, for any client of any pool here, checked by the one JWT check (`verifyOwnJwt`).
 * Expiry is not checked (OpenID Connect RP-Initiated Logout §2: an expired ID token is still a valid hint); a
 * signing key retired past its grace is.
 */
async function verifyIdTokenHint(context: IdentityContext, token: string): Promise<IdTokenHint | undefined> {
  const pool = await poolOf(context, token);
  if (pool === undefined) return undefined;
  try {
    const { claims } = await verifyOwnJwt(context, token, { pool, requireTokenUse: false, acceptExpired: true });
    if (claims.token_use !== 'id' || typeof claims.aud !== 'string') return undefined;
    return { clientId: claims.aud };
  } catch {
    return undefined;
  }
}

/**
 * `/logout` as Cognito (`client_id` + `logout_uri`, or `redirect_uri` + `response_type` to sign in again) and as
 * OpenID Connect RP-Initiated Logout (`id_token_hint` and/or `client_id`, `post_logout_redirect_uri`, `state`
 * echoed). Every redirect target must be registered for the client exactly; without one, the signed-out page.
 */
export async function decideLogout(context: IdentityContext, parameters: Readonly<Record<string, string | undefined>>): Promise<LogoutDecision> {
  const hint = parameters.id_token_hint === undefined ? undefined : await verifyIdTokenHint(context, parameters.id_token_hint);
  if (parameters.id_token_hint !== undefined && !hint) throw new LogoutPageError('id_token_hint is not an ID token issued by this server.');
  if (parameters.client_id !== undefined && hint && hint.clientId !== parameters.client_id) throw new LogoutPageError('client_id is not the audience of id_token_hint.');
  const clientId = parameters.client_id ?? hint?.clientId;
  let client: ClientRecord | undefined;
  if (clientId !== undefined) {
    client = await context.users.clientById(clientId);
    if (!client) throw new LogoutPageError('client_id is not a registered app client.');
  }
  const registered = (name: string, uri: string): ClientRecord => {
    if (!client) throw new LogoutPageError(`Send client_id (or id_token_hint) with ${name}.`);
    if (!client.settings.logoutUrls.includes(uri)) throw new LogoutPageError(`${name} is not a sign-out URL registered for this client.`);
    return client;
  };
  if (parameters.logout_uri !== undefined) {
    registered('logout_uri', parameters.logout_uri);
    return { location: parameters.logout_uri };
  }
  if (parameters.post_logout_redirect_uri !== undefined) {
    registered('post_logout_redirect_uri', parameters.post_logout_redirect_uri);
    if (parameters.state !== undefined && parameters.state.length > 2048) throw new LogoutPageError('state is too long (at most 2048 characters).');
    const location = new URL(parameters.post_logout_redirect_uri);
    if (parameters.state !== undefined) location.searchParams.set('state', parameters.state);
    return { location: location.toString() };
  }
  if (parameters.redirect_uri !== undefined && parameters.response_type !== undefined) {
    try {
      await parseAuthorizeRequest(context, parameters);
    } catch (error) {
      // an unregistered redirect URI is never followed; other authorize errors are the login page's to report
      if (error instanceof AuthorizePageError) throw new LogoutPageError(error.message);
    }
    return { location: `/login?${new URLSearchParams(authorizeParameters(parameters)).toString()}` };
  }
  return { location: undefined };
}
