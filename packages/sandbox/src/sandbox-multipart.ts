import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from './s3-error.ts';
import { refuseUnsafeStorageNames } from './storage-names.ts';
import { listPartsXml, listUploadsXml, readCompleteMultipartUpload, writeCompleteMultipartUpload } from './multipart-xml.ts';
import type { MultipartUpload, MultipartUploadStore } from './multipart-upload-store.ts';

export type MultipartStep = 'create' | 'upload-part' | 'complete' | 'abort' | 'list-parts' | 'list-uploads';

/** One multipart request, once SigV4 and the role have allowed it. */
export interface MultipartRequest {
  readonly step: MultipartStep;
  readonly accountId: string;
  readonly callerArn: string;
  /** The bucket as the caller names it, and as s3rver stores it. */
  readonly bucket: string;
  readonly storedBucket: string;
  /** The decoded object key ('' for ListMultipartUploads). */
  readonly key: string;
  readonly query: URLSearchParams;
  readonly body: Buffer;
}

/** What the front does with it: answer itself (listings, abort), or forward, perhaps with a rewritten body. */
export type MultipartPlan =
  | { readonly answer: string }
  | { readonly answer?: undefined; readonly upload: MultipartUpload | undefined; readonly body: Buffer | undefined };

/** What storage answered a forwarded multipart step: the status, headers and (for XML answers) the body. */
export interface StorageAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly xml?: string | undefined;
}

export interface SandboxMultipartOptions {
  readonly uploads: MultipartUploadStore;
  readonly discardUpload: (storedBucket: string, uploadId: string) => Promise<void>;
  readonly now: () => number;
}

/** Which step of a multipart upload a request is, if any. */
export function multipartStep(method: string, key: string | undefined, query: URLSearchParams): MultipartStep | undefined {
  if (key === undefined) return method === 'GET' && query.has('uploads') ? 'list-uploads' : undefined;
  if (method === 'POST' && query.has('uploads')) return 'create';
  if (!query.has('uploadId')) return undefined;
  if (method === 'PUT') return 'upload-part';
  if (method === 'POST') return 'complete';
  if (method === 'DELETE') return 'abort';
  if (method === 'GET') return 'list-parts';
  return undefined;
}

const UPLOAD_ID_IN_ANSWER = /<UploadId>([0-9a-f]{32})<\/UploadId>/;

/**
 * Multipart uploads over s3rver, which stores parts but lists nothing, cannot abort, and binds an upload id to
 * no owner: the sandbox keeps its own record, honours an upload id only for the account, bucket and key it was
 * started for, and answers ListMultipartUploads, ListParts and AbortMultipartUpload itself.
 */
export function createSandboxMultipart(options: SandboxMultipartOptions) {
  const { uploads } = options;

  function uploadNamed(request: MultipartRequest): MultipartUpload {
    const uploadId = request.query.get('uploadId') ?? '';
    refuseUnsafeStorageNames([{ kind: 'upload-id', field: 'uploadId', value: uploadId }]);
    const upload = uploads.find(uploadId, request.accountId, request.bucket, request.key);
    if (!upload) throw new S3Error('NoSuchUpload', 'The specified upload does not exist in this bucket for this key: it may have been completed or aborted; start a new one with CreateMultipartUpload');
    return upload;
  }

  /** Complete forwards a body written from the parts checked against the ETags UploadPart returned. */
  function completeBody(upload: MultipartUpload, body: Buffer): Buffer {
    const parts = readCompleteMultipartUpload(body);
    const uploaded = new Map(uploads.parts(upload.uploadId).map((part) => [part.partNumber, part.etag.replace(/"/g, '')]));
    for (const part of parts) {
      if (uploaded.get(part.partNumber) !== part.etag.replace(/"/g, '')) throw new S3Error('InvalidPart', `Part ${part.partNumber} was not uploaded to this upload, or its ETag does not match; list the parts with ListParts`);
    }
    return writeCompleteMultipartUpload(parts);
  }

  return {
    async plan(request: MultipartRequest): Promise<MultipartPlan> {
      switch (request.step) {
        case 'create':
          return { upload: undefined, body: undefined };
        case 'list-uploads': {
          const keys = ['prefix', 'key-marker'].flatMap((name) => request.query.getAll(name).map((value) => ({ kind: 'key' as const, field: `The ${name} parameter`, value })));
          refuseUnsafeStorageNames(keys);
          return { answer: listUploadsXml(request.bucket, uploads.list(request.accountId, request.bucket, request.query.get('prefix') ?? ''), request.query) };
        }
        case 'list-parts': {
          const upload = uploadNamed(request);
          return { answer: listPartsXml(upload, request.bucket, uploads.parts(upload.uploadId), request.query) };
        }
        case 'abort': {
          const upload = uploadNamed(request);
          uploads.finish(upload.uploadId);
          await options.discardUpload(request.storedBucket, upload.uploadId);
          return { answer: '' };
        }
        case 'upload-part':
          return { upload: uploadNamed(request), body: undefined };
        case 'complete': {
          const upload = uploadNamed(request);
          return { upload, body: completeBody(upload, request.body) };
        }
      }
    },

    /** Records what storage answered: a new upload id, a stored part's ETag, a completed upload. */
    record(request: MultipartRequest, plan: MultipartPlan, { status, headers, xml }: StorageAnswer): void {
      if (plan.answer !== undefined || status !== 200) return;
      if (request.step === 'create') {
        const uploadId = UPLOAD_ID_IN_ANSWER.exec(xml ?? '')?.[1];
        if (!uploadId) throw new Error('s3rver answered CreateMultipartUpload without an upload id');
        uploads.start({ uploadId, accountId: request.accountId, bucket: request.bucket, key: request.key, initiated: options.now(), initiator: request.callerArn });
      } else if (request.step === 'upload-part' && plan.upload && typeof headers.etag === 'string') {
        uploads.recordPart(plan.upload.uploadId, { partNumber: Number(request.query.get('partNumber')), etag: headers.etag, size: request.body.length, lastModified: options.now() });
      } else if (request.step === 'complete' && plan.upload && !(xml ?? '').includes('<Error>')) {
        uploads.finish(plan.upload.uploadId);
      }
    },
  };
}
