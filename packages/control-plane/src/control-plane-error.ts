import { AgentCoreError, type AgentCoreErrorCode, type FieldProblem } from '@gatehouse/core';

/** The names of core's one AgentCore table that `bedrock-agentcore-control`'s SDK model declares. */
export type ControlPlaneErrorCode = Exclude<AgentCoreErrorCode, 'RuntimeClientError' | 'ServiceUnavailableException'>;

export type ValidationReason = 'CannotParse' | 'FieldValidationFailed';

export type { FieldProblem };

/**
 * A control-plane error in restJson1 (core's `AgentCoreError`), which the AWS SDK and CLI turn into the named
 * exception. An InternalServerException is not exposed: its message is logged and the caller reads "Internal error".
 */
export class ControlPlaneError extends AgentCoreError<ControlPlaneErrorCode, ValidationReason> {
  constructor(code: ControlPlaneErrorCode, message: string, details: { reason?: ValidationReason; fieldList?: readonly FieldProblem[] } = {}) {
    super(code, message, details, { expose: code !== 'InternalServerException' });
    this.name = 'ControlPlaneError';
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
