import type { IncomingHttpHeaders } from 'node:http';
import { AuthError } from './auth-error.ts';

export type Credential = { kind: 'bearer'; token: string } | { kind: 'sigv4' } | { kind: 'sigv4-presigned' } | { kind: 'none' };

const bearerPattern = /^bearer ([A-Za-z0-9\-._~+/]+=*)$/i;
const MAX_ENCODED_WEBSOCKET_TOKEN = 4096;
const WEBSOCKET_PREFIX = 'base64UrlBearerAuthorization.';

/**
 * Finds which credential a request carries, in one canonical form only (RFC 6750): a single
 * `Authorization` header, `Bearer` + exactly one space + token, or SigV4 header/query form.
 * Tokens in the query string, `Basic`, repeated headers and odd spacing are refused.
 */
export function readCredential(headers: IncomingHttpHeaders, query?: URLSearchParams, rawHeaders?: readonly string[]): Credential {
  if (query?.has('access_token')) throw new AuthError('malformed', 'Send the token in the Authorization header, not the access_token query parameter.');
  const raw = headers.authorization as string | string[] | undefined;
  if (Array.isArray(raw)) throw new AuthError('malformed', 'Send exactly one Authorization header.');
  // Node keeps only the first of repeated Authorization headers in `headers`; `rawHeaders` shows them all.
  if (rawHeaders && countAuthorization(rawHeaders) > 1) throw new AuthError('malformed', 'Send exactly one Authorization header.');
  const presigned = query?.has('X-Amz-Signature') || query?.has('X-Amz-Credential');
  if (raw === undefined || raw === '') {
    return presigned ? { kind: 'sigv4-presigned' } : { kind: 'none' };
  }
  if (presigned) throw new AuthError('malformed', 'Send either an Authorization header or a presigned URL, not both.');
  if (raw.startsWith('AWS4-HMAC-SHA256 ')) return { kind: 'sigv4' };
  const match = bearerPattern.exec(raw);
  if (match) return { kind: 'bearer', token: match[1]! };
  throw new AuthError('malformed', "The Authorization header must be 'Bearer <token>' (one space) or an AWS SigV4 signature.");
}

/** Runs on every request: compares lengths first so most names are never lower-cased (no array or string garbage). */
function countAuthorization(rawHeaders: readonly string[]): number {
  let count = 0;
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const name = rawHeaders[index]!;
    if (name.length === 13 && (name === 'authorization' || name === 'Authorization' || name.toLowerCase() === 'authorization')) count++;
  }
  return count;
}

/**
 * The browser form of AgentCore's WebSocket OAuth: `Sec-WebSocket-Protocol:
 * base64UrlBearerAuthorization.<base64url(jwt)>, base64UrlBearerAuthorization`. Returns the token and the
 * subprotocol to echo (the bare marker, so the token is never reflected back).
 */
export function bearerFromWebSocketProtocols(header: string | undefined): { token: string; accepted: 'base64UrlBearerAuthorization' } | undefined {
  if (header === undefined) return undefined;
  const offers = header.split(',').map((offer) => offer.trim()).filter((offer) => offer.startsWith(WEBSOCKET_PREFIX));
  if (offers.length === 0) return undefined;
  if (offers.length > 1) throw new AuthError('malformed', 'Offer exactly one base64UrlBearerAuthorization subprotocol.');
  const encoded = offers[0]!.slice(WEBSOCKET_PREFIX.length);
  if (encoded.length === 0 || encoded.length > MAX_ENCODED_WEBSOCKET_TOKEN) {
    throw new AuthError('malformed', `The base64UrlBearerAuthorization token must be 1–${MAX_ENCODED_WEBSOCKET_TOKEN} characters.`);
  }
  if (!/^[A-Za-z0-9_-]+$/.test(encoded) || encoded.length % 4 === 1) throw new AuthError('malformed', 'The base64UrlBearerAuthorization token must be unpadded base64url.');
  const token = Buffer.from(encoded, 'base64url').toString('utf8');
  if (Buffer.from(token, 'utf8').toString('base64url') !== encoded || !/^[\x21-\x7e]+$/.test(token)) {
    throw new AuthError('malformed', 'The base64UrlBearerAuthorization token must be the base64url encoding of a JWT.');
  }
  return { token, accepted: 'base64UrlBearerAuthorization' };
}
