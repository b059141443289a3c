import { wireErrorOf, type WireResponse } from '@gatehouse/core/agent-support';

/** Stable codes of everything the agent reports to its caller; each maps to an HTTP status for the non-streaming path. */
export const agentErrorStatus = {
  BadRequest: 400,
  NoWorkloadToken: 401,
  GatewayUnauthorized: 502,
  GatewayUnreachable: 502,
  ToolNotFound: 502,
  ModelNoCredentials: 502,
  ModelExpiredCredentials: 502,
  ModelInvalidCredentials: 502,
  ModelMisconfigured: 502,
  ModelAccessDenied: 502,
  ModelNotFound: 502,
  ModelThrottled: 503,
  ModelContextTooLong: 400,
  ModelInvalidRequest: 400,
  ModelUnavailable: 502,
  AgentFailure: 500,
};

/**
 * An error the agent turns into an `error` event (and its log). `fix` says what a person should do;
 * the message never carries a token or a stack trace.
 */
export class AgentError extends wireErrorOf(agentErrorStatus) {
  readonly fix: string | undefined;
  constructor(code: AgentErrorCode, message: string, fix?: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
    this.name = 'AgentError';
    this.fix = fix;
  }
  toEvent(): { type: 'error'; code: string; message: string; fix?: string } {
    return this.fix === undefined ? { type: 'error', code: this.code, message: this.message } : { type: 'error', code: this.code, message: this.message, fix: this.fix };
  }
  toResponse(): WireResponse {
    const body = JSON.stringify({ error: this.code, message: this.message, ...(this.fix === undefined ? {} : { fix: this.fix }) });
    return { status: this.status, headers: { 'content-type': 'application/json' }, body };
  }
}

export type AgentErrorCode = AgentError['code'];

export function isAgentError(error: unknown): error is AgentError {
  return error instanceof AgentError;
}
