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

export interface WireErrorOptions {
  readonly cause?: unknown;
  /** Send a fault's (5xx) message too: only for messages written for the caller, never for a caught exception's. */
  readonly expose?: boolean;
}

export abstract class WireError<Code extends string = string> extends Error {
  /** Stable machine-readable name, e.g. `ValidationException`, `invalid_grant`. */
  readonly code: Code;
  readonly status: number;
  readonly #expose: boolean | undefined;

  /** Each surface passes its own code and the status its table maps that code to (subclasses narrow the types with `declare`). */
  constructor(code: Code, status: number, message: string, options: WireErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = status;
    this.#expose = options.expose;
  }

  get expose(): boolean {
    return this.#expose ?? this.status < 500;
  }

  /** What the caller may read: the message when `expose`, else the surface's generic text. The one place that decides it. */
  publicMessage(generic = 'Internal error'): string {
    return this.expose ? this.message : generic;
  }

  abstract toResponse(): WireResponse;
}

/**
 * The base of a surface's error class whose codes are the keys of one code → HTTP status table: the table, the
 * code type (`MyError['code']`) and the constructor that looks the status up are written once here for every surface.
 * A code that is not in the table does not compile. Usage: `class CognitoError extends wireErrorOf(cognitoStatus) {…}`.
 */
export function wireErrorOf<const Table extends Readonly<Record<string, number>>>(statusByCode: Table) {
  type Code = Extract<keyof Table, string>;
  abstract class StatusTableError extends WireError<Code> {
    static readonly statusByCode: Table = statusByCode;
    constructor(code: Code, message: string, options: WireErrorOptions = {}) {
      super(code, statusByCode[code] as number, message, options);
    }
  }
  return StatusTableError;
}

/** True for any error carrying a wire form. */
export function isWireError(error: unknown): error is WireError {
  return error instanceof WireError;
}
