import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Clock } from '@gatehouse/core';
import { AuthError } from './auth-error.ts';
import { NodeSha256 } from './node-sha256.ts';
import type { Principal } from './principal.ts';
import { malformed, safeEqual, UNSIGNED_PAYLOAD, type ParsedSignature } from './sigv4-parse.ts';
import type { SigV4Key, SigV4Verification } from './sigv4-verifier.ts';

/** What every step of one verifier shares: its validated settings, clock and key lookup. */
export interface SigV4Context<K extends SigV4Key = SigV4Key> {
  readonly service: string;
  readonly maxSkewSeconds: number;
  readonly maxPresignExpirySeconds: number;
  readonly clock: Clock;
  readonly regionAllowed: (region: string) => boolean;
  /** The refusal for a scope outside the region policy, naming the region(s) to use. */
  readonly wrongRegion: (signed: string) => AuthError;
  readonly lookupKey: (accessKeyId: string) => Promise<K | undefined>;
}

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export function checkScope(context: SigV4Context, parsed: ParsedSignature): void {
  if (parsed.scopeDate !== parsed.amzDate.slice(0, 8)) throw malformed('The credential scope date must equal the date part of X-Amz-Date.');
  if (!context.regionAllowed(parsed.region)) throw context.wrongRegion(parsed.region);
  if (parsed.service !== context.service) throw malformed(`The credential scope service must be '${context.service}'.`);
}

export function checkSignedHeaders(signedHeaders: readonly string[], headers: IncomingHttpHeaders, mustSign: readonly string[]): void {
  for (let index = 1; index < signedHeaders.length; index++) {
    if (signedHeaders[index - 1]! >= signedHeaders[index]!) throw malformed('SignedHeaders must be lower-case, sorted and unique.');
  }
  for (const name of mustSign) {
    if (!signedHeaders.includes(name)) throw malformed(`Header '${name}' must be signed.`);
  }
  for (const name of signedHeaders) {
    if (headers[name] === undefined) throw malformed(`Signed header '${name}' is missing from the request.`);
  }
}

/** x-amz-content-sha256, when sent, must be the body's hash (or UNSIGNED-PAYLOAD, which only S3 takes). */
export function checkBodyHash(context: SigV4Context, contentSha256: string | undefined, body: Uint8Array): void {
  if (contentSha256 === undefined) return;
  if (contentSha256 === UNSIGNED_PAYLOAD) {
    if (context.service !== 's3') throw malformed(`x-amz-content-sha256 UNSIGNED-PAYLOAD is not accepted by ${context.service}; sign the body hash.`);
  } else if (!/^[0-9a-f]{64}$/.test(contentSha256)) {
    throw malformed('x-amz-content-sha256 must be the hex SHA-256 of the body.');
  } else {
    const actual = body.length === 0 ? EMPTY_SHA256 : createHash('sha256').update(body).digest('hex');
    if (!safeEqual(actual, contentSha256)) throw new AuthError('signature_mismatch', 'The provided x-amz-content-sha256 header does not match what was computed.', { detail: 'content_sha256' });
  }
}

export async function resolveKey<K extends SigV4Key>(context: SigV4Context<K>, parsed: ParsedSignature): Promise<K> {
  const key = await context.lookupKey(parsed.accessKeyId);
  if (key === undefined) throw new AuthError('unknown_access_key', 'The security token included in the request is invalid: unknown access key id.');
  // Temporary keys are usable only with their own session token; long-term keys never carry one.
  if (key.sessionToken !== undefined) {
    if (parsed.sessionToken === undefined || !safeEqual(parsed.sessionToken, key.sessionToken)) {
      throw new AuthError('unknown_access_key', 'The security token included in the request is invalid: send the session token issued with this access key.', { detail: 'session_token' });
    }
  } else if (parsed.sessionToken !== undefined) {
    throw new AuthError('unknown_access_key', 'The security token included in the request is invalid: this access key takes no session token.', { detail: 'session_token' });
  }
  if (key.expiresAt !== undefined && context.clock() / 1000 >= key.expiresAt) {
    throw new AuthError('expired_credentials', 'The security token included in the request is expired; refresh your credentials.');
  }
  return key;
}

export function signerFor(context: SigV4Context, parsed: ParsedSignature, key: SigV4Key): SignatureV4 {
  const { accessKeyId, sessionToken } = parsed;
  return new SignatureV4({
    credentials: { accessKeyId, secretAccessKey: key.secretAccessKey, ...(sessionToken !== undefined ? { sessionToken } : {}) },
    // The scope's own region, already checked against the policy: the signature covers it.
    region: parsed.region,
    service: context.service,
    sha256: NodeSha256,
    // S3 signs the raw path; every other service escapes each segment again (REFERENCE §5).
    uriEscapePath: context.service !== 's3',
    applyChecksum: false,
  });
}

function toPrincipal(accessKeyId: string, key: SigV4Key): Principal {
  return Object.freeze({
    method: 'sigv4' as const,
    subject: key.principal.subject,
    accessKeyId,
    arn: key.principal.arn,
    permissions: Object.freeze([...key.principal.permissions]),
    scopes: Object.freeze([]),
    groups: Object.freeze([]),
    claims: Object.freeze({}),
    ...(key.expiresAt !== undefined ? { expiresAt: key.expiresAt } : {}),
  });
}

export function verification<K extends SigV4Key>(parsed: ParsedSignature, key: K, form: 'header' | 'presigned'): SigV4Verification<K> {
  return Object.freeze({ principal: toPrincipal(parsed.accessKeyId, key), key, accessKeyId: parsed.accessKeyId, region: parsed.region, form });
}
