import type { IdentityContext } from './identity-context.ts';
import type { ClientRecord, PoolRecord } from './user-store.ts';
import { CODE_CHALLENGE } from './check-pkce.ts';

export interface AuthorizeRequest {
  readonly client: ClientRecord;
  readonly pool: PoolRecord;
  readonly redirectUri: string;
  readonly scope: string;
  readonly state: string | undefined;
  readonly nonce: string | undefined;
  readonly codeChallenge: string;
}

/** Errors that must not be redirected (unknown client or unregistered redirect URI): shown on a page instead. */
export class AuthorizePageError extends Error {}

/** Errors returned to the (verified) redirect URI as `?error=…&state=…`. */
export class AuthorizeRedirectError extends Error {
  readonly error: string;
  readonly redirectUri: string;
  readonly state: string | undefined;
  constructor(error: string, description: string, redirectUri: string, state: string | undefined) {
    super(description);
    this.error = error;
    this.redirectUri = redirectUri;
    this.state = state;
  }
  location(): string {
    const url = new URL(this.redirectUri);
    url.searchParams.set('error', this.error);
    url.searchParams.set('error_description', this.message);
    if (this.state !== undefined) url.searchParams.set('state', this.state);
    return url.toString();
  }
}

export const AUTHORIZE_PARAMETERS = ['response_type', 'client_id', 'redirect_uri', 'state', 'scope', 'nonce', 'code_challenge', 'code_challenge_method'] as const;

/** Validates `/oauth2/authorize` parameters in the order that decides where errors may go. */
export async function parseAuthorizeRequest(context: IdentityContext, parameters: Readonly<Record<string, string | undefined>>): Promise<AuthorizeRequest> {
  const clientId = parameters.client_id;
  if (!clientId) throw new AuthorizePageError('client_id is required.');
  const client = await context.users.clientById(clientId);
  if (!client) throw new AuthorizePageError('The client_id is not a registered app client.');
  const redirectUri = parameters.redirect_uri;
  if (!redirectUri) throw new AuthorizePageError('redirect_uri is required.');
  // exact string match against the registered list: no prefix, no normalisation
  if (!client.settings.callbackUrls.includes(redirectUri)) throw new AuthorizePageError('redirect_uri is not registered for this client.');
  const state = parameters.state;
  const fail = (error: string, description: string): never => {
    throw new AuthorizeRedirectError(error, description, redirectUri, state);
  };
  if (parameters.response_type !== 'code') fail('unsupported_response_type', 'response_type must be code');
  if (!client.settings.allowedOAuthFlows.includes('code')) fail('unauthorized_client', 'This client may not use the authorization code flow');
  if (!parameters.code_challenge) fail('invalid_request', 'code_challenge is required (PKCE with S256)');
  if (parameters.code_challenge_method !== 'S256') fail('invalid_request', 'code_challenge_method must be S256');
  if (!CODE_CHALLENGE.test(parameters.code_challenge!)) fail('invalid_request', 'code_challenge must be the base64url SHA-256 of the verifier (43 characters)');
  const allowed = client.settings.allowedOAuthScopes;
  const requested = parameters.scope ? parameters.scope.split(' ').filter(Boolean) : [...allowed];
  const unknown = requested.filter((scope) => !allowed.includes(scope));
  if (unknown.length > 0) fail('invalid_scope', `Scope not allowed for this client: ${unknown.join(' ')}`);
  if (parameters.nonce !== undefined && parameters.nonce.length > 512) fail('invalid_request', 'nonce is too long');
  if (state !== undefined && state.length > 2048) fail('invalid_request', 'state is too long');
  const pool = (await context.users.poolById(client.poolId))!;
  return { client, pool, redirectUri, scope: [...new Set(requested)].join(' '), state, nonce: parameters.nonce, codeChallenge: parameters.code_challenge! };
}

/** The authorize parameters to carry through the login form unchanged. */
export function authorizeParameters(source: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const name of AUTHORIZE_PARAMETERS) {
    const value = source[name];
    if (value !== undefined) result[name] = value;
  }
  return result;
}
