/** Codes a tool call can fail with; each becomes an MCP tool error (isError result) at the gateway. */
export type ToolErrorCode =
  | 'NoUserCredentials'
  | 'UnknownAccount'
  | 'InvalidArguments'
  | 'OperationNotAllowed'
  | 'UnknownTool'
  | 'ServiceNotAvailable'
  | 'AccessDenied'
  | 'AwsError';

/**
 * A failure the calling user (or agent) can act on. Lambda-shaped tools throw it; the gateway
 * reports `message` as the tool's error text. Never carries credentials.
 */
export class ToolError extends Error {
  readonly code: ToolErrorCode;
  constructor(code: ToolErrorCode, message: string) {
    super(message);
    this.name = code;
    this.code = code;
  }
}

export const NO_USER_CREDENTIALS_MESSAGE = 'no user credentials: the gateway did not derive credentials for this call';
