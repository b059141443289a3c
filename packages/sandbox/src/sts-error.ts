import { randomUUID } from 'node:crypto';
import { WireError, type WireResponse } from '@gatehouse/core';
import { escapeXml } from './xml.ts';

/** STS error codes (the `<Code>` the AWS SDK maps to its exception classes) with their statuses. */
export type StsErrorCode =
  | 'AccessDenied'
  | 'InvalidIdentityToken'
  | 'ExpiredTokenException'
  | 'ValidationError'
  | 'MalformedPolicyDocument'
  | 'InvalidClientTokenId'
  | 'SignatureDoesNotMatch'
  | 'IncompleteSignature'
  | 'MissingAuthenticationToken'
  | 'RequestExpired'
  | 'InvalidAction'
  | 'InternalFailure';

const STATUS: Record<StsErrorCode, number> = {
  AccessDenied: 403,
  InvalidIdentityToken: 400,
  ExpiredTokenException: 400,
  ValidationError: 400,
  MalformedPolicyDocument: 400,
  InvalidClientTokenId: 403,
  SignatureDoesNotMatch: 403,
  IncompleteSignature: 400,
  MissingAuthenticationToken: 403,
  RequestExpired: 400,
  InvalidAction: 400,
  InternalFailure: 500,
};

/** An STS `<ErrorResponse>`, shaped so `@aws-sdk/client-sts` parses it into the matching exception class. */
export class StsError extends WireError<StsErrorCode> {
  constructor(code: StsErrorCode, message: string) {
    super(code, STATUS[code], message);
  }
  toResponse(requestId: string = randomUUID()): WireResponse {
    const type = this.status >= 500 ? 'Receiver' : 'Sender';
    const message = this.publicMessage('An internal error occurred');
    const body = `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n  <Error>\n    <Type>${type}</Type>\n    <Code>${this.code}</Code>\n    <Message>${escapeXml(message)}</Message>\n  </Error>\n  <RequestId>${requestId}</RequestId>\n</ErrorResponse>\n`;
    return { status: this.status, headers: { 'content-type': 'text/xml' }, body };
  }
}
