import { wireErrorOf, type WireErrorOptions, type WireResponse } from './wire-error.ts';

/**
 * The error names of the AgentCore restJson1 services (data plane, Identity, control plane) and their HTTP
 * statuses (REFERENCE §1.3; the control plane's SDK model declares the same). One table: each surface narrows
 * it to the names its SDK knows. A new name must be mapped here to compile.
 */
export const AGENTCORE_ERROR_STATUS = {
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
};

export type AgentCoreErrorCode = keyof typeof AGENTCORE_ERROR_STATUS;

export interface FieldProblem {
  readonly name: string;
  readonly message: string;
}

export interface AgentCoreErrorDetails<Reason extends string = string> {
  readonly reason?: Reason | undefined;
  readonly fieldList?: readonly FieldProblem[] | undefined;
  /** Extra response headers, e.g. `WWW-Authenticate` on a missing token. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

/**
 * An AgentCore restJson1 error: the type in `X-Amzn-ErrorType`, `{"message"}` in the body (plus `reason` and
 * `fieldList` for a validation error), which the AWS SDK and CLI turn into the named exception.
 */
export abstract class AgentCoreError<Code extends AgentCoreErrorCode, Reason extends string = string> extends wireErrorOf(AGENTCORE_ERROR_STATUS) {
  declare readonly code: Code;
  readonly reason: Reason | undefined;
  readonly fieldList: readonly FieldProblem[] | undefined;
  readonly #headers: Readonly<Record<string, string>> | undefined;

  constructor(code: Code, message: string, details: AgentCoreErrorDetails<Reason> = {}, options: WireErrorOptions = {}) {
    super(code, message, options);
    this.reason = details.reason;
    this.fieldList = details.fieldList;
    this.#headers = details.headers;
  }

  /** What the error was built with, so a copy can extend it (e.g. one more response header). */
  get details(): AgentCoreErrorDetails<Reason> {
    return { reason: this.reason, fieldList: this.fieldList, headers: this.#headers };
  }

  toResponse(): WireResponse {
    const body: Record<string, unknown> = { message: this.publicMessage() };
    if (this.reason) body.reason = this.reason;
    if (this.fieldList) body.fieldList = this.fieldList;
    return { status: this.status, headers: { 'content-type': 'application/json', 'x-amzn-errortype': this.code, ...this.#headers }, body: JSON.stringify(body) };
  }
}
