import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import { systemClock, type Clock } from '@gatehouse/core';
import { z } from 'zod';
import { AuthError } from './auth-error.ts';
import { NodeSha256 } from './node-sha256.ts';
import type { Principal } from './principal.ts';

export interface SigV4Key {
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
  /** Epoch seconds; temporary credentials are refused after it. */
  readonly expiresAt?: number | undefined;
  readonly principal: { readonly subject: string; readonly arn: string; readonly permissions: readonly string[] };
}

/**
 * Which credential-scope regions a verifier accepts: one region, a list, or `'*'` for any (the signature
 * covers the region, so any is safe where the server has no region of its own, like the local sandbox).
 */
export type SigV4RegionPolicy = string | readonly string[];

export interface SigV4VerifierOptions<K extends SigV4Key = SigV4Key> {
  service: string;
  region: SigV4RegionPolicy;
  /** The key may carry extra fields (who the caller is); `authenticate` hands it back unchanged. */
  lookupKey(accessKeyId: string): Promise<K | undefined>;
  clock?: Clock;
  /** Default 300 (IAM's 5 minutes). */
  maxSkewSeconds?: number;
  /** Default 3600. */
  maxPresignExpirySeconds?: number;
}

export interface SigV4Request {
  method: string;
  /** Path and query exactly as received, e.g. `request.url`. */
  rawPath: string;
  headers: IncomingHttpHeaders;
  /** The whole body; undefined is an empty body (or UNSIGNED-PAYLOAD where the service allows it: S3). */
  body?: Uint8Array;
}

/** `either`: the header form when `Authorization` is sent, else the query form (S3 takes both, never together). */
export type SigV4Form = 'header' | 'presigned' | 'either';

export interface SigV4Verification<K extends SigV4Key = SigV4Key> {
  readonly principal: Principal;
  /** What `lookupKey` returned, extra fields included. Holds the secret: never log it. */
  readonly key: K;
  readonly accessKeyId: string;
  /** The credential scope's region (within the policy). */
  readonly region: string;
  readonly form: 'header' | 'presigned';
}

export interface SigV4Verifier<K extends SigV4Key = SigV4Key> {
  /** Header form: `Authorization: AWS4-HMAC-SHA256 …`. */
  verify(request: SigV4Request): Promise<Principal>;
  /** Query form (presigned URL), e.g. a WebSocket upgrade. */
  verifyPresigned(request: SigV4Request): Promise<Principal>;
  /** Same checks as `verify` / `verifyPresigned` (default `header`), returning the looked-up key and scope too. */
  authenticate(request: SigV4Request, form?: SigV4Form): Promise<SigV4Verification<K>>;
}

const regionName = z.string().regex(/^[a-z0-9-]{1,64}$/, 'A region is 1–64 lower-case letters, digits or hyphens (e.g. us-east-1)');
const optionsSchema = z.object({
  service: z.string().regex(/^[a-z0-9-]{1,64}$/),
  region: z.union([
    z.literal('*'),
    regionName,
    z.array(regionName).min(1, 'List at least one region, or use "*" for any').max(64)
      .refine((regions) => new Set(regions).size === regions.length, 'Each region may be listed once'),
  ]),
  maxSkewSeconds: z.number().int().min(1).max(900).default(300),
  maxPresignExpirySeconds: z.number().int().min(1).max(604_800).default(3600),
});

const authorizationPattern = /^AWS4-HMAC-SHA256 Credential=([^/\s,]{1,128})\/(\d{8})\/([a-z0-9-]{1,64})\/([a-z0-9-]{1,64})\/aws4_request, ?SignedHeaders=([a-z0-9;._-]{1,4096}), ?Signature=([0-9a-f]{64})$/;
const credentialPattern = /^([^/\s]{1,128})\/(\d{8})\/([a-z0-9-]{1,64})\/([a-z0-9-]{1,64})\/aws4_request$/;
const amzDatePattern = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const presignParameters = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature', 'X-Amz-Security-Token'];
const presignMarker = /(?:^|&)X-Amz-(?:Algorithm|Credential|Signature)=/;

interface ParsedSignature {
  readonly accessKeyId: string;
  readonly scopeDate: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
  readonly amzDate: string;
  readonly signingDate: Date;
  readonly sessionToken: string | undefined;
}

const malformed = (message: string): AuthError => new AuthError('malformed', message, { status: 403 });
const mismatch = (): AuthError => new AuthError('signature_mismatch', 'The request signature we calculated does not match the signature you provided. Check your AWS secret access key and signing method.');

function parseAmzDate(value: string | undefined): Date {
  const match = value === undefined ? null : amzDatePattern.exec(value);
  if (!match) throw malformed('X-Amz-Date must be in the form yyyymmddTHHMMSSZ.');
  const [, year, month, day, hour, minute, second] = match.map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  if (date.getUTCDate() !== day || date.getUTCMonth() !== month - 1) throw malformed('X-Amz-Date is not a real date.');
  return date;
}

function singleHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  if (Array.isArray(value)) throw malformed(`Header ${name} must appear once.`);
  return value;
}

/** Splits a raw query on & and = without treating '+' as a space (SigV4 encodes spaces as %20). */
function parseQuery(rawQuery: string): Map<string, string[]> {
  const query = new Map<string, string[]>();
  if (rawQuery.length === 0) return query;
  for (const part of rawQuery.split('&')) {
    if (part.length === 0) continue;
    const equals = part.indexOf('=');
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent(equals < 0 ? part : part.slice(0, equals));
      value = equals < 0 ? '' : decodeURIComponent(part.slice(equals + 1));
    } catch {
      throw malformed('The query string is not valid percent-encoding.');
    }
    const values = query.get(name);
    if (values) values.push(value);
    else query.set(name, [value]);
  }
  return query;
}

function splitRawPath(rawPath: string): { path: string; rawQuery: string } {
  if (!rawPath.startsWith('/')) throw malformed('The request path must start with /.');
  const mark = rawPath.indexOf('?');
  return mark < 0 ? { path: rawPath, rawQuery: '' } : { path: rawPath.slice(0, mark), rawQuery: rawPath.slice(mark + 1) };
}

function safeEqual(left: string, right: string): boolean {
  const a = Buffer.from(left);
  const b = Buffer.from(right);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Server-side SigV4 (REFERENCE §5). Parses strictly, checks scope, time and key, hashes the body,
 * then rebuilds the signature with @smithy/signature-v4 — the signer the AWS SDK v3 uses — from only
 * the headers the client signed, and compares in constant time.
 */
export function createSigV4Verifier<K extends SigV4Key = SigV4Key>(options: SigV4VerifierOptions<K>): SigV4Verifier<K> {
  const settings = optionsSchema.parse({
    service: options.service,
    region: options.region,
    maxSkewSeconds: options.maxSkewSeconds,
    maxPresignExpirySeconds: options.maxPresignExpirySeconds,
  });
  const clock = options.clock ?? systemClock;
  const regionPolicy = settings.region;
  const regionAllowed = (candidate: string): boolean =>
    regionPolicy === '*' || (typeof regionPolicy === 'string' ? candidate === regionPolicy : regionPolicy.includes(candidate));
  const regionRule = typeof regionPolicy === 'string' ? `'${regionPolicy}'` : `one of ${regionPolicy.map((name) => `'${name}'`).join(', ')}`;
  const suggested = typeof regionPolicy === 'string' ? regionPolicy : regionPolicy[0]!;
  // The one wording every SigV4 surface answers with (Cognito admin, runtime, AgentCore Identity): the
  // signature covers the region, so a client set to another region can only be told which one to use.
  const wrongRegion = (signed: string): AuthError =>
    new AuthError(
      'wrong_region',
      `Credential should be scoped to a valid region: the request was signed for region '${signed}', but this server signs for ${regionRule}. ` +
        `Set the client's region to '${suggested}' (AWS_REGION=${suggested}, --region ${suggested}, or region: '${suggested}' in the SDK).`,
    );
  // S3 signs the raw path; every other service escapes each segment again (REFERENCE §5).
  const uriEscapePath = settings.service !== 's3';

  function checkScope(parsed: { scopeDate: string; region: string; service: string; amzDate: string }): void {
    if (parsed.scopeDate !== parsed.amzDate.slice(0, 8)) throw malformed('The credential scope date must equal the date part of X-Amz-Date.');
    if (!regionAllowed(parsed.region)) throw wrongRegion(parsed.region);
    if (parsed.service !== settings.service) throw malformed(`The credential scope service must be '${settings.service}'.`);
  }

  function checkSignedHeaders(signedHeaders: readonly string[], headers: IncomingHttpHeaders, mustSign: readonly string[]): void {
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

  async function resolveKey(parsed: ParsedSignature): Promise<K> {
    const key = await options.lookupKey(parsed.accessKeyId);
    if (key === undefined) throw new AuthError('unknown_access_key', 'The security token included in the request is invalid: unknown access key id.');
    // Temporary keys are usable only with their own session token; long-term keys never carry one.
    if (key.sessionToken !== undefined) {
      if (parsed.sessionToken === undefined || !safeEqual(parsed.sessionToken, key.sessionToken)) {
        throw new AuthError('unknown_access_key', 'The security token included in the request is invalid: send the session token issued with this access key.', { detail: 'session_token' });
      }
    } else if (parsed.sessionToken !== undefined) {
      throw new AuthError('unknown_access_key', 'The security token included in the request is invalid: this access key takes no session token.', { detail: 'session_token' });
    }
    if (key.expiresAt !== undefined && clock() / 1000 >= key.expiresAt) {
      throw new AuthError('expired_credentials', 'The security token included in the request is expired; refresh your credentials.');
    }
    return key;
  }

  function signerFor(parsed: ParsedSignature, key: SigV4Key): SignatureV4 {
    const { accessKeyId, sessionToken } = parsed;
    return new SignatureV4({
      credentials: { accessKeyId, secretAccessKey: key.secretAccessKey, ...(sessionToken !== undefined ? { sessionToken } : {}) },
      // The scope's own region, already checked against the policy: the signature covers it.
      region: parsed.region,
      service: settings.service,
      sha256: NodeSha256,
      uriEscapePath,
      applyChecksum: false,
    });
  }

  function pickHeaders(headers: IncomingHttpHeaders, names: readonly string[]): Record<string, string> {
    const picked: Record<string, string> = {};
    for (const name of names) {
      const value = headers[name];
      picked[name] = Array.isArray(value) ? value.join(',') : (value ?? '');
    }
    return picked;
  }

  function toQueryObject(query: Map<string, string[]>): Record<string, string | string[]> {
    const result: Record<string, string | string[]> = {};
    for (const [name, values] of query) result[name] = values.length === 1 ? values[0]! : values;
    return result;
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

  function verification(parsed: ParsedSignature, key: K, form: 'header' | 'presigned'): SigV4Verification<K> {
    return Object.freeze({ principal: toPrincipal(parsed.accessKeyId, key), key, accessKeyId: parsed.accessKeyId, region: parsed.region, form });
  }

  async function verifyHeader(request: SigV4Request): Promise<SigV4Verification<K>> {
    const authorization = singleHeader(request.headers, 'authorization');
    if (authorization === undefined) throw new AuthError('missing', 'Request is missing Authentication Token.', { status: 403 });
    const match = authorizationPattern.exec(authorization);
    if (!match) throw malformed("Authorization must be 'AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…'.");
    const [, accessKeyId, scopeDate, region, service, signedHeaderList, signature] = match as unknown as [string, string, string, string, string, string, string];
    const amzDate = singleHeader(request.headers, 'x-amz-date');
    const signingDate = parseAmzDate(amzDate);
    const sessionToken = singleHeader(request.headers, 'x-amz-security-token');
    const contentSha256 = singleHeader(request.headers, 'x-amz-content-sha256');
    const signedHeaders = signedHeaderList.split(';');
    const parsed: ParsedSignature = { accessKeyId, scopeDate, region, service, signedHeaders, signature, amzDate: amzDate!, signingDate, sessionToken };
    checkScope(parsed);
    checkSignedHeaders(signedHeaders, request.headers, [
      'host', 'x-amz-date',
      ...(sessionToken !== undefined ? ['x-amz-security-token'] : []),
      ...(contentSha256 !== undefined ? ['x-amz-content-sha256'] : []),
    ]);
    if (Math.abs(clock() - signingDate.getTime()) > settings.maxSkewSeconds * 1000) {
      throw new AuthError('clock_skew', `Signature not yet current or expired: X-Amz-Date must be within ${settings.maxSkewSeconds} s of the server time.`);
    }
    const body = request.body ?? new Uint8Array();
    if (contentSha256 !== undefined) {
      if (contentSha256 === UNSIGNED_PAYLOAD) {
        if (settings.service !== 's3') throw malformed(`x-amz-content-sha256 UNSIGNED-PAYLOAD is not accepted by ${settings.service}; sign the body hash.`);
      } else if (!/^[0-9a-f]{64}$/.test(contentSha256)) {
        throw malformed('x-amz-content-sha256 must be the hex SHA-256 of the body.');
      } else {
        const actual = body.length === 0 ? EMPTY_SHA256 : createHash('sha256').update(body).digest('hex');
        if (!safeEqual(actual, contentSha256)) throw new AuthError('signature_mismatch', 'The provided x-amz-content-sha256 header does not match what was computed.', { detail: 'content_sha256' });
      }
    }
    const key = await resolveKey(parsed);
    const { path, rawQuery } = splitRawPath(request.rawPath);
    const signed = await signerFor(parsed, key).sign(
      {
        method: request.method.toUpperCase(),
        protocol: 'https:',
        hostname: String(request.headers.host),
        path,
        query: toQueryObject(parseQuery(rawQuery)),
        headers: pickHeaders(request.headers, signedHeaders),
        body,
      },
      { signingDate, signableHeaders: new Set(signedHeaders) },
    );
    const expected = /Signature=([0-9a-f]{64})$/.exec(String(signed.headers.authorization ?? signed.headers.Authorization ?? ''))?.[1] ?? '';
    if (!safeEqual(expected, signature)) throw mismatch();
    return verification(parsed, key, 'header');
  }

  async function verifyQuery(request: SigV4Request): Promise<SigV4Verification<K>> {
    const { path, rawQuery } = splitRawPath(request.rawPath);
    const query = parseQuery(rawQuery);
    const one = (name: string, required: boolean): string | undefined => {
      const values = query.get(name);
      if (values === undefined) {
        if (required) throw new AuthError(name === 'X-Amz-Signature' ? 'missing' : 'malformed', `Query parameter ${name} is required in a presigned URL.`, { status: 403 });
        return undefined;
      }
      if (values.length !== 1) throw malformed(`Query parameter ${name} must appear once.`);
      return values[0];
    };
    if (one('X-Amz-Algorithm', true) !== 'AWS4-HMAC-SHA256') throw malformed('X-Amz-Algorithm must be AWS4-HMAC-SHA256.');
    const credential = credentialPattern.exec(one('X-Amz-Credential', true)!);
    if (!credential) throw malformed('X-Amz-Credential must be {AccessKeyId}/{yyyymmdd}/{region}/{service}/aws4_request.');
    const [, accessKeyId, scopeDate, region, service] = credential as unknown as [string, string, string, string, string];
    const amzDate = one('X-Amz-Date', true)!;
    const signingDate = parseAmzDate(amzDate);
    const expiresText = one('X-Amz-Expires', true)!;
    const expires = /^\d{1,7}$/.test(expiresText) ? Number(expiresText) : Number.NaN;
    if (!(expires >= 1 && expires <= settings.maxPresignExpirySeconds)) throw malformed(`X-Amz-Expires must be 1–${settings.maxPresignExpirySeconds} seconds.`);
    const signedHeaders = one('X-Amz-SignedHeaders', true)!.split(';');
    const signature = one('X-Amz-Signature', true)!;
    if (!/^[0-9a-f]{64}$/.test(signature)) throw malformed('X-Amz-Signature must be 64 hex characters.');
    const sessionToken = one('X-Amz-Security-Token', false);
    const parsed: ParsedSignature = { accessKeyId, scopeDate, region, service, signedHeaders, signature, amzDate, signingDate, sessionToken };
    checkScope(parsed);
    checkSignedHeaders(signedHeaders, request.headers, ['host']);
    const now = clock();
    if (now < signingDate.getTime() - settings.maxSkewSeconds * 1000) {
      throw new AuthError('clock_skew', 'The presigned URL is not valid yet: X-Amz-Date is in the future.');
    }
    if (now > signingDate.getTime() + expires * 1000) throw new AuthError('expired', 'The presigned URL has expired; presign a new one.', { status: 403 });
    const key = await resolveKey(parsed);
    const rest: Record<string, string | string[]> = {};
    for (const [name, values] of query) {
      if (!presignParameters.includes(name)) rest[name] = values.length === 1 ? values[0]! : values;
    }
    const signer = signerFor(parsed, key);
    const signedSet = new Set(signedHeaders);
    // The AWS SDK v3 (smithy) presigns the empty-body hash; botocore presigns UNSIGNED-PAYLOAD. Accept either.
    for (const payloadHash of [undefined, UNSIGNED_PAYLOAD]) {
      const headers = pickHeaders(request.headers, signedHeaders);
      if (payloadHash !== undefined) headers['x-amz-content-sha256'] = payloadHash;
      const presigned = await signer.presign(
        { method: request.method.toUpperCase(), protocol: 'https:', hostname: String(request.headers.host), path, query: { ...rest }, headers, ...(request.body ? { body: request.body } : {}) },
        {
          signingDate,
          expiresIn: expires,
          signableHeaders: signedSet,
          unsignableHeaders: new Set(payloadHash !== undefined && !signedSet.has('x-amz-content-sha256') ? ['x-amz-content-sha256'] : []),
          unhoistableHeaders: new Set([...signedHeaders, 'x-amz-content-sha256']),
        },
      );
      const expected = presigned.query?.['X-Amz-Signature'];
      if (typeof expected === 'string' && safeEqual(expected, signature)) return verification(parsed, key, 'presigned');
    }
    throw mismatch();
  }

  return {
    async verify(request: SigV4Request): Promise<Principal> {
      return (await verifyHeader(request)).principal;
    },
    async verifyPresigned(request: SigV4Request): Promise<Principal> {
      return (await verifyQuery(request)).principal;
    },
    async authenticate(request: SigV4Request, form: SigV4Form = 'header'): Promise<SigV4Verification<K>> {
      if (form === 'header') return verifyHeader(request);
      if (form === 'presigned') return verifyQuery(request);
      const { rawQuery } = splitRawPath(request.rawPath);
      const queryAuth = presignMarker.test(rawQuery);
      if (request.headers.authorization !== undefined) {
        // Two credentials could name two different callers; S3 refuses the mix too.
        if (queryAuth) throw malformed('Send either the Authorization header or a presigned query (X-Amz-Signature…), not both.');
        return verifyHeader(request);
      }
      if (queryAuth) return verifyQuery(request);
      throw new AuthError('missing', 'Request is missing Authentication Token: sign it with AWS SigV4 (Authorization header or presigned URL).', { status: 403 });
    },
  };
}
