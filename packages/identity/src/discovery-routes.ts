import type { ServerResponse } from 'node:http';
import { sendJson } from '@gatehouse/core';
import type { IdentityContext } from './identity-context.ts';

const WELL_KNOWN = /^\/([\w-]+_[0-9a-zA-Z]+)\/\.well-known\/(openid-configuration|jwks\.json)$/;

export function discoveryDocument(context: IdentityContext, poolId: string): Record<string, unknown> {
  const base = context.platform.baseUrl;
  const issuer = context.issuer(poolId);
  return {
    issuer,
    authorization_endpoint: `${base}/oauth2/authorize`,
    token_endpoint: `${base}/oauth2/token`,
    userinfo_endpoint: `${base}/oauth2/userInfo`,
    revocation_endpoint: `${base}/oauth2/revoke`,
    end_session_endpoint: `${base}/logout`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    scopes_supported: ['openid', 'email', 'phone', 'profile', 'aws.cognito.signin.user.admin'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    code_challenge_methods_supported: ['S256'],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'at_hash', 'email', 'email_verified', 'cognito:username', 'cognito:groups', 'token_use'],
  };
}

/**
 * A fetch that answers this Gatehouse's own discovery and JWKS documents in-process (same bytes as
 * over HTTP) and passes every other URL on: verifiers inside the process never loop out through
 * the public URL, which may be another instance or a balancer that is down.
 */
export function localIssuerFetch(context: IdentityContext, fallback: typeof fetch = globalThis.fetch): typeof fetch {
  const prefix = `${context.platform.baseUrl}/`;
  return async (input, init) => {
    const href = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (href.startsWith(prefix)) {
      const match = WELL_KNOWN.exec(new URL(href).pathname);
      const pool = match ? await context.users.poolById(match[1]!) : undefined;
      if (match && pool) {
        const document = match[2] === 'jwks.json' ? { keys: await context.keys.publicKeys(pool.id) } : discoveryDocument(context, pool.id);
        return new Response(JSON.stringify(document), { status: 200, headers: { 'content-type': 'application/json' } });
      }
    }
    return fallback(input, init);
  };
}

/** `GET /{poolId}/.well-known/openid-configuration` and `.../jwks.json`; false when not ours. */
export async function handleDiscovery(context: IdentityContext, method: string, url: URL, response: ServerResponse): Promise<boolean> {
  if (method !== 'GET' && method !== 'HEAD') return false;
  const match = WELL_KNOWN.exec(url.pathname);
  if (!match) return false;
  const pool = await context.users.poolById(match[1]!);
  if (!pool) return false;
  const headers = { 'cache-control': 'public, max-age=300', 'access-control-allow-origin': '*' };
  if (match[2] === 'jwks.json') sendJson(response, 200, { keys: await context.keys.publicKeys(pool.id) }, headers);
  else sendJson(response, 200, discoveryDocument(context, pool.id), headers);
  return true;
}
