import { WireError, type WireResponse } from '@gatehouse/core';

/** AgentCore Identity data-plane error names and statuses (restJson1, as the runtime's). A new name must be mapped to compile. */
const statusByCode = {
  ValidationException: 400,
  UnauthorizedException: 401,
  AccessDeniedException: 403,
  ResourceNotFoundException: 404,
  ThrottlingException: 429,
  InternalServerException: 500,
  ServiceUnavailableException: 503,
} as const satisfies Record<string, number>;

export type AgentCoreIdentityErrorCode = keyof typeof statusByCode;

/**
 * An AgentCore Identity error (`GetWorkloadAccessToken*`): `X-Amzn-ErrorType` plus `{"message"}`,
 * which the AWS SDK turns into the named exception. `reason` says why for the runtime's own mapping.
 */
export class AgentCoreIdentityError extends WireError<AgentCoreIdentityErrorCode> {
  readonly fieldList: readonly { name: string; message: string }[] | undefined;

  constructor(code: AgentCoreIdentityErrorCode, message: string, fieldList?: readonly { name: string; message: string }[]) {
    super(code, statusByCode[code], message);
    this.name = 'AgentCoreIdentityError';
    this.fieldList = fieldList;
  }

  toResponse(): WireResponse {
    const body: Record<string, unknown> = { message: this.message };
    if (this.fieldList) {
      body.reason = 'FieldValidationFailed';
      body.fieldList = this.fieldList;
    }
    return { status: this.status, headers: { 'content-type': 'application/json', 'x-amzn-errortype': this.code }, body: JSON.stringify(body) };
  }
}

export function fieldError(field: string, message: string): AgentCoreIdentityError {
  return new AgentCoreIdentityError('ValidationException', `${field}: ${message}`, [{ name: field, message }]);
}
