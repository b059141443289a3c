import { request as httpRequest, Agent, type IncomingMessage, type IncomingHttpHeaders } from 'node:http';
import { createHash } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import { S3Error } from './s3-error.ts';
import { listV2AsV1 } from './s3-listing.ts';
import { readDeleteObjects, writeDeleteObjects } from './delete-objects-body.ts';
import { refuseUnsafeStorageNames, type StorageName } from './storage-names.ts';
import type { Target } from './s3-actions.ts';

const FORWARDED_REQUEST_HEADERS = /^(content-type|content-md5|content-length|cache-control|content-disposition|content-encoding|content-language|expires|range|if-match|if-none-match|if-modified-since|if-unmodified-since|x-amz-meta-.*|x-amz-tagging|x-amz-storage-class)$/;

/** What goes to s3rver for one request, with every name in it that s3rver turns into a file path. */
export interface StorageRequest {
  readonly method: string;
  /** Percent-encoded from the decoded key, segment by segment: storage decodes exactly what was checked. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  readonly names: readonly StorageName[];
}

/**
 * The one way to storage (s3rver on a loopback port): every name the request hands to s3rver is checked here,
 * decoded, before the request is signed with s3rver's fixed key and sent. Nothing reaches storage around it.
 */
export class S3Storage {
  readonly #port: number;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 32 });
  readonly #signer = new SignatureV4({
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    region: 'us-east-1',
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });

  constructor(port: number) {
    this.#port = port;
  }

  /** `sending` runs once the request is checked and signed, just before it goes (the front observes it there). */
  async send(upstream: StorageRequest, sending: () => void): Promise<IncomingMessage> {
    refuseUnsafeStorageNames(upstream.names);
    const headers: Record<string, string> = { ...upstream.headers, host: `127.0.0.1:${this.#port}` };
    headers['x-amz-content-sha256'] = createHash('sha256').update(upstream.body).digest('hex');
    const query: Record<string, string | string[]> = {};
    for (const [name, value] of upstream.query) {
      const existing = query[name];
      query[name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
    }
    const signed = await this.#signer.sign({ method: upstream.method, protocol: 'http:', hostname: '127.0.0.1', port: this.#port, path: upstream.path, query, headers, body: upstream.body });
    const queryText = [...upstream.query].map(([name, value]) => `${encodeRfc3986(name)}=${encodeRfc3986(value)}`).join('&');
    sending();
    return new Promise((resolve, reject) => {
      const request = httpRequest({ host: '127.0.0.1', port: this.#port, method: upstream.method, path: `${upstream.path}${queryText ? `?${queryText}` : ''}`, headers: signed.headers, agent: this.#agent }, resolve);
      request.on('error', reject);
      request.end(upstream.body);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Query parameters that name keys (or key prefixes) in the bucket. */
const KEY_PARAMETERS = ['prefix', 'marker', 'start-after', 'key-marker'];

/** One verified request, as `storageRequestFor` turns it into what goes to s3rver. */
export interface ForwardedRequest {
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

export function storageRequestFor(forwarded: ForwardedRequest): StorageRequest {
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
export function checkContentMd5(body: Buffer, header: string | string[] | undefined): void {
  if (header === undefined) return;
  const sent = Array.isArray(header) ? header.join(',') : header;
  if (Buffer.from(sent, 'base64').length !== 16) throw new S3Error('InvalidDigest', 'The Content-MD5 you specified is not a base64 MD5 digest');
  if (createHash('md5').update(body).digest('base64') !== sent) throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received');
}
