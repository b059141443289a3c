import { request as httpRequest, Agent, type IncomingMessage, type ServerResponse, type IncomingHttpHeaders } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import { readBodyFor, type FailureTable, type Logger } from '@gatehouse/core';
import { S3Error, type S3ErrorCode } from './s3-error.ts';
import { createSandboxSigV4 } from './sandbox-sigv4.ts';
import { actionFor, parseTarget, type Target } from './s3-actions.ts';
import { onlyAccountBuckets, storedBucketName } from './s3-bucket-namespace.ts';
import { listV2AsV1, v1ListingAsV2 } from './s3-listing.ts';
import { readDeleteObjects, writeDeleteObjects } from './delete-objects-body.ts';
import { refuseUnsafeStorageNames, type StorageName } from './storage-names.ts';
import { createSandboxMultipart, multipartStep, type MultipartRequest } from './sandbox-multipart.ts';
import type { MultipartUploadStore } from './multipart-upload-store.ts';
import { assumedRoleArn } from './sts-request.ts';
import { READ_ONLY_ROLE } from '@gatehouse/tools';
import { roleAllowsS3, type RoleKind } from './sandbox-roles.ts';
import { SANDBOX_ACCOUNTS } from './sandbox-accounts.ts';
import type { SandboxCredentialStore } from './sandbox-credential-store.ts';
import type { SigV4Key } from './sandbox-key.ts';

export { storedBucketName } from './s3-bucket-namespace.ts';

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

const MAX_BODY = 16 * 1024 * 1024;
const FORWARDED_REQUEST_HEADERS = /^(content-type|content-md5|content-length|cache-control|content-disposition|content-encoding|content-language|expires|range|if-match|if-none-match|if-modified-since|if-unmodified-since|x-amz-meta-.*|x-amz-tagging|x-amz-storage-class)$/;
/** The S3 surface's answers to internal failures. */
const S3_FAILURES: FailureTable<S3Error> = {
  bodyTooLarge: () => new S3Error('EntityTooLarge', `The sandbox accepts bodies up to ${MAX_BODY} bytes`),
};
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'date', 'server']);
interface Caller {
  readonly accessKeyId: string;
  readonly accountId: string;
  readonly kind: RoleKind | 'admin';
  readonly arn: string;
}

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

  const sigv4 = createSandboxSigV4({ service: 's3', store: options.store, lookupAccessKey: options.lookupAccessKey, now: options.now, sessionArn: assumedRoleArn });

  /** The account and role a verified request acts in: a session's own, or the central account for an admin key. */
  async function authenticate(request: IncomingMessage, body: Buffer): Promise<Caller> {
    const caller = await sigv4.authenticate(request, body);
    if (caller.kind === 'temporary') {
      const { credential } = caller;
      return { accessKeyId: caller.accessKeyId, accountId: credential.accountId, kind: credential.roleKind, arn: assumedRoleArn(credential) };
    }
    return { accessKeyId: caller.accessKeyId, accountId: options.centralAccountId, kind: 'admin', arn: caller.key.principal.arn };
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
      const body = await readBodyFor(request, MAX_BODY, S3_FAILURES);
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
      const upstream = storageRequestFor({ method, action, target, stored, listV2, body: rewrittenBody ?? body, requestHeaders: request.headers, rewritten: rewrittenBody !== undefined });
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

function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
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

/** One verified request, as `storageRequestFor` turns it into what goes to s3rver. */
interface ForwardedRequest {
  readonly method: string;
  readonly action: string;
  readonly target: Target;
  /** The bucket's name in storage (`{accountId}-{bucket}`), if the request names a bucket. */
  readonly stored: string | undefined;
  /** A ListObjectsV2 request, asked of s3rver as V1. */
  readonly listV2: boolean;
  readonly body: Buffer;
  readonly requestHeaders: IncomingHttpHeaders;
  /** The front wrote the body itself (multipart completion), so its MD5 and length are recomputed. */
  readonly rewritten: boolean;
}

function storageRequestFor(forwarded: ForwardedRequest): StorageRequest {
  const { method, action, target, stored, listV2, body, requestHeaders, rewritten } = forwarded;
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
