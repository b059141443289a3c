import { AgentCoreError, type AgentCoreErrorCode } from '@gatehouse/core';

/** The names of core's one AgentCore table that AgentCore Identity's data plane answers with. */
export type AgentCoreIdentityErrorCode = Exclude<AgentCoreErrorCode, 'ServiceQuotaExceededException' | 'ConflictException' | 'RuntimeClientError'>;

/**
 * An AgentCore Identity error (`GetWorkloadAccessToken*`, restJson1 as core's `AgentCoreError`), which the AWS SDK
 * turns into the named exception. Every message is written for the caller.
 */
export class AgentCoreIdentityError extends AgentCoreError<AgentCoreIdentityErrorCode, 'FieldValidationFailed'> {
  constructor(code: AgentCoreIdentityErrorCode, message: string, fieldList?: readonly { name: string; message: string }[]) {
    super(code, message, fieldList ? { reason: 'FieldValidationFailed', fieldList } : {}, { expose: true });
    this.name = 'AgentCoreIdentityError';
  }
}

export function fieldError(field: string, message: string): AgentCoreIdentityError {
  return new AgentCoreIdentityError('ValidationException', `${field}: ${message}`, [{ name: field, message }]);
}
