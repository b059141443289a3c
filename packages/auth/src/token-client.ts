import * as oauth from 'oauth4webapi';
import { asCallTimeout } from '@gatehouse/core';

/** One grant at an OAuth token endpoint, the client authenticating with `client_secret_basic`. */
export interface TokenRequest {
  readonly tokenEndpoint: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** `client_credentials`, `urn:ietf:params:oauth:grant-type:token-exchange`, … */
  readonly grantType: string;
  /** The grant's other form fields (`scope`, `audience`, `subject_token`, …). */
  readonly parameters?: Readonly<Record<string, string>> | undefined;
  /** Whole request, answer included (default 10 s). */
  readonly timeoutMs?: number | undefined;
}

export interface IssuedToken {
  readonly accessToken: string;
  /** Seconds, as the server said; undefined when it said nothing. */
  readonly expiresIn: number | undefined;
}

/**
 * Why no token came back:
 * - `unreachable`: no answer (connection refused, DNS, TLS, timeout) — worth a retry;
 * - `refused`: the server answered with a status other than 200; `error` / `errorDescription` are the OAuth
 *   error body's (RFC 6749 §5.2) when it sent one;
 * - `malformed`: a 200 that is not a usable token response (not JSON, no `access_token`, no or an unknown
 *   `token_type`, a bad `expires_in`);
 * - `insecure_endpoint`: the endpoint is not `https://` (plain `http://` is sent to loopback hosts only) or not a URL.
 */
export type TokenRequestFailure = 'unreachable' | 'refused' | 'malformed' | 'insecure_endpoint';

/** A failed token request. The message never holds the client secret, the subject token or an issued token. */
export class TokenRequestError extends Error {
  readonly kind: TokenRequestFailure;
  /** The OAuth `error` code (`invalid_grant`, …) of a refusal, when the server sent one. */
  readonly error: string | undefined;
  readonly errorDescription: string | undefined;
  /** The HTTP status of a refusal or a malformed answer. */
  readonly status: number | undefined;

  constructor(kind: TokenRequestFailure, message: string, details: { error?: string | undefined; errorDescription?: string | undefined; status?: number | undefined; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'TokenRequestError';
    this.kind = kind;
    this.error = details.error;
    this.errorDescription = details.errorDescription;
    this.status = details.status;
  }

  /** `error: description` of a refusal, else `HTTP <status>`: safe to show (never a credential). */
  get reason(): string {
    if (this.error !== undefined) return this.errorDescription !== undefined ? `${this.error}: ${this.errorDescription}` : this.error;
    return this.status !== undefined ? `HTTP ${this.status}` : this.kind;
  }
}

const DEFAULT_TIMEOUT_MS = 10_000;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
/** Longest OAuth `error` / `error_description` kept from an answer (they end up in logs and error messages). */
const MAX_ERROR_TEXT = 256;

function endpointUrl(tokenEndpoint: string): { url: URL; insecure: boolean } {
  let url: URL;
  try {
    url = new URL(tokenEndpoint);
  } catch {
    throw new TokenRequestError('insecure_endpoint', 'The token endpoint is not a URL.');
  }
  if (url.protocol === 'https:') return { url, insecure: false };
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return { url, insecure: true };
  throw new TokenRequestError('insecure_endpoint', `The token endpoint ${url.origin} must use https:// (plain http:// only for localhost, 127.0.0.1 and [::1]).`);
}

/**
 * POSTs one grant to a token endpoint through oauth4webapi (client_secret_basic, `Accept: application/json`) and
 * checks the answer: 200 with an `access_token`, `token_type` `Bearer` (any case) and a numeric `expires_in`
 * if any. Every failure is a `TokenRequestError` with a `kind`.
 */
export async function requestToken(request: TokenRequest): Promise<IssuedToken> {
  const { url, insecure } = endpointUrl(request.tokenEndpoint);
  const server: oauth.AuthorizationServer = { issuer: url.origin, token_endpoint: url.href };
  const client: oauth.Client = { client_id: request.clientId };
  const signal = AbortSignal.timeout(request.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  let response: Response;
  try {
    response = await oauth.genericTokenEndpointRequest(server, client, clientSecretBasic(request.clientSecret), request.grantType, { ...request.parameters }, {
      signal,
      ...(insecure ? { [oauth.allowInsecureRequests]: true } : {}),
    });
  } catch (error) {
    throw unreachable(url, error);
  }
  if (response.status !== 200) throw await refusal(url, response);
  let body: oauth.TokenEndpointResponse;
  try {
    body = await oauth.processGenericTokenEndpointResponse(server, client, response);
  } catch (error) {
    if (isAbort(error)) throw unreachable(url, error);
    throw new TokenRequestError('malformed', `The token endpoint ${url.origin} answered 200 without a usable token response (${describe(error)}).`, { status: 200 });
  }
  // oauth4webapi also accepts `DPoP`; these tokens are sent as Bearer and no DPoP proof was made.
  if (body.token_type !== 'bearer') throw new TokenRequestError('malformed', `The token endpoint ${url.origin} issued a ${body.token_type.slice(0, 16)} token; a Bearer token is needed.`, { status: 200 });
  return { accessToken: body.access_token, expiresIn: body.expires_in };
}

/**
 * client_secret_basic with the id and secret percent-encoded by `encodeURIComponent`, which every RFC 6749 §2.3.1
 * form decoder reads back. **Decision:** not oauth4webapi's `ClientSecretBasic`, which also escapes unreserved
 * characters (`-` → `%2D`): equally valid, but it changes the header Gatehouse has always sent for ordinary ids
 * like `runtime-client`, and servers that compare the plain Base64 of `id:secret` would refuse it.
 */
function clientSecretBasic(secret: string): oauth.ClientAuth {
  return (_server, client, _body, headers) => {
    headers.set('authorization', `Basic ${Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(secret)}`).toString('base64')}`);
  };
}

/** The timeout fired, while connecting or reading the body (oauth4webapi wraps the latter: the abort is its `cause`): core's one timeout test. */
function isAbort(error: unknown): boolean {
  return asCallTimeout(error) !== undefined;
}

function unreachable(url: URL, error: unknown): TokenRequestError {
  const why = isAbort(error) ? 'no answer in time' : error instanceof Error ? error.name : 'Error';
  return new TokenRequestError('unreachable', `The token endpoint ${url.origin} could not be reached (${why}).`, { cause: error });
}

/** oauth4webapi's message says which check failed (never a value); anything else is named by its class only. */
function describe(error: unknown): string {
  if (error instanceof oauth.OperationProcessingError || error instanceof oauth.UnsupportedOperationError) return error.message;
  return error instanceof Error ? error.name : 'Error';
}

/**
 * A non-200 answer, read leniently: the OAuth error body is taken whatever its content type (some servers
 * send it as text/plain, and a 401 with `WWW-Authenticate` carries one too), a body that is not one is ignored.
 */
async function refusal(url: URL, response: Response): Promise<TokenRequestError> {
  let body: unknown;
  try {
    body = JSON.parse(await response.text());
  } catch (error) {
    if (isAbort(error)) return unreachable(url, error);
  }
  const fields = (typeof body === 'object' && body !== null ? body : {}) as { error?: unknown; error_description?: unknown };
  const error = typeof fields.error === 'string' && fields.error.length > 0 ? fields.error.slice(0, MAX_ERROR_TEXT) : undefined;
  const errorDescription = error !== undefined && typeof fields.error_description === 'string' ? fields.error_description.slice(0, MAX_ERROR_TEXT) : undefined;
  const details = { error, errorDescription, status: response.status };
  return new TokenRequestError('refused', `The token endpoint ${url.origin} refused the request (HTTP ${response.status}${error !== undefined ? `, ${error}` : ''}).`, details);
}
