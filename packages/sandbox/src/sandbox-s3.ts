import type { IncomingMessage, ServerResponse, IncomingHttpHeaders } from 'node:http';
import { randomBytes } from 'node:crypto';
import { readBodyFor, type FailureTable, type Logger } from '@gatehouse/core';
import { S3Error, type S3ErrorCode } from './s3-error.ts';
import { createSandboxSigV4 } from './sandbox-sigv4.ts';
import { actionFor, parseTarget, type Target } from './s3-actions.ts';
import { onlyAccountBuckets, storedBucketName } from './s3-bucket-namespace.ts';
import { v1ListingAsV2 } from './s3-listing.ts';
import { createSandboxMultipart, multipartStep, type MultipartPlan, type MultipartRequest } from './sandbox-multipart.ts';
import type { MultipartUploadStore } from './multipart-upload-store.ts';
import { assumedRoleArn } from './sts-request.ts';
import { READ_ONLY_ROLE } from '@gatehouse/tools';
import { roleAllowsS3, type RoleKind } from './sandbox-roles.ts';
import { SANDBOX_ACCOUNTS } from './sandbox-accounts.ts';
import type { SandboxCredentialStore } from './sandbox-credential-store.ts';
import type { SigV4Key } from './sandbox-key.ts';
import { checkContentMd5, S3Storage, storageRequestFor } from './s3-storage.ts';

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

/** What is known of a request so far: a refusal is logged and observed with it. */
interface Progress {
  readonly method: string;
  /** Without the query: a presigned URL carries its signature and session token there. */
  readonly path: string;
  action: string;
  caller: Caller | undefined;
}

/** A request that passed every check: verified, allowed, its bucket mapped into the caller's account. */
interface AdmittedCall {
  readonly method: string;
  readonly path: string;
  readonly action: string;
  readonly caller: Caller;
  readonly target: Target;
  readonly body: Buffer;
  /** The bucket's name in storage (`{accountId}-{bucket}`), if the request names a bucket. */
  readonly stored: string | undefined;
  readonly listV2: boolean;
  readonly multipart: MultipartRequest | undefined;
}

/**
 * The sandbox's S3 front at `{base}/s3` (path-style). Verifies SigV4 against sandbox sessions (and admin keys),
 * enforces the role's permissions, maps buckets into the caller's account namespace, re-signs for s3rver
 * with its fixed key and streams the answer back. A refused request is never forwarded.
 */
export function createSandboxS3(options: SandboxS3Options): { handle(request: IncomingMessage, response: ServerResponse): Promise<void>; close(): void } {
  const front = new SandboxS3Front(options);
  return {
    handle: (request, response) => front.handle(request, response),
    close: () => front.close(),
  };
}

/** One request, in order: admit (target → body → SigV4 → permission → bucket) → multipart plan → answer or forward. */
class SandboxS3Front {
  readonly #options: SandboxS3Options;
  readonly #storage: S3Storage;
  readonly #multipart: ReturnType<typeof createSandboxMultipart>;
  readonly #sigv4: ReturnType<typeof createSandboxSigV4>;

  constructor(options: SandboxS3Options) {
    this.#options = options;
    this.#storage = new S3Storage(options.upstreamPort);
    this.#multipart = createSandboxMultipart({ uploads: options.uploads, discardUpload: options.discardUpload, now: options.now });
    this.#sigv4 = createSandboxSigV4({ service: 's3', store: options.store, lookupAccessKey: options.lookupAccessKey, now: options.now, sessionArn: assumedRoleArn });
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const rawUrl = request.url ?? '/';
    const progress: Progress = { method: request.method ?? 'GET', path: rawUrl.split('?')[0] ?? rawUrl, action: 'unknown', caller: undefined };
    try {
      const call = await this.#admit(request, rawUrl, progress);
      if (call.multipart?.step === 'complete') checkContentMd5(call.body, request.headers['content-md5']);
      const plan = call.multipart ? await this.#multipart.plan(call.multipart) : undefined;
      if (plan?.answer !== undefined) this.#answer(call, plan.answer, response);
      else await this.#forward(call, { plan, requestHeaders: request.headers }, response);
    } catch (error) {
      this.#refuse(progress, error, response);
    }
  }

  close(): void {
    this.#storage.close();
  }

  async #admit(request: IncomingMessage, rawUrl: string, progress: Progress): Promise<AdmittedCall> {
    const { method, path } = progress;
    const target = parseTarget(rawUrl);
    const action = (progress.action = actionFor(method, target));
    const body = await readBodyFor(request, MAX_BODY, S3_FAILURES);
    if (/aws-chunked/.test(String(request.headers['content-encoding'] ?? '')) || String(request.headers['x-amz-content-sha256'] ?? '').startsWith('STREAMING-')) {
      throw new S3Error('NotImplemented', 'Streaming (aws-chunked) uploads are not supported by the sandbox; send the body with a known length');
    }
    const caller = (progress.caller = await this.#authenticate(request, body));
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
    const multipart: MultipartRequest | undefined = step && stored && target.bucket
      ? { step, accountId: caller.accountId, callerArn: caller.arn, bucket: target.bucket, storedBucket: stored, key: target.key ?? '', query: target.query, body }
      : undefined;
    return { method, path, action, caller, target, body, stored, listV2, multipart };
  }

  /** The account and role a verified request acts in: a session's own, or the central account for an admin key. */
  async #authenticate(request: IncomingMessage, body: Buffer): Promise<Caller> {
    const caller = await this.#sigv4.authenticate(request, body);
    if (caller.kind === 'temporary') {
      const { credential } = caller;
      return { accessKeyId: caller.accessKeyId, accountId: credential.accountId, kind: credential.roleKind, arn: assumedRoleArn(credential) };
    }
    return { accessKeyId: caller.accessKeyId, accountId: this.#options.centralAccountId, kind: 'admin', arn: caller.key.principal.arn };
  }

  /** Multipart listings and abort: the front answers itself, nothing goes to storage. */
  #answer(call: AdmittedCall, answer: string, response: ServerResponse): void {
    const { caller, method, path, action } = call;
    this.#options.observe({ accountId: caller.accountId, method, path, action, accessKeyId: caller.accessKeyId, outcome: 'answered' });
    const payload = Buffer.from(answer, 'utf8');
    response.writeHead(payload.length ? 200 : 204, { 'content-type': 'application/xml', 'content-length': String(payload.length), 'x-amz-request-id': randomBytes(8).toString('hex').toUpperCase() }).end(payload);
  }

  /** To storage and back: XML answers name the caller's buckets (not storage's), other answers are streamed through. */
  async #forward(call: AdmittedCall, extra: { plan: Exclude<MultipartPlan, { readonly answer: string }> | undefined; requestHeaders: IncomingHttpHeaders }, response: ServerResponse): Promise<void> {
    const { method, path, action, caller, target, stored, listV2 } = call;
    const { plan } = extra;
    const rewrittenBody = plan?.body;
    const upstream = storageRequestFor({ method, action, target, stored, listV2, body: rewrittenBody ?? call.body, requestHeaders: extra.requestHeaders, rewritten: rewrittenBody !== undefined });
    const answer = await this.#storage.send(upstream, () => this.#options.observe({ accountId: caller.accountId, method, path, action, accessKeyId: caller.accessKeyId, outcome: 'forwarded' }));
    const responseHeaders: IncomingHttpHeaders = {};
    for (const [name, value] of Object.entries(answer.headers)) if (!HOP_BY_HOP.has(name) && value !== undefined) responseHeaders[name] = value;
    const status = answer.statusCode ?? 502;
    const rewrite = action !== 's3:GetObject' && /xml/.test(String(answer.headers['content-type'] ?? '')) && method !== 'HEAD';
    if (!rewrite) {
      if (call.multipart && plan) this.#multipart.record(call.multipart, plan, { status, headers: answer.headers, xml: undefined });
      if (answer.headers['content-length'] !== undefined) responseHeaders['content-length'] = answer.headers['content-length'];
      response.writeHead(status, responseHeaders);
      answer.pipe(response);
      return;
    }
    let xml = (await readAll(answer, MAX_BODY)).toString('utf8');
    if (action === 's3:ListAllMyBuckets') xml = onlyAccountBuckets(xml, caller.accountId);
    else if (stored && target.bucket) xml = xml.split(stored).join(target.bucket);
    if (listV2 && status === 200) xml = v1ListingAsV2(xml, target.query);
    if (call.multipart && plan) this.#multipart.record(call.multipart, plan, { status, headers: answer.headers, xml });
    const payload = Buffer.from(xml, 'utf8');
    response.writeHead(status, { ...responseHeaders, 'content-length': String(payload.length) }).end(payload);
  }

  #refuse(progress: Progress, error: unknown, response: ServerResponse): void {
    const { method, path, action, caller } = progress;
    const s3Error = error instanceof S3Error ? error : new S3Error('InternalError', 'internal');
    if (!(error instanceof S3Error)) this.#options.logger.error({ err: error, action }, 'sandbox S3 failed');
    else this.#options.logger.warn({ action, method, path, code: s3Error.code, accountId: caller?.accountId, accessKeyId: caller?.accessKeyId, reason: s3Error.message }, 'sandbox S3 request refused');
    this.#options.observe({ accountId: caller?.accountId, method, path, action, accessKeyId: caller?.accessKeyId, outcome: s3Error.code });
    const wire = s3Error.toResponse();
    if (!response.headersSent) response.writeHead(wire.status, { ...wire.headers, 'content-length': String(Buffer.byteLength(wire.body)) }).end(method === 'HEAD' ? undefined : wire.body);
    else response.destroy();
  }
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
