import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Why a signature was refused; the surface (STS, S3) turns it into its own error shape. */
export type SigV4FailureCode =
  | 'MissingAuthentication'
  | 'IncompleteSignature'
  | 'InvalidAccessKeyId'
  | 'SignatureDoesNotMatch'
  | 'RequestTimeTooSkewed'
  | 'ExpiredToken'
  | 'InvalidToken'
  | 'XAmzContentSHA256Mismatch';

export class SigV4Failure extends Error {
  readonly code: SigV4FailureCode;
  constructor(code: SigV4FailureCode, message: string) {
    super(message);
    this.code = code;
  }
}

export interface SignedRequest {
  readonly method: string;
  /** Path and query exactly as received (`request.url`). */
  readonly rawUrl: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

export interface SigningSecret {
  readonly secretAccessKey: string;
  /** Present for temporary credentials: the request must carry and sign the same token. */
  readonly sessionToken?: string | undefined;
  /** Epoch seconds. */
  readonly expiresAt?: number | undefined;
}

export interface VerifiedSignature<K> {
  readonly accessKeyId: string;
  readonly key: K;
  readonly region: string;
}

const MAX_SKEW_MS = 15 * 60 * 1000;
const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;._-]+),\s*Signature=([0-9a-f]{64})$/;

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, '%20'));
  } catch {
    return text;
  }
}

function canonicalQuery(query: string): string {
  if (!query) return '';
  const pairs = query
    .split('&')
    .filter((part) => part.length > 0)
    .map((part) => {
      const index = part.indexOf('=');
      const name = index < 0 ? part : part.slice(0, index);
      const value = index < 0 ? '' : part.slice(index + 1);
      return [encodeRfc3986(safeDecode(name)), encodeRfc3986(safeDecode(value))] as const;
    });
  pairs.sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([name, value]) => `${name}=${value}`).join('&');
}

/** S3 signs the path as sent; other services normalise it and encode each segment again. */
function canonicalPath(rawPath: string, service: string): string {
  if (service === 's3') return rawPath || '/';
  const segments: string[] = [];
  for (const segment of rawPath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const joined = `/${segments.map((segment) => encodeRfc3986(segment)).join('/')}`;
  return rawPath.endsWith('/') && joined !== '/' ? `${joined}/` : joined;
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function parseAmzDate(text: string): number | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second] = match;
  return Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second));
}

/**
 * Verifies a header-signed SigV4 request by recomputing its signature from the raw request
 * (only the headers the client listed; body hashed here, so a client-declared hash is checked, not trusted).
 * `UNSIGNED-PAYLOAD` is accepted only for S3, as AWS does. Presigned URLs and aws-chunked bodies are not supported.
 */
export async function verifySigV4<K extends SigningSecret>(
  request: SignedRequest,
  options: { service: string; lookup: (accessKeyId: string) => Promise<K | undefined>; now: number },
): Promise<VerifiedSignature<K>> {
  const authorization = single(request.headers.authorization);
  if (!authorization) throw new SigV4Failure('MissingAuthentication', 'Request is missing Authentication Token');
  const match = AUTHORIZATION.exec(authorization.trim());
  if (!match) throw new SigV4Failure('IncompleteSignature', 'Authorization header must be AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…');
  const [, accessKeyId, scopeDate, region, service, signedHeadersText, signature] = match as unknown as [string, string, string, string, string, string, string];
  if (service !== options.service) throw new SigV4Failure('IncompleteSignature', `Credential should be scoped to correct service: '${options.service}'`);
  const signedHeaders = signedHeadersText.split(';');
  const amzDate = single(request.headers['x-amz-date']);
  if (!amzDate || !signedHeaders.includes('x-amz-date')) throw new SigV4Failure('IncompleteSignature', 'X-Amz-Date must be present and signed');
  if (!signedHeaders.includes('host')) throw new SigV4Failure('IncompleteSignature', 'SignedHeaders must include host');
  const signedAt = parseAmzDate(amzDate);
  if (signedAt === undefined || amzDate.slice(0, 8) !== scopeDate) throw new SigV4Failure('IncompleteSignature', 'X-Amz-Date must be yyyyMMddTHHmmssZ and match the credential scope date');
  if (Math.abs(options.now - signedAt) > MAX_SKEW_MS) {
    throw new SigV4Failure('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large (more than 15 minutes)');
  }
  for (const name of ['x-amz-content-sha256', 'x-amz-security-token']) {
    if (request.headers[name] !== undefined && !signedHeaders.includes(name)) throw new SigV4Failure('IncompleteSignature', `Header ${name} must be signed`);
  }
  for (const name of signedHeaders) {
    if (request.headers[name] === undefined) throw new SigV4Failure('IncompleteSignature', `Signed header ${name} is missing from the request`);
  }

  const key = await options.lookup(accessKeyId);
  if (!key) throw new SigV4Failure('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
  const token = single(request.headers['x-amz-security-token']);
  if (key.sessionToken !== undefined) {
    if (token === undefined) throw new SigV4Failure('InvalidToken', 'Temporary credentials need their session token (X-Amz-Security-Token)');
    const expected = Buffer.from(key.sessionToken);
    const given = Buffer.from(token);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw new SigV4Failure('InvalidToken', 'The provided token is malformed or otherwise invalid.');
  } else if (token !== undefined) {
    throw new SigV4Failure('InvalidToken', 'A session token was sent with long-term credentials');
  }
  if (key.expiresAt !== undefined && key.expiresAt * 1000 <= options.now) throw new SigV4Failure('ExpiredToken', 'The provided token has expired.');

  const bodyHash = createHash('sha256').update(request.body).digest('hex');
  const declared = single(request.headers['x-amz-content-sha256']);
  let payloadHash = bodyHash;
  if (declared !== undefined) {
    if (declared === 'UNSIGNED-PAYLOAD' && options.service === 's3') payloadHash = declared;
    else if (declared !== bodyHash) throw new SigV4Failure('XAmzContentSHA256Mismatch', 'The provided x-amz-content-sha256 header does not match what was computed.');
  }

  const questionMark = request.rawUrl.indexOf('?');
  const rawPath = questionMark < 0 ? request.rawUrl : request.rawUrl.slice(0, questionMark);
  const query = questionMark < 0 ? '' : request.rawUrl.slice(questionMark + 1);
  const canonicalHeaders = signedHeaders
    .map((name) => `${name}:${(single(request.headers[name]) ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const canonicalRequest = [request.method, canonicalPath(rawPath, options.service), canonicalQuery(query), canonicalHeaders, signedHeadersText, payloadHash].join('\n');
  const scope = `${scopeDate}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${key.secretAccessKey}`, scopeDate), region), service), 'aws4_request');
  const expected = Buffer.from(createHmac('sha256', signingKey).update(stringToSign).digest('hex'));
  if (!timingSafeEqual(expected, Buffer.from(signature))) {
    throw new SigV4Failure('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
  }
  return { accessKeyId, key, region };
}
