import { S3Error } from './s3-error.ts';
import { childList, childText, parseS3XmlBody } from './s3-xml-body.ts';
import { escapeXml } from './xml.ts';
import type { MultipartUpload, UploadedPart } from './multipart-upload-store.ts';

const NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';

export interface CompletedPart {
  readonly partNumber: number;
  readonly etag: string;
}

/** Reads a CompleteMultipartUpload body: part numbers ascending, each with the ETag UploadPart answered. */
export function readCompleteMultipartUpload(body: Buffer): CompletedPart[] {
  const element = parseS3XmlBody(body, 'CompleteMultipartUpload');
  const parts = childList(element, 'Part').map((part) => {
    const number = childText(part, 'PartNumber') ?? '';
    const etag = childText(part, 'ETag');
    if (!/^[1-9][0-9]{0,4}$/.test(number) || Number(number) > 10_000 || etag === undefined) {
      throw new S3Error('MalformedXML', 'Each <Part> of CompleteMultipartUpload needs a <PartNumber> from 1 to 10000 and the <ETag> UploadPart returned');
    }
    return { partNumber: Number(number), etag };
  });
  if (parts.length === 0) throw new S3Error('MalformedXML', 'CompleteMultipartUpload needs at least one <Part>');
  for (let index = 1; index < parts.length; index++) {
    if (parts[index]!.partNumber <= parts[index - 1]!.partNumber) throw new S3Error('InvalidPartOrder', 'The list of parts was not in ascending order; parts must be ordered by part number');
  }
  return parts;
}

/** The body storage receives: written from the checked parts, not the client's text. */
export function writeCompleteMultipartUpload(parts: readonly CompletedPart[]): Buffer {
  const body = parts.map((part) => `<Part><PartNumber>${part.partNumber}</PartNumber><ETag>${escapeXml(part.etag)}</ETag></Part>`).join('');
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUpload>${body}</CompleteMultipartUpload>`, 'utf8');
}

function owner(arn: string): string {
  return `<ID>${escapeXml(arn)}</ID><DisplayName>${escapeXml(arn.split('/').at(-1) ?? arn)}</DisplayName>`;
}

/** ListParts, from the sandbox's record (`part-number-marker` and `max-parts` honoured). */
export function listPartsXml(upload: MultipartUpload, bucket: string, parts: readonly UploadedPart[], query: URLSearchParams): string {
  const marker = Number(query.get('part-number-marker') ?? '0') || 0;
  const max = Math.min(Math.max(Number(query.get('max-parts') ?? '1000') || 1000, 1), 1000);
  const after = parts.filter((part) => part.partNumber > marker);
  const page = after.slice(0, max);
  const truncated = after.length > page.length;
  const items = page.map((part) => `<Part><PartNumber>${part.partNumber}</PartNumber><LastModified>${new Date(part.lastModified).toISOString()}</LastModified><ETag>${escapeXml(part.etag)}</ETag><Size>${part.size}</Size></Part>`).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<ListPartsResult xmlns="${NAMESPACE}"><Bucket>${escapeXml(bucket)}</Bucket><Key>${escapeXml(upload.key)}</Key><UploadId>${upload.uploadId}</UploadId>`
    + `<Initiator>${owner(upload.initiator)}</Initiator><Owner>${owner(upload.initiator)}</Owner><StorageClass>STANDARD</StorageClass>`
    + `<PartNumberMarker>${marker}</PartNumberMarker><NextPartNumberMarker>${page.at(-1)?.partNumber ?? marker}</NextPartNumberMarker><MaxParts>${max}</MaxParts><IsTruncated>${truncated}</IsTruncated>${items}</ListPartsResult>`;
}

/** ListMultipartUploads, from the sandbox's record (`prefix`, `key-marker` and `max-uploads` honoured). */
export function listUploadsXml(bucket: string, uploads: readonly MultipartUpload[], query: URLSearchParams): string {
  const keyMarker = query.get('key-marker') ?? '';
  const max = Math.min(Math.max(Number(query.get('max-uploads') ?? '1000') || 1000, 1), 1000);
  const after = uploads.filter((upload) => upload.key > keyMarker);
  const page = after.slice(0, max);
  const truncated = after.length > page.length;
  const items = page.map((upload) => `<Upload><Key>${escapeXml(upload.key)}</Key><UploadId>${upload.uploadId}</UploadId><Initiator>${owner(upload.initiator)}</Initiator><Owner>${owner(upload.initiator)}</Owner><StorageClass>STANDARD</StorageClass><Initiated>${new Date(upload.initiated).toISOString()}</Initiated></Upload>`).join('');
  const last = page.at(-1);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult xmlns="${NAMESPACE}"><Bucket>${escapeXml(bucket)}</Bucket><KeyMarker>${escapeXml(keyMarker)}</KeyMarker><UploadIdMarker></UploadIdMarker>`
    + `${truncated && last ? `<NextKeyMarker>${escapeXml(last.key)}</NextKeyMarker><NextUploadIdMarker>${last.uploadId}</NextUploadIdMarker>` : ''}<Prefix>${escapeXml(query.get('prefix') ?? '')}</Prefix><MaxUploads>${max}</MaxUploads><IsTruncated>${truncated}</IsTruncated>${items}</ListMultipartUploadsResult>`;
}
