import { randomBytes } from 'node:crypto';
import { WireError, type WireResponse } from '@gatehouse/core';
import { escapeXml } from './xml.ts';

export type S3ErrorCode =
  | 'AccessDenied'
  | 'InvalidAccessKeyId'
  | 'SignatureDoesNotMatch'
  | 'RequestTimeTooSkewed'
  | 'ExpiredToken'
  | 'InvalidToken'
  | 'XAmzContentSHA256Mismatch'
  | 'InvalidBucketName'
  | 'InvalidRequest'
  | 'InvalidArgument'
  | 'MalformedXML'
  | 'BadDigest'
  | 'InvalidDigest'
  | 'NoSuchUpload'
  | 'InvalidPartOrder'
  | 'InvalidPart'
  | 'EntityTooLarge'
  | 'NotImplemented'
  | 'ServiceUnavailable'
  | 'InternalError';

const STATUS: Record<S3ErrorCode, number> = {
  AccessDenied: 403,
  InvalidAccessKeyId: 403,
  SignatureDoesNotMatch: 403,
  RequestTimeTooSkewed: 403,
  ExpiredToken: 400,
  InvalidToken: 400,
  XAmzContentSHA256Mismatch: 400,
  InvalidBucketName: 400,
  InvalidRequest: 400,
  InvalidArgument: 400,
  MalformedXML: 400,
  BadDigest: 400,
  InvalidDigest: 400,
  NoSuchUpload: 404,
  InvalidPartOrder: 400,
  InvalidPart: 400,
  EntityTooLarge: 400,
  NotImplemented: 501,
  ServiceUnavailable: 503,
  InternalError: 500,
};

/** An S3 `<Error>` document, as S3 sends it, so the AWS SDK raises the named exception. */
export class S3Error extends WireError<S3ErrorCode> {
  readonly resource: string | undefined;
  constructor(code: S3ErrorCode, message: string, resource?: string) {
    super(code, STATUS[code], message);
    this.resource = resource;
  }
  toResponse(): WireResponse {
    const message = this.publicMessage('We encountered an internal error. Please try again.');
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    const resource = this.resource ? `<Resource>${escapeXml(this.resource)}</Resource>` : '';
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${this.code}</Code><Message>${escapeXml(message)}</Message>${resource}<RequestId>${requestId}</RequestId><HostId>${randomBytes(24).toString('base64')}</HostId></Error>`;
    return { status: this.status, headers: { 'content-type': 'application/xml', 'x-amz-request-id': requestId }, body };
  }
}
