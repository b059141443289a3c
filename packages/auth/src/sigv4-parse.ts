import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { AuthError } from './auth-error.ts';

/** One signature as read from a request, before any key is looked up (header or presigned form). */
export interface ParsedSignature {
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

export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
/** The query parameters a presigned URL adds; everything else in the query is signed as sent. */
export const presignParameters = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature', 'X-Amz-Security-Token'];
export const presignMarker = /(?:^|&)X-Amz-(?:Algorithm|Credential|Signature)=/;

const authorizationPattern = /^AWS4-HMAC-SHA256 Credential=([^/\s,]{1,128})\/(\d{8})\/([a-z0-9-]{1,64})\/([a-z0-9-]{1,64})\/aws4_request, ?SignedHeaders=([a-z0-9;._-]{1,4096}), ?Signature=([0-9a-f]{64})$/;
const credentialPattern = /^([^/\s]{1,128})\/(\d{8})\/([a-z0-9-]{1,64})\/([a-z0-9-]{1,64})\/aws4_request$/;
const amzDatePattern = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

export const malformed = (message: string): AuthError => new AuthError('malformed', message, { status: 403 });
export const mismatch = (): AuthError => new AuthError('signature_mismatch', 'The request signature we calculated does not match the signature you provided. Check your AWS secret access key and signing method.');

function parseAmzDate(value: string | undefined): Date {
  const match = value === undefined ? null : amzDatePattern.exec(value);
  if (!match) throw malformed('X-Amz-Date must be in the form yyyymmddTHHMMSSZ.');
  const [, year, month, day, hour, minute, second] = match.map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  if (date.getUTCDate() !== day || date.getUTCMonth() !== month - 1) throw malformed('X-Amz-Date is not a real date.');
  return date;
}

export function singleHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  if (Array.isArray(value)) throw malformed(`Header ${name} must appear once.`);
  return value;
}

/** Splits a raw query on & and = without treating '+' as a space (SigV4 encodes spaces as %20). */
export function parseQuery(rawQuery: string): Map<string, string[]> {
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

export function splitRawPath(rawPath: string): { path: string; rawQuery: string } {
  if (!rawPath.startsWith('/')) throw malformed('The request path must start with /.');
  const mark = rawPath.indexOf('?');
  return mark < 0 ? { path: rawPath, rawQuery: '' } : { path: rawPath.slice(0, mark), rawQuery: rawPath.slice(mark + 1) };
}

export function safeEqual(left: string, right: string): boolean {
  const a = Buffer.from(left);
  const b = Buffer.from(right);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The header form: `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` plus X-Amz-Date. */
export function parseHeaderSignature(headers: IncomingHttpHeaders): { parsed: ParsedSignature; contentSha256: string | undefined } {
  const authorization = singleHeader(headers, 'authorization');
  if (authorization === undefined) throw new AuthError('missing', 'Request is missing Authentication Token.', { status: 403 });
  const match = authorizationPattern.exec(authorization);
  if (!match) throw malformed("Authorization must be 'AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…'.");
  const [, accessKeyId, scopeDate, region, service, signedHeaderList, signature] = match as unknown as [string, string, string, string, string, string, string];
  const amzDate = singleHeader(headers, 'x-amz-date');
  const signingDate = parseAmzDate(amzDate);
  const sessionToken = singleHeader(headers, 'x-amz-security-token');
  const contentSha256 = singleHeader(headers, 'x-amz-content-sha256');
  const signedHeaders = signedHeaderList.split(';');
  return { parsed: { accessKeyId, scopeDate, region, service, signedHeaders, signature, amzDate: amzDate!, signingDate, sessionToken }, contentSha256 };
}

/** The query form (presigned URL): each X-Amz-* parameter once; X-Amz-Expires within 1–`maxExpirySeconds`. */
export function parsePresignedSignature(query: Map<string, string[]>, maxExpirySeconds: number): { parsed: ParsedSignature; expires: number } {
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
  if (!(expires >= 1 && expires <= maxExpirySeconds)) throw malformed(`X-Amz-Expires must be 1–${maxExpirySeconds} seconds.`);
  const signedHeaders = one('X-Amz-SignedHeaders', true)!.split(';');
  const signature = one('X-Amz-Signature', true)!;
  if (!/^[0-9a-f]{64}$/.test(signature)) throw malformed('X-Amz-Signature must be 64 hex characters.');
  const sessionToken = one('X-Amz-Security-Token', false);
  return { parsed: { accessKeyId, scopeDate, region, service, signedHeaders, signature, amzDate, signingDate, sessionToken }, expires };
}

/** Only the headers the client signed, repeated values joined as Node would send them. */
export function pickHeaders(headers: IncomingHttpHeaders, names: readonly string[]): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of names) {
    const value = headers[name];
    picked[name] = Array.isArray(value) ? value.join(',') : (value ?? '');
  }
  return picked;
}
