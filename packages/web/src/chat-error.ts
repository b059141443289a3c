/** What went wrong with a turn, already phrased for the person at the keyboard. */
export type ChatErrorCode =
  | 'signin_expired'
  | 'access_denied'
  | 'throttled'
  | 'agent_failed'
  | 'agent_error'
  | 'bad_request'
  | 'server_error'
  | 'network';

/** The action the UI offers for each code: one typed table, so a new code cannot be left without one. */
export const CHAT_ERROR_ACTION: Record<ChatErrorCode, 'sign-in' | 'retry' | 'none'> = {
  signin_expired: 'sign-in',
  access_denied: 'none',
  throttled: 'retry',
  agent_failed: 'retry',
  agent_error: 'retry',
  bad_request: 'none',
  server_error: 'retry',
  network: 'retry',
};

const TITLES: Record<ChatErrorCode, string> = {
  signin_expired: 'Your sign-in has expired',
  access_denied: 'The runtime refused this request',
  throttled: 'Too many requests',
  agent_failed: 'The agent failed to answer',
  agent_error: 'The agent reported a problem',
  bad_request: 'The request was not accepted',
  server_error: 'Gatehouse had an internal error',
  network: 'Connection lost',
};

export class ChatError extends Error {
  readonly code: ChatErrorCode;
  readonly title: string;
  /** What the person can do about it. */
  readonly fix: string | undefined;
  /** The protocol's error name (`X-Amzn-ErrorType`) or the agent's error code, for the details line. */
  readonly errorType: string | undefined;
  readonly status: number | undefined;

  constructor(code: ChatErrorCode, message: string, options: { fix?: string; errorType?: string; status?: number } = {}) {
    super(message);
    this.name = 'ChatError';
    this.code = code;
    this.title = TITLES[code];
    this.fix = options.fix;
    this.errorType = options.errorType;
    this.status = options.status;
  }

  get action(): 'sign-in' | 'retry' | 'none' {
    return CHAT_ERROR_ACTION[this.code];
  }
}

/** Reads an AgentCore error response (`X-Amzn-ErrorType` + `{message}`) into a ChatError. */
export async function chatErrorFromResponse(response: Response): Promise<ChatError> {
  const headerType = response.headers.get('x-amzn-errortype') ?? undefined;
  let message = '';
  let bodyType: string | undefined;
  try {
    const body = (await response.json()) as Record<string, unknown>;
    message = typeof body['message'] === 'string' ? body['message'] : typeof body['Message'] === 'string' ? body['Message'] : '';
    bodyType = typeof body['__type'] === 'string' ? body['__type'] : typeof body['code'] === 'string' ? body['code'] : undefined;
  } catch {
    // A non-JSON error body (a proxy page, say) still gets a status-based explanation below.
  }
  const errorType = (headerType ?? bodyType)?.split(/[,:]/)[0]?.split('#').pop();
  return chatErrorFromStatus(response.status, message, errorType, {
    retryAfter: response.headers.get('retry-after') ?? undefined,
    wwwAuthenticate: response.headers.get('www-authenticate') ?? undefined,
  });
}

/**
 * A refused token is a sign-in problem even when the runtime answers 403 (AgentCore gives 403 for a
 * presented-but-rejected token): RFC 6750's `error="invalid_token"` says so, or the message names expiry.
 */
function tokenRejected(status: number, message: string, wwwAuthenticate: string | undefined): boolean {
  if (status === 401) return true;
  if (status !== 403) return false;
  if (wwwAuthenticate !== undefined && /error="?invalid_token/i.test(wwwAuthenticate)) return true;
  return /\b(expired|revoked)\b/i.test(message);
}

export function chatErrorFromStatus(
  status: number,
  message: string,
  errorType: string | undefined,
  headers: { retryAfter?: string | undefined; wwwAuthenticate?: string | undefined } = {},
): ChatError {
  const base = { status, ...(errorType === undefined ? {} : { errorType }) };
  const retryAfter = headers.retryAfter;
  if (tokenRejected(status, message, headers.wwwAuthenticate) || errorType === 'UnauthorizedException') {
    return new ChatError('signin_expired', message || 'The runtime did not accept your sign-in.', {
      ...base,
      fix: 'Sign in again. Your unsent message is kept and will be waiting for you.',
    });
  }
  if (status === 403) {
    return new ChatError('access_denied', message || 'Access denied.', {
      ...base,
      fix: ACCESS_FIX,
    });
  }
  if (status === 429) {
    const wait = retryAfter && /^\d+$/.test(retryAfter) ? `in ${retryAfter} seconds` : 'in a minute';
    return new ChatError('throttled', message || 'Rate limit reached.', { ...base, fix: `Wait and retry ${wait}.` });
  }
  if (status === 424) {
    return new ChatError('agent_failed', message || 'The agent process failed.', {
      ...base,
      fix: 'Retry; if it keeps failing, check the agent logs (`gatehouse up` output) for the cause.',
    });
  }
  if (status >= 400 && status < 500) {
    return new ChatError('bad_request', message || `Request refused (${status}).`, { ...base, fix: 'Start a new conversation and try again.' });
  }
  return new ChatError('server_error', message || `Server error (${status}).`, { ...base, fix: 'Retry in a moment.' });
}

const ACCESS_FIX =
  'Your account or this app is not allowed to use this agent (allowed clients, scopes, claims or origin). Ask your Gatehouse administrator to grant access.';

/**
 * A 403 that still comes back with a freshly refreshed token is not about the sign-in's age: the token
 * is valid but lacks what the runtime requires (a claim, a scope). Say so instead of "sign in again".
 */
export function refusedDespiteRefresh(error: ChatError): ChatError {
  if (error.code !== 'signin_expired' || error.status !== 403) return error;
  return new ChatError('access_denied', error.message, {
    fix: ACCESS_FIX,
    status: 403,
    ...(error.errorType === undefined ? {} : { errorType: error.errorType }),
  });
}

export function networkError(detail?: string): ChatError {
  return new ChatError('network', detail ?? 'The connection to Gatehouse dropped before the answer finished.', {
    fix: 'Check your connection, then retry.',
  });
}
