import { wireErrorOf, type WireResponse } from '@gatehouse/core';

const oauthStatus = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  unsupported_token_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  invalid_token: 401,
  server_error: 500,
  // RFC 6749 §4.1.2.1: the server cannot answer now (its store, database or an upstream); clients retry after Retry-After.
  temporarily_unavailable: 503,
};

/** An OAuth 2.0 error (RFC 6749 §5.2, RFC 8693 §2.2.2): JSON `{error, error_description}`. */
export class OAuthError extends wireErrorOf(oauthStatus) {
  override readonly name = 'OAuthError';
  toResponse(): WireResponse {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'cache-control': 'no-store' };
    if (this.code === 'invalid_client') headers['www-authenticate'] = 'Basic realm="gatehouse"';
    if (this.code === 'temporarily_unavailable') headers['retry-after'] = '1';
    if (this.code === 'invalid_token') headers['www-authenticate'] = `Bearer error="invalid_token", error_description="${this.message.replace(/"/g, "'")}"`;
    return { status: this.status, headers, body: JSON.stringify({ error: this.code, error_description: this.publicMessage() }) };
  }
}

export type OAuthErrorName = OAuthError['code'];
