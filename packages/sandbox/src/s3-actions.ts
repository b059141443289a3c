import { S3Error } from './s3-error.ts';

const PREFIX = '/s3';
const PRESIGN_PARAMETER = /^X-Amz-(Algorithm|Credential|Date|Expires|SignedHeaders|Signature|Security-Token|Content-Sha256)$/;

export interface Target {
  readonly bucket: string | undefined;
  /** The object key, percent-decoded once (the one decoding: storage gets it re-encoded), or undefined. */
  readonly key: string | undefined;
  readonly query: URLSearchParams;
}

export function parseTarget(rawUrl: string): Target {
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
export function actionFor(method: string, target: Target): string {
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
