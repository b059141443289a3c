import { WireError, type WireResponse } from '@gatehouse/core';

/** Error names and statuses of `bedrock-agentcore-control` as its SDK model declares them. A new name must be mapped to compile. */
const statusByCode = {
  ValidationException: 400,
  UnauthorizedException: 401,
  ServiceQuotaExceededException: 402,
  AccessDeniedException: 403,
  ResourceNotFoundException: 404,
  ConflictException: 409,
  ThrottlingException: 429,
  InternalServerException: 500,
} as const satisfies Record<string, number>;

export type ControlPlaneErrorCode = keyof typeof statusByCode;

export type ValidationReason = 'CannotParse' | 'FieldValidationFailed';

export interface FieldProblem {
  readonly name: string;
  readonly message: string;
}

/**
 * A control-plane error in restJson1: `X-Amzn-ErrorType` and `{"message"}` (plus `reason` and `fieldList`
 * for a ValidationException), which the AWS SDK and CLI turn into the named exception.
 */
export class ControlPlaneError extends WireError<ControlPlaneErrorCode> {
  readonly reason: ValidationReason | undefined;
  readonly fieldList: readonly FieldProblem[] | undefined;

  constructor(code: ControlPlaneErrorCode, message: string, details: { reason?: ValidationReason; fieldList?: readonly FieldProblem[] } = {}) {
    super(code, statusByCode[code], message, { expose: code !== 'InternalServerException' });
    this.name = 'ControlPlaneError';
    this.reason = details.reason;
    this.fieldList = details.fieldList;
  }

  toResponse(): WireResponse {
    const body: Record<string, unknown> = { message: this.message };
    if (this.reason) body.reason = this.reason;
    if (this.fieldList) body.fieldList = this.fieldList;
    return { status: this.status, headers: { 'content-type': 'application/json', 'x-amzn-errortype': this.code }, body: JSON.stringify(body) };
  }
}

/** A ValidationException naming the one field that is wrong and how to fix it. */
export function fieldError(field: string, message: string): ControlPlaneError {
  return new ControlPlaneError('ValidationException', `${field}: ${message}`, { reason: 'FieldValidationFailed', fieldList: [{ name: field, message }] });
}

export function notFound(what: string, id: string): ControlPlaneError {
  return new ControlPlaneError('ResourceNotFoundException', `${what} ${JSON.stringify(id.slice(0, 256))} not found`);
}

/**
 * Update or delete of a resource declared in gatehouse.yaml: the file is the source of truth for it, so the
 * change conflicts with the resource's state (managed by gatehouse.yaml) rather than being malformed.
 */
export function declaredInConfig(what: string, name: string, action: string): ControlPlaneError {
  return new ControlPlaneError('ConflictException', `Cannot ${action} ${what} ${name}: it is managed by gatehouse.yaml and is read-only through this API; change gatehouse.yaml and restart`);
}
