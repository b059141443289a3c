/**
 * An upstream or store call that did not answer in time. The one typed form of every timeout: our own timers throw
 * it, and `asCallTimeout` recognizes the others by type or code (never by message text), so each surface maps a
 * timeout through its failure table like any other internal failure.
 */
export class CallTimeoutError extends Error {
  /** How long the call was given, when known. */
  readonly timeoutMs: number | undefined;

  constructor(message: string, options: { readonly timeoutMs?: number | undefined; readonly cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CallTimeoutError';
    this.timeoutMs = options.timeoutMs;
  }
}

/** undici's own timers (fetch wraps them as `TypeError: fetch failed` with the error as `cause`) and the socket's. */
const TIMEOUT_CODES: ReadonlySet<unknown> = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

/**
 * The timeout `error` stands for, else undefined: a `CallTimeoutError`, the `TimeoutError` that `AbortSignal.timeout`
 * aborts with (what `fetch` rejects with), or an undici/socket timeout code, also when wrapped as a `cause`.
 */
export function asCallTimeout(error: unknown): CallTimeoutError | undefined {
  let current = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth += 1) {
    if (current instanceof CallTimeoutError) return current;
    if (current.name === 'TimeoutError' || TIMEOUT_CODES.has((current as NodeJS.ErrnoException).code)) {
      return new CallTimeoutError('The call did not answer in time.', { cause: error });
    }
    current = current.cause;
  }
  return undefined;
}

/** Codes of a connection that could not be made or was lost: Node's errno codes and undici's. */
const CONNECTION_CODES: ReadonlySet<unknown> = new Set([
  'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ETIMEDOUT',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_CLOSED',
]);

/**
 * True when a call could not reach its server or lost the connection: an errno or undici code on the error, on a
 * cause inside it (fetch's `TypeError: fetch failed` carries it there) or on an AggregateError's member (Node tries
 * each address of a name). Decided by code, never by message text.
 */
export function isConnectionFailure(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 4) return false;
  if (CONNECTION_CODES.has((error as NodeJS.ErrnoException).code)) return true;
  if (error instanceof AggregateError && error.errors.some((inner) => isConnectionFailure(inner, depth + 1))) return true;
  return isConnectionFailure(error.cause, depth + 1);
}
