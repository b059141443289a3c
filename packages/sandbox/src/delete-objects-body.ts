import { S3Error } from './s3-error.ts';
import { childList, childText, parseS3XmlBody } from './s3-xml-body.ts';
import { escapeXml } from './xml.ts';

export interface DeleteObjectsRequest {
  readonly quiet: boolean;
  readonly objects: readonly { readonly key: string; readonly versionId?: string | undefined }[];
}

/** S3's own limit on one DeleteObjects request. */
const MAX_OBJECTS = 1000;

/** Reads a DeleteObjects body into its decoded keys (S3 answers `MalformedXML` for a body it cannot read). */
export function readDeleteObjects(body: Buffer): DeleteObjectsRequest {
  const element = parseS3XmlBody(body, 'Delete');
  const objects = childList(element, 'Object').map((object) => {
    const key = childText(object, 'Key');
    if (key === undefined || key === '') throw new S3Error('MalformedXML', 'Each <Object> of a DeleteObjects request needs a non-empty <Key>');
    return { key, versionId: childText(object, 'VersionId') };
  });
  if (objects.length === 0) throw new S3Error('MalformedXML', 'A DeleteObjects request needs at least one <Object><Key>');
  if (objects.length > MAX_OBJECTS) throw new S3Error('MalformedXML', `A DeleteObjects request names at most ${MAX_OBJECTS} objects (got ${objects.length})`);
  return { quiet: childText(element, 'Quiet') === 'true', objects };
}

/**
 * The body forwarded to storage, written from the checked request rather than passed through: storage then reads
 * the very keys the front checked, whatever its own XML parser would have made of the client's text.
 */
export function writeDeleteObjects(request: DeleteObjectsRequest): Buffer {
  const objects = request.objects
    .map((object) => `<Object><Key>${escapeXml(object.key)}</Key>${object.versionId === undefined ? '' : `<VersionId>${escapeXml(object.versionId)}</VersionId>`}</Object>`)
    .join('');
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n<Delete>${request.quiet ? '<Quiet>true</Quiet>' : ''}${objects}</Delete>`, 'utf8');
}
