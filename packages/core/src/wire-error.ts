/**
 * Base of every error that reaches a client. Each surface (AgentCore, Cognito, OAuth, MCP, STS)
 * subclasses it with its own code table; the surface's error handler calls `toResponse()`.
 * `expose` follows oidc-provider/fastify: only client errors carry their message out.
 */
export interface WireResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export abstract class WireError extends Error {
  abstract readonly status: number;
  /** Stable machine-readable name, e.g. `ValidationException`, `invalid_grant`. */
  abstract readonly code: string;
  get expose(): boolean {
    return this.status < 500;
  }
  abstract toResponse(): WireResponse;
}

/** True for any error carrying a wire form. */
export function isWireError(error: unknown): error is WireError {
  return error instanceof WireError;
}
