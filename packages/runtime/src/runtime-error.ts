import { WireError, type WireResponse } from '@gatehouse/core';

/** AgentCore data-plane error names and their HTTP statuses (REFERENCE §1.3). A new name must be mapped here to compile. */
const statusByCode = {
  ValidationException: 400,
  UnauthorizedException: 401,
  ServiceQuotaExceededException: 402,
  AccessDeniedException: 403,
  ResourceNotFoundException: 404,
  ConflictException: 409,
  RuntimeClientError: 424,
  ThrottlingException: 429,
  InternalServerException: 500,
  ServiceUnavailableException: 503,
} as const satisfies Record<string, number>;

export type RuntimeErrorCode = keyof typeof statusByCode;

export interface FieldProblem {
  readonly name: string;
  readonly message: string;
}

export interface RuntimeErrorDetails {
  readonly reason?: 'CannotParse' | 'FieldValidationFailed' | 'IdempotentParameterMismatchException' | 'EventInOtherSession' | 'ResourceConflict';
  readonly fieldList?: readonly FieldProblem[];
  /** Extra response headers, e.g. `WWW-Authenticate` on a missing token. */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * An error in the shape the AWS SDK's restJson1 deserializer understands: the type in
 * `X-Amzn-ErrorType`, `{"message": …}` in the body (plus `reason`/`fieldList` for validation).
 */
export class RuntimeError extends WireError<RuntimeErrorCode> {
  readonly details: RuntimeErrorDetails;

  constructor(code: RuntimeErrorCode, message: string, details: RuntimeErrorDetails = {}) {
    super(code, statusByCode[code], message);
    this.name = 'RuntimeError';
    this.details = details;
  }

  toResponse(): WireResponse {
    const body: Record<string, unknown> = { message: this.message };
    if (this.details.reason) body.reason = this.details.reason;
    if (this.details.fieldList) body.fieldList = this.details.fieldList;
    return {
      status: this.status,
      headers: { 'content-type': 'application/json', 'x-amzn-errortype': this.code, ...this.details.headers },
      body: JSON.stringify(body),
    };
  }
}

export function validationError(field: string, message: string): RuntimeError {
  return new RuntimeError('ValidationException', message, { reason: 'FieldValidationFailed', fieldList: [{ name: field, message }] });
}
