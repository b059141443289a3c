import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * Paths that may hold a token or secret anywhere in a log record. Censored, never printed.
 * Keep in sync with DESIGN invariant 8 ("tokens are redacted in logs").
 */
export const REDACTED_PATHS = [
  'token', 'accessToken', 'idToken', 'refreshToken', 'password', 'secret', 'clientSecret', 'secretAccessKey', 'sessionToken',
  '*.token', '*.accessToken', '*.idToken', '*.refreshToken', '*.password', '*.secret', '*.clientSecret', '*.secretAccessKey', '*.sessionToken',
  'headers.authorization', 'headers.cookie', 'headers["sec-websocket-protocol"]', 'headers["x-amz-security-token"]', 'headers.workloadaccesstoken',
  'headers["x-amz-bedrock-agentcore-identity-wat"]', 'req.headers.authorization', 'req.headers.cookie',
];

export interface LoggerSettings {
  readonly level?: string;
  readonly name?: string;
  /** A writable destination; defaults to stdout. Tests pass a buffer to assert on redaction. */
  readonly destination?: NodeJS.WritableStream;
}

const DEBUG_LEVEL = 20;

/**
 * A client that closed its connection is not a server fault. Surfaces that log unexpected errors with
 * `logger.error({ err }, …)` would otherwise write one error-level line with a stack per aborted
 * request (a client can produce hundreds a second), so a line whose error carries the `ClientClosed`
 * code is written at debug, with the message and no stack.
 */
function clientClosedDetails(first: unknown): Record<string, unknown> | undefined {
  if (first === null || typeof first !== 'object') return undefined;
  const error = first instanceof Error ? first : (first as { err?: unknown }).err;
  if (!(error instanceof Error) || (error as { code?: unknown }).code !== 'ClientClosed') return undefined;
  const rest = first instanceof Error ? {} : { ...(first as Record<string, unknown>) };
  delete rest.err;
  return { ...rest, reason: error.message };
}

export function createLogger(settings: LoggerSettings = {}): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? process.env.GATEHOUSE_LOG_LEVEL ?? 'info',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: settings.name ? { component: settings.name } : {},
    hooks: {
      logMethod(args, method, level) {
        const demoted = level > DEBUG_LEVEL ? clientClosedDetails(args[0]) : undefined;
        if (demoted) {
          this.debug(demoted, typeof args[1] === 'string' ? `${args[1]} (client closed the connection)` : 'client closed the connection');
          return;
        }
        method.apply(this, args);
      },
    },
  };
  return settings.destination ? pino(options, settings.destination as never) : pino(options);
}

/** Replaces anything that looks like a JWT or an AWS secret in free text (error messages, agent stderr). */
export function redactText(text: string): string {
  return text
    .replace(/eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, '[redacted-jwt]')
    .replace(/(Bearer\s+)[^\s"',]+/gi, '$1[redacted]')
    .replace(/base64UrlBearerAuthorization\.[A-Za-z0-9_-]+/g, 'base64UrlBearerAuthorization.[redacted]');
}
