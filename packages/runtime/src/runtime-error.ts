import { AgentCoreError, type AgentCoreErrorCode, type AgentCoreErrorDetails, type FieldProblem } from '@gatehouse/core';

/** The AgentCore data plane knows every name of core's one AgentCore table (REFERENCE §1.3). */
export type RuntimeErrorCode = AgentCoreErrorCode;

export type { FieldProblem };

export type RuntimeErrorDetails = AgentCoreErrorDetails<'CannotParse' | 'FieldValidationFailed' | 'IdempotentParameterMismatchException' | 'EventInOtherSession' | 'ResourceConflict'>;

/**
 * A data-plane error in the shape the AWS SDK's restJson1 deserializer understands (core's `AgentCoreError`).
 * Every message is written for the caller (faults included: "retry shortly", "the agent was not called").
 */
export class RuntimeError extends AgentCoreError<RuntimeErrorCode, NonNullable<RuntimeErrorDetails['reason']>> {
  constructor(code: RuntimeErrorCode, message: string, details: RuntimeErrorDetails = {}) {
    super(code, message, details, { expose: true });
    this.name = 'RuntimeError';
  }
}

export function validationError(field: string, message: string): RuntimeError {
  return new RuntimeError('ValidationException', message, { reason: 'FieldValidationFailed', fieldList: [{ name: field, message }] });
}
