import { request as httpRequest, Agent, type IncomingMessage, type ServerResponse, type IncomingHttpHeaders } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import { BodyTooLargeError, readBody, type Logger } from '@gatehouse/core';
import { AuthError, createSigV4Verifier, type AuthFailureReason } from '@gatehouse/auth';
import { S3Error, type S3ErrorCode } from './s3-error.ts';
import { escapeXml } from './xml.ts';
import { readDeleteObjects, writeDeleteObjects } from './delete-objects-body.ts';
import { refuseUnsafeStorageNames, type StorageName } from './storage-names.ts';
import { createSandboxMultipart, multipartStep, type MultipartRequest } from './sandbox-multipart.ts';
import type { MultipartUploadStore } from './multipart-upload-store.ts';
import { assumedRoleArn } from './sandbox-sts.ts';
import { READ_ONLY_ROLE, roleAllowsS3, type RoleKind } from './sandbox-roles.ts';
import { SANDBOX_ACCOUNTS } from './sandbox-accounts.ts';
import type { SandboxCredentialStore } from './sandbox-credential-store.ts';
import type { SigV4Key } from './sandbox-key.ts';

export interface S3Observation {
  readonly accountId: string | undefined;
  readonly method: string;
  readonly path: string;
  readonly action: string;
  readonly accessKeyId: string | undefined;
  /** `answered`: the front answered itself (multipart listings, abort) without forwarding. */
  readonly outcome: 'forwarded' | 'answered' | S3ErrorCode;
}

export interface SandboxS3Options {
  readonly store: SandboxCredentialStore;
  readonly centralAccountId: string;
  readonly lookupAccessKey: (accessKeyId: string) => Promise<SigV4Key | undefined>;
  /** Where s3rver listens (loopback). */
  readonly upstreamPort: number;
  readonly now: () => number;
  readonly logger: Logger;
  readonly observe: (observation: S3Observation) => void;
  readonly uploads: MultipartUploadStore;
  /** Removes what storage keeps of an aborted upload (s3rver has no AbortMultipartUpload). */
  readonly discardUpload: (storedBucket: string, uploadId: string) => Promise<void>;
}

const PREFIX = '/s3';
const PRESIGN_PARAMETER = /^X-Amz-(Algorithm|Credential|Date|Expires|SignedHeaders|Signature|Security-Token|Content-Sha256)$/;
const MAX_BODY = 16 * 1024 * 1024;
const FORWARDED_REQUEST_HEADERS = /^(content-type|content-md5|content-length|cache-control|content-disposition|content-encoding|content-language|expires|range|if-match|if-none-match|if-modified-since|if-unmodified-since|x-amz-meta-.*|x-amz-tagging|x-amz-storage-class)$/;
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'date', 'server']);
/**
 * The S3 error name for each refusal of `@gatehouse/auth`'s SigV4 verifier (S3 answers an expired presigned
 * URL with AccessDenied). The JWT-only reasons never come from the SigV4 verifier; they are mapped so the
 * table is total.
 */
const AUTH_TO_S3: Record<AuthFailureReason, S3ErrorCode> = {
  missing: 'AccessDenied',
  malformed: 'AccessDenied',
  unknown_access_key: 'InvalidAccessKeyId',
  signature_mismatch: 'SignatureDoesNotMatch',
  clock_skew: 'RequestTimeTooSkewed',
  expired: 'AccessDenied',
  expired_credentials: 'ExpiredToken',
  bad_signature: 'SignatureDoesNotMatch',
  not_yet_valid: 'AccessDenied',
  unknown_key: 'InvalidAccessKeyId',
  revoked: 'AccessDenied',
  method_mismatch: 'AccessDenied',
  wrong_issuer: 'AccessDenied',
  wrong_client: 'AccessDenied',
  wrong_audience: 'AccessDenied',
  wrong_token_use: 'AccessDenied',
  insufficient_scope: 'AccessDenied',
  claim_mismatch: 'AccessDenied',
  issuer_unavailable: 'ServiceUnavailable',
  wrong_region: 'AccessDenied',
};

/** S3 names two refusals more finely than the verifier's codes: a bad session token and a wrong body hash. */
function s3ErrorFor(error: AuthError): S3Error {
  if (error.detail === 'session_token') return new S3Error('InvalidToken', error.message);
  if (error.detail === 'content_sha256') return new S3Error('XAmzContentSHA256Mismatch', error.message);
  return new S3Error(AUTH_TO_S3[error.code], error.message);
}

/** Namespaced bucket name in the one s3rver: accounts never see each other's buckets. */
export function storedBucketName(accountId: string, bucket: string): string {
  return `${accountId}-${bucket}`;
}

interface Target {
  readonly bucket: string | undefined;
  /** The object key, percent-decoded once (the one decoding: storage gets it re-encoded), or undefined. */
  readonly key: string | undefined;
  readonly query: URLSearchParams;
}

function parseTarget(rawUrl: string): Target {
  const questionMark = rawUrl.indexOf('?');
  const rawPath = (questionMark < 0 ? rawUrl : rawUrl.slice(0, questionMark)).slice(PREFIX.length);
  const rawQuery = questionMark < 0 ? '' : rawUrl.slice(questionMark + 1);
  const match = /^\/([^/]+)(\/.*)?$/.exec(rawPath);
  const rawKey = match?.[2] ?? '';
  let bucket: string | undefined;
  let key: string | undefined;
  try {
    bucket = match?.[1] ? decodeURIComponent(match[1]) : undefined;
    key = rawKey.length > 1 ? decodeURIComponent(rawKey.slice(1)) : undefined;
  } catch {
    throw new S3Error('InvalidRequest', 'The bucket or object key in the path is not valid percent-encoding');
  }
  const query = new URLSearchParams(rawQuery);
  // A presigned URL's signature parameters authenticate this request only: they name no operation and must
  // not reach s3rver (it would check them itself, against its own key).
  for (const name of [...query.keys()]) if (PRESIGN_PARAMETER.test(name)) query.delete(name);
  return { bucket, key, query };
}

/** The IAM action a path-style S3 request needs (enough of S3's table for the tools and the AWS CLI's s3 commands). */
function actionFor(method: string, target: Target): string {
  const { bucket, key, query } = target;
  const hasKey = key !== undefined;
  if (!bucket) return method === 'GET' ? 's3:ListAllMyBuckets' : `s3:Unsupported${method}`;
  if (!hasKey) {
    if (method === 'GET' || method === 'HEAD') {
      if (query.has('location')) return 's3:GetBucketLocation';
      if (query.has('versions')) return 's3:ListBucketVersions';
      if (query.has('uploads')) return 's3:ListBucketMultipartUploads';
      for (const sub of ['acl', 'cors', 'policy', 'tagging', 'versioning', 'website', 'lifecycle', 'logging', 'notification']) if (query.has(sub)) return `s3:GetBucket${sub.charAt(0).toUpperCase()}${sub.slice(1)}`;
      return 's3:ListBucket';
    }
    if (method === 'PUT') return query.size === 0 ? 's3:CreateBucket' : 's3:PutBucketConfiguration';
    if (method === 'DELETE') return 's3:DeleteBucket';
    if (method === 'POST' && query.has('delete')) return 's3:DeleteObject';
    return `s3:Unsupported${method}`;
  }
  if (method === 'GET' && query.has('uploadId')) return 's3:ListMultipartUploadParts';
  if (method === 'GET' || method === 'HEAD') return query.has('tagging') ? 's3:GetObjectTagging' : query.has('acl') ? 's3:GetObjectAcl' : 's3:GetObject';
  if (method === 'PUT') return query.has('tagging') ? 's3:PutObjectTagging' : 's3:PutObject';
  if (method === 'DELETE') return query.has('uploadId') ? 's3:AbortMultipartUpload' : 's3:DeleteObject';
  // CreateMultipartUpload and CompleteMultipartUpload need s3:PutObject, as in IAM.
  if (method === 'POST' && (query.has('uploads') || query.has('uploadId'))) return 's3:PutObject';
  return `s3:Unsupported${method}`;
}

interface Caller {
  readonly accessKeyId: string;
  readonly accountId: string;
  readonly kind: RoleKind | 'admin';
  readonly arn: string;
}

/** A key as the sandbox S3 looks it up: the signing secret plus the account and role it acts in. */
type S3Key = SigV4Key & { readonly caller: Caller };

/**
 * The sandbox's S3 front at `{base}/s3` (path-style). Verifies SigV4 against sandbox sessions (and admin keys),
 * enforces the role's permissions, maps buckets into the caller's account namespace, re-signs for s3rver
 * with its fixed key and streams the answer back. A refused request is never forwarded.
 */
export function createSandboxS3(options: SandboxS3Options) {
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const multipart = createSandboxMultipart({ uploads: options.uploads, discardUpload: options.discardUpload, now: options.now });
  const upstreamSigner = new SignatureV4({
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    region: 'us-east-1',
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });

  // Any region (the signature covers it), S3's raw path and UNSIGNED-PAYLOAD (the verifier's rules for service
  // s3), 15 minutes of skew, and presigned URLs up to S3's 7 days.
  const verifier = createSigV4Verifier<S3Key>({
    service: 's3',
    region: '*',
    maxSkewSeconds: 900,
    maxPresignExpirySeconds: 604_800,
    clock: options.now,
    lookupKey: async (accessKeyId) => {
      const credential = await options.store.find(accessKeyId);
      if (credential) {
        const arn = assumedRoleArn(credential);
        return {
          secretAccessKey: credential.secretAccessKey,
          sessionToken: credential.sessionToken,
          expiresAt: credential.expiresAt,
          principal: { subject: credential.user.sub, arn, permissions: [] },
          caller: { accessKeyId, accountId: credential.accountId, kind: credential.roleKind, arn },
        };
      }
      const key = await options.lookupAccessKey(accessKeyId);
      return key ? { ...key, caller: { accessKeyId, accountId: options.centralAccountId, kind: 'admin', arn: key.principal.arn } } : undefined;
    },
  });

  async function authenticate(request: IncomingMessage, body: Buffer): Promise<Caller> {
    try {
      const verified = await verifier.authenticate({ method: request.method ?? 'GET', rawPath: request.url ?? '/', headers: request.headers, body }, 'either');
      return verified.key.caller;
    } catch (error) {
      if (error instanceof AuthError) throw s3ErrorFor(error);
      throw error;
    }
  }

  /**
   * The one way to storage: every name the request hands to s3rver is checked here, decoded, before the request
   * is signed with s3rver's key and sent. Nothing reaches storage around it.
   */
  async function sendToStorage(upstream: StorageRequest, observation: S3Observation): Promise<IncomingMessage> {
    refuseUnsafeStorageNames(upstream.names);
    const headers: Record<string, string> = { ...upstream.headers, host: `127.0.0.1:${options.upstreamPort}` };
    headers['x-amz-content-sha256'] = createHash('sha256').update(upstream.body).digest('hex');
    const query: Record<string, string | string[]> = {};
    for (const [name, value] of upstream.query) {
      const existing = query[name];
      query[name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
    }
    const signed = await upstreamSigner.sign({ method: upstream.method, protocol: 'http:', hostname: '127.0.0.1', port: options.upstreamPort, path: upstream.path, query, headers, body: upstream.body });
    const queryText = [...upstream.query].map(([name, value]) => `${encodeRfc3986(name)}=${encodeRfc3986(value)}`).join('&');
    options.observe(observation);
    return new Promise((resolve, reject) => {
      const request = httpRequest({ host: '127.0.0.1', port: options.upstreamPort, method: upstream.method, path: `${upstream.path}${queryText ? `?${queryText}` : ''}`, headers: signed.headers, agent }, resolve);
      request.on('error', reject);
      request.end(upstream.body);
    });
  }

  async function readAll(stream: IncomingMessage, limit: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of stream) {
      size += (chunk as Buffer).length;
      if (size > limit) throw new S3Error('InternalError', 'listing too large');
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? 'GET';
    const rawUrl = request.url ?? '/';
    // Logged and observed without the query: a presigned URL carries its signature and session token there.
    const path = rawUrl.split('?')[0] ?? rawUrl;
    let action = 'unknown';
    let caller: Caller | undefined;
    try {
      const target = parseTarget(rawUrl);
      action = actionFor(method, target);
      let body: Buffer;
      try {
        body = await readBody(request, MAX_BODY);
      } catch (error) {
        if (error instanceof BodyTooLargeError) throw new S3Error('EntityTooLarge', `The sandbox accepts bodies up to ${MAX_BODY} bytes`);
        throw error;
      }
      if (/aws-chunked/.test(String(request.headers['content-encoding'] ?? '')) || String(request.headers['x-amz-content-sha256'] ?? '').startsWith('STREAMING-')) {
        throw new S3Error('NotImplemented', 'Streaming (aws-chunked) uploads are not supported by the sandbox; send the body with a known length');
      }
      caller = await authenticate(request, body);
      const resource = target.bucket ? `arn:aws:s3:::${target.bucket}${target.key === undefined ? '' : `/${target.key}`}` : '*';
      const allowed = caller.kind === 'admin' ? !action.startsWith('s3:Unsupported') : roleAllowsS3(caller.kind, action);
      if (!allowed || action === 's3:CreateBucket' || action === 's3:PutBucketConfiguration') {
        throw new S3Error('AccessDenied', `User: ${caller.arn} is not authorized to perform: ${action} on resource: "${resource}" because no identity-based policy allows the ${action} action`, resource);
      }
      if (caller.kind === 'admin' && action === 's3:ListAllMyBuckets') throw adminHasNoBuckets(caller);
      if (request.headers['x-amz-copy-source'] !== undefined) throw new S3Error('NotImplemented', 'CopyObject is not supported by the sandbox; read the object and put it');
      let stored: string | undefined;
      if (target.bucket) {
        stored = storedBucketName(caller.accountId, target.bucket);
        if (stored.length > 63 || !/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(target.bucket)) throw new S3Error('InvalidBucketName', 'The specified bucket is not valid.', target.bucket);
      }
      const listV2 = action === 's3:ListBucket' && target.query.get('list-type') === '2';
      const step = stored && target.bucket ? multipartStep(method, target.key, target.query) : undefined;
      const multipartRequest: MultipartRequest | undefined = step && stored && target.bucket
        ? { step, accountId: caller.accountId, callerArn: caller.arn, bucket: target.bucket, storedBucket: stored, key: target.key ?? '', query: target.query, body }
        : undefined;
      if (multipartRequest?.step === 'complete') checkContentMd5(body, request.headers['content-md5']);
      const plan = multipartRequest ? await multipart.plan(multipartRequest) : undefined;
      if (plan?.answer !== undefined) {
        options.observe({ accountId: caller.accountId, method, path, action, accessKeyId: caller.accessKeyId, outcome: 'answered' });
        const payload = Buffer.from(plan.answer, 'utf8');
        response.writeHead(payload.length ? 200 : 204, { 'content-type': 'application/xml', 'content-length': String(payload.length), 'x-amz-request-id': randomBytes(8).toString('hex').toUpperCase() }).end(payload);
        return;
      }
      const rewrittenBody = plan?.body;
      const upstream = storageRequestFor(method, action, target, stored, listV2, rewrittenBody ?? body, request.headers, rewrittenBody !== undefined);
      const answer = await sendToStorage(upstream, { accountId: caller.accountId, method, path, action, accessKeyId: caller.accessKeyId, outcome: 'forwarded' });
      const responseHeaders: IncomingHttpHeaders = {};
      for (const [name, value] of Object.entries(answer.headers)) if (!HOP_BY_HOP.has(name) && value !== undefined) responseHeaders[name] = value;
      const status = answer.statusCode ?? 502;
      const rewrite = action !== 's3:GetObject' && /xml/.test(String(answer.headers['content-type'] ?? '')) && method !== 'HEAD';
      if (!rewrite) {
        if (multipartRequest && plan) multipart.record(multipartRequest, plan, status, answer.headers, undefined);
        if (answer.headers['content-length'] !== undefined) responseHeaders['content-length'] = answer.headers['content-length'];
        response.writeHead(status, responseHeaders);
        answer.pipe(response);
        return;
      }
      let xml = (await readAll(answer, MAX_BODY)).toString('utf8');
      if (action === 's3:ListAllMyBuckets') xml = onlyAccountBuckets(xml, caller.accountId);
      else if (stored && target.bucket) xml = xml.split(stored).join(target.bucket);
      if (listV2 && status === 200) xml = v1ListingAsV2(xml, target.query);
      if (multipartRequest && plan) multipart.record(multipartRequest, plan, status, answer.headers, xml);
      const payload = Buffer.from(xml, 'utf8');
      response.writeHead(status, { ...responseHeaders, 'content-length': String(payload.length) }).end(payload);
    } catch (error) {
      const s3Error = error instanceof S3Error ? error : new S3Error('InternalError', 'internal');
      if (!(error instanceof S3Error)) options.logger.error({ err: error, action }, 'sandbox S3 failed');
      else options.logger.warn({ action, method, path, code: s3Error.code, accountId: caller?.accountId, accessKeyId: caller?.accessKeyId, reason: s3Error.message }, 'sandbox S3 request refused');
      options.observe({ accountId: caller?.accountId, method, path, action, accessKeyId: caller?.accessKeyId, outcome: s3Error.code });
      const wire = s3Error.toResponse();
      if (!response.headersSent) response.writeHead(wire.status, { ...wire.headers, 'content-length': String(Buffer.byteLength(wire.body)) }).end(method === 'HEAD' ? undefined : wire.body);
      else response.destroy();
    }
  }

  return {
    handle,
    close(): void {
      agent.destroy();
    },
  };
}

/**
 * The admin key acts in the central account, which holds no sandbox buckets: an empty listing would look like
 * "the sandbox is empty". The AWS CLI prints an error's message but never a header, so the answer is an S3
 * AccessDenied that says where the buckets are and how to reach them.
 */
function adminHasNoBuckets(caller: Caller): S3Error {
  const example = SANDBOX_ACCOUNTS[0]!;
  return new S3Error(
    'AccessDenied',
    `${caller.arn} is the admin key of the central account ${caller.accountId}, which holds no sandbox buckets; the buckets live in the sandbox accounts ` +
      `(${SANDBOX_ACCOUNTS.map((account) => `${account.name} ${account.accountId}`).join(', ')}). Assume a role there with this key, e.g. ` +
      `aws sts assume-role --role-arn arn:aws:iam::${example.accountId}:role/${READ_ONLY_ROLE} --role-session-name me --endpoint-url <gatehouse>/sts, ` +
      'and list with the credentials it returns.',
    '*',
  );
}

/** Keeps only the caller's account's buckets in a ListAllMyBuckets answer, under their own names. */
function onlyAccountBuckets(xml: string, accountId: string): string {
  const prefix = `${accountId}-`;
  return xml.replace(/<Bucket>\s*<Name>([^<]*)<\/Name>([\s\S]*?)<\/Bucket>/g, (_whole, name: string, rest: string) =>
    name.startsWith(prefix) ? `<Bucket><Name>${name.slice(prefix.length)}</Name>${rest}</Bucket>` : '');
}

function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
}

/*
 * s3rver 3.7 builds ListObjectsV2 continuation tokens with DES, which OpenSSL 3 (Node ≥ 17) no longer offers, so
 * any truncated V2 listing fails there. The front asks s3rver for a V1 (marker) listing instead and answers in V2
 * shape, with its own opaque continuation token (the last key returned, base64url).
 */
const TOKEN_PREFIX = 'gh1:';

function listV2AsV1(query: URLSearchParams): URLSearchParams {
  const upstream = new URLSearchParams();
  for (const [name, value] of query) {
    if (!['list-type', 'continuation-token', 'start-after', 'fetch-owner'].includes(name)) upstream.append(name, value);
  }
  const token = query.get('continuation-token');
  let marker = query.get('start-after') ?? undefined;
  if (token) {
    const decoded = Buffer.from(token, 'base64url').toString('utf8');
    if (!decoded.startsWith(TOKEN_PREFIX)) throw new S3Error('InvalidRequest', 'The continuation token provided is incorrect');
    marker = decoded.slice(TOKEN_PREFIX.length);
  }
  if (marker) upstream.set('marker', marker);
  return upstream;
}

function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|amp|apos|quot);/g, (_whole, name: string) => ({ lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' })[name] ?? '');
}

function v1ListingAsV2(xml: string, query: URLSearchParams): string {
  const keys = [...xml.matchAll(/<Contents>\s*<Key>([^<]*)<\/Key>/g)].map((match) => unescapeXml(match[1] ?? ''));
  const prefixes = [...xml.matchAll(/<CommonPrefixes>\s*<Prefix>([^<]*)<\/Prefix>/g)].map((match) => unescapeXml(match[1] ?? ''));
  const truncated = /<IsTruncated>true<\/IsTruncated>/.test(xml);
  const last = [...keys, ...prefixes].sort().at(-1);
  const token = query.get('continuation-token');
  const startAfter = query.get('start-after');
  const extra = `<KeyCount>${keys.length + prefixes.length}</KeyCount>`
    + (token ? `<ContinuationToken>${escapeXml(token)}</ContinuationToken>` : '')
    + (startAfter && !token ? `<StartAfter>${escapeXml(startAfter)}</StartAfter>` : '')
    + (truncated && last !== undefined ? `<NextContinuationToken>${Buffer.from(TOKEN_PREFIX + last).toString('base64url')}</NextContinuationToken>` : '');
  return xml
    .replace(/<Marker>[^<]*<\/Marker>/, '')
    .replace(/<NextMarker>[^<]*<\/NextMarker>/, '')
    .replace(/<Owner>\s*<ID>[^<]*<\/ID>\s*<DisplayName>[^<]*<\/DisplayName>\s*<\/Owner>/g, '')
    .replace(/(<ListBucketResult[^>]*>)/, `$1${extra}`);
}

/** What goes to s3rver for one request, with every name in it that s3rver turns into a file path. */
interface StorageRequest {
  readonly method: string;
  /** Percent-encoded from the decoded key, segment by segment: storage decodes exactly what was checked. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  readonly names: readonly StorageName[];
}

/** Query parameters that name keys (or key prefixes) in the bucket. */
const KEY_PARAMETERS = ['prefix', 'marker', 'start-after', 'key-marker'];

function storageRequestFor(method: string, action: string, target: Target, stored: string | undefined, listV2: boolean, body: Buffer, requestHeaders: IncomingHttpHeaders, rewritten: boolean): StorageRequest {
  const query = listV2 ? listV2AsV1(target.query) : target.query;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(requestHeaders)) {
    if (value !== undefined && FORWARDED_REQUEST_HEADERS.test(name)) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const names: StorageName[] = [];
  if (target.key !== undefined) names.push({ kind: 'key', field: 'The object key', value: target.key });
  for (const name of KEY_PARAMETERS) for (const value of query.getAll(name)) names.push({ kind: 'key', field: `The ${name} parameter`, value });
  for (const value of query.getAll('uploadId')) names.push({ kind: 'upload-id', field: 'uploadId', value });
  for (const value of query.getAll('partNumber')) names.push({ kind: 'part-number', field: 'partNumber', value });
  let forwardedBody = body;
  if (rewritten) {
    headers['content-md5'] = createHash('md5').update(body).digest('base64');
    headers['content-length'] = String(body.length);
  }
  if (action === 's3:DeleteObject' && target.key === undefined && query.has('delete')) {
    checkContentMd5(body, requestHeaders['content-md5']);
    const deletion = readDeleteObjects(body);
    for (const object of deletion.objects) names.push({ kind: 'key', field: 'A DeleteObjects key', value: object.key });
    forwardedBody = writeDeleteObjects(deletion);
    headers['content-md5'] = createHash('md5').update(forwardedBody).digest('base64');
    headers['content-length'] = String(forwardedBody.length);
  }
  const keyPath = target.key === undefined ? '' : `/${target.key.split('/').map(encodeRfc3986).join('/')}`;
  return { method, path: `/${stored ?? ''}${keyPath}`, query, headers, body: forwardedBody, names };
}

/** S3 checks a sent Content-MD5 against the body; the front does too, since it rewrites the body it forwards. */
function checkContentMd5(body: Buffer, header: string | string[] | undefined): void {
  if (header === undefined) return;
  const sent = Array.isArray(header) ? header.join(',') : header;
  if (Buffer.from(sent, 'base64').length !== 16) throw new S3Error('InvalidDigest', 'The Content-MD5 you specified is not a base64 MD5 digest');
  if (createHash('md5').update(body).digest('base64') !== sent) throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received');
}
