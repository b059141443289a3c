/**
 * The verified caller as the gateway uses it: the fields of @gatehouse/auth's `Principal` that
 * policy, credentials and audit need. Always derived from a verified token.
 */
export interface Caller {
  readonly subject: string;
  readonly issuer: string;
  readonly clientId: string | undefined;
  readonly username: string;
  readonly scopes: readonly string[];
  readonly groups: readonly string[];
  readonly claims: Readonly<Record<string, unknown>>;
  /** Raw bearer; only sent on when a target is explicitly JWT_PASSTHROUGH or as a token-exchange subject. Never logged. */
  readonly token: string;
  readonly expiresAt: number | undefined;
}

/** Key that binds sessions, rate counters and cached credentials to one user of one issuer. */
export function callerKey(caller: Caller): string {
  return `${caller.issuer} ${caller.subject}`;
}
