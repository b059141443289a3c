import { S3Error } from './s3-error.ts';

/**
 * A name that becomes part of a file path in s3rver's store: object keys and key prefixes/markers are joined
 * segment by segment under the bucket's directory; upload ids and part numbers are joined under it as they are.
 */
export type StorageName =
  | { readonly kind: 'key'; readonly field: string; readonly value: string }
  | { readonly kind: 'upload-id'; readonly field: string; readonly value: string }
  | { readonly kind: 'part-number'; readonly field: string; readonly value: string };

/** s3rver's upload ids (16 random bytes, hex); nothing else names an upload. */
const UPLOAD_ID = /^[0-9a-f]{32}$/;
const PART_NUMBER = /^[1-9][0-9]{0,4}$/;

function unsafeKey(key: string): boolean {
  return key.split('/').some((segment) => segment === '.' || segment === '..') || key.includes('\\') || key.includes('\0');
}

/**
 * Refuses the request when any name it would hand to storage could leave the bucket's directory: s3rver does
 * `path.join(root, bucket, ...segments)`, so a `.`/`..` segment (however it was encoded on the wire: percent
 * escapes, XML character references, CDATA) or an upload id like `../../other-bucket` would reach another
 * account's bucket. Called with the decoded names on the one path that forwards to storage, so no operation
 * can skip it.
 */
export function refuseUnsafeStorageNames(names: readonly StorageName[]): void {
  for (const name of names) {
    if (name.kind === 'key' && unsafeKey(name.value)) {
      throw new S3Error('InvalidRequest', `${name.field} must not contain "." or ".." path segments, backslashes or NUL characters in the sandbox (its store maps keys to file paths)`);
    }
    if (name.kind === 'upload-id' && !UPLOAD_ID.test(name.value)) {
      throw new S3Error('NoSuchUpload', `${name.field} is not an upload id this sandbox issued; start the upload with CreateMultipartUpload`);
    }
    if (name.kind === 'part-number' && (!PART_NUMBER.test(name.value) || Number(name.value) > 10_000)) {
      throw new S3Error('InvalidArgument', `${name.field} must be an integer from 1 to 10000`);
    }
  }
}
