import { WireError, type WireResponse } from '@gatehouse/core';

/** HTTP-level refusals of the MCP endpoint (before any JSON-RPC message is handled). */
export type GatewayErrorCode =
  | 'Unauthorized'
  | 'InsufficientScope'
  | 'Forbidden'
  | 'OriginNotAllowed'
  | 'SessionRequired'
  | 'SessionNotFound'
  | 'MethodNotAllowed'
  | 'RequestTooLarge'
  | 'RateLimited'
  | 'MalformedRequest'
  | 'UnsupportedProtocolVersion'
  | 'StoreUnavailable'
  | 'IssuerUnavailable'
  | 'InternalError';

/** Status per code; a new code that is not mapped does not compile. */
const statusByCode: Record<GatewayErrorCode, number> = {
  Unauthorized: 401,
  InsufficientScope: 403,
  Forbidden: 403,
  OriginNotAllowed: 403,
  SessionRequired: 400,
  SessionNotFound: 404,
  MethodNotAllowed: 405,
  RequestTooLarge: 413,
  RateLimited: 429,
  MalformedRequest: 400,
  UnsupportedProtocolVersion: 400,
  StoreUnavailable: 503,
  IssuerUnavailable: 503,
  InternalError: 500,
};

/** JSON-RPC error codes used in the body (MCP SDK clients surface these as `McpError`). */
const rpcCodeByCode: Record<GatewayErrorCode, number> = {
  Unauthorized: -32001,
  InsufficientScope: -32001,
  Forbidden: -32001,
  OriginNotAllowed: -32000,
  SessionRequired: -32000,
  SessionNotFound: -32001,
  MethodNotAllowed: -32000,
  RequestTooLarge: -32600,
  RateLimited: -32000,
  MalformedRequest: -32700,
  UnsupportedProtocolVersion: -32000,
  StoreUnavailable: -32603,
  IssuerUnavailable: -32603,
  InternalError: -32603,
};

/**
 * A refusal with its wire form: HTTP status, a JSON-RPC error body (what MCP clients parse) and,
 * for auth failures, the RFC 6750 / RFC 9728 `WWW-Authenticate` challenge.
 */
export class GatewayError extends WireError<GatewayErrorCode> {
  readonly challenge: string | undefined;
  readonly extraHeaders: Readonly<Record<string, string>>;

  constructor(code: GatewayErrorCode, message: string, options: { challenge?: string; headers?: Record<string, string> } = {}) {
    super(code, statusByCode[code], message);
    this.name = 'GatewayError';
    this.challenge = options.challenge;
    this.extraHeaders = options.headers ?? {};
  }

  toResponse(): WireResponse {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...this.extraHeaders };
    if (this.challenge) headers['www-authenticate'] = this.challenge;
    const message = this.publicMessage();
    return { status: this.status, headers, body: JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: rpcCodeByCode[this.code], message } }) };
  }
}

/** Failures of one tool call; they become MCP tool results with `isError` (or JSON-RPC errors for the first two). */
export type ToolErrorCode =
  | 'ToolNotFound'
  | 'PolicyDenied'
  | 'CredentialsUnavailable'
  | 'ConsentRequired'
  | 'TargetTimeout'
  | 'TargetBusy'
  | 'TargetFailed'
  | 'InvalidArguments';

/** JSON-RPC error code when the failure is a protocol error rather than a tool result. */
export const toolRpcCode: Record<ToolErrorCode, number> = {
  ToolNotFound: -32602,
  PolicyDenied: -32003,
  CredentialsUnavailable: -32004,
  // MCP 2025-11-25 URLElicitationRequiredError
  ConsentRequired: -32042,
  TargetTimeout: -32005,
  TargetBusy: -32006,
  TargetFailed: -32007,
  InvalidArguments: -32602,
};

export class ToolCallError extends Error {
  readonly code: ToolErrorCode;
  constructor(code: ToolErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ToolCallError';
    this.code = code;
  }
}
