import { WireError, type WireResponse } from '@gatehouse/core';

export type AuthFailureReason =
  | 'missing' | 'malformed' | 'bad_signature' | 'expired' | 'not_yet_valid' | 'wrong_issuer' | 'wrong_client'
  | 'wrong_audience' | 'wrong_token_use' | 'insufficient_scope' | 'claim_mismatch' | 'unknown_key' | 'revoked'
  | 'issuer_unavailable' | 'method_mismatch' | 'unknown_access_key' | 'clock_skew' | 'signature_mismatch'
  | 'expired_credentials' | 'wrong_region';

export type AuthStatus = 401 | 403 | 503;

/**
 * A finer reason inside one code, for surfaces whose wire names split it further (S3 answers a bad session
 * token `InvalidToken` and a wrong body hash `XAmzContentSHA256Mismatch`, where others say only "invalid").
 */
export type AuthErrorDetail = 'session_token' | 'content_sha256';

/**
 * Default status per reason: a token we cannot trust is 401, a trusted token that lacks a right is 403
 * (AgentCore answers "Claim 'client_id' mismatch" with 403), an issuer we cannot reach is 503.
 * SigV4 failures are 403 as AWS answers them. A new reason that is not mapped does not compile.
 */
const statusByReason: Record<AuthFailureReason, AuthStatus> = {
  missing: 401,
  malformed: 401,
  bad_signature: 401,
  expired: 401,
  not_yet_valid: 401,
  wrong_issuer: 401,
  wrong_client: 403,
  wrong_audience: 403,
  wrong_token_use: 401,
  insufficient_scope: 403,
  claim_mismatch: 403,
  unknown_key: 401,
  revoked: 401,
  issuer_unavailable: 503,
  method_mismatch: 403,
  unknown_access_key: 403,
  clock_skew: 403,
  signature_mismatch: 403,
  expired_credentials: 403,
  wrong_region: 403,
};

/**
 * Why a caller was refused. Messages say what to do and may name a claim; they never contain the
 * token, a key or a signature. Each surface (AgentCore, MCP, Cognito) turns this into its own shape;
 * `toResponse()` is the plain OAuth bearer form (RFC 6750) for surfaces that have none.
 */
export class AuthError extends WireError<AuthFailureReason> {
  declare readonly status: AuthStatus;
  readonly claim?: string;
  readonly detail?: AuthErrorDetail;
  /**
   * Set when the signature, issuer and time were verified and only a right was missing (client,
   * audience, scope, custom claim): who was refused, for the caller's audit log. Never the token.
   */
  verified?: { readonly subject: string; readonly issuer: string; readonly clientId?: string | undefined };

  constructor(code: AuthFailureReason, message: string, options: { claim?: string; status?: AuthStatus; detail?: AuthErrorDetail } = {}) {
    super(code, options.status ?? statusByReason[code], message);
    this.name = 'AuthError';
    if (options.claim !== undefined) this.claim = options.claim;
    if (options.detail !== undefined) this.detail = options.detail;
  }

  /** RFC 6750 error name for `WWW-Authenticate`. */
  get bearerError(): 'invalid_token' | 'insufficient_scope' | 'invalid_request' | 'temporarily_unavailable' {
    if (this.code === 'insufficient_scope') return 'insufficient_scope';
    if (this.code === 'missing' || this.code === 'malformed') return 'invalid_request';
    if (this.status === 503) return 'temporarily_unavailable';
    return 'invalid_token';
  }

  toResponse(): WireResponse {
    const description = this.message.replace(/["\\\r\n]/g, ' ');
    const challenge = this.code === 'missing' ? 'Bearer' : `Bearer error="${this.bearerError}", error_description="${description}"`;
    return {
      status: this.status,
      headers: { 'content-type': 'application/json', 'www-authenticate': challenge },
      body: JSON.stringify({ error: this.bearerError, error_description: this.message }),
    };
  }
}
