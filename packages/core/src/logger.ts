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

export function createLogger(settings: LoggerSettings = {}): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? process.env.GATEHOUSE_LOG_LEVEL ?? 'info',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: settings.name ? { component: settings.name } : {},
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
