import type { IncomingMessage } from 'node:http';
import { OAuthError } from './oauth-error.ts';
import { constantTimeEqual } from './client-secret.ts';
import type { IdentityContext } from './identity-context.ts';
import type { ClientRecord } from './user-store.ts';

function basicCredentials(request: IncomingMessage): { id: string; secret: string } | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string' || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new OAuthError('invalid_client', 'Malformed Basic client credentials');
  // RFC 6749 §2.3.1: both parts are form-urlencoded inside Basic
  return { id: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')), secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')) };
}

/**
 * client_secret_basic, client_secret_post, or a public client naming itself with client_id.
 * A client that has a secret must always prove it.
 */
export async function authenticateClient(context: IdentityContext, request: IncomingMessage, form: Record<string, string>): Promise<ClientRecord> {
  const basic = basicCredentials(request);
  const id = basic?.id ?? form.client_id;
  if (!id) throw new OAuthError('invalid_client', 'Client authentication is required: send client_id (and client_secret for confidential clients)');
  if (basic && form.client_id !== undefined && form.client_id !== basic.id) throw new OAuthError('invalid_request', 'client_id in the body differs from the Basic credentials');
  const secret = basic?.secret ?? form.client_secret;
  const client = await context.users.clientById(id);
  if (!client) throw new OAuthError('invalid_client', 'Unknown client');
  if (client.secret) {
    if (!secret || !constantTimeEqual(secret, client.secret)) throw new OAuthError('invalid_client', 'Client authentication failed');
  } else if (secret) {
    throw new OAuthError('invalid_client', 'This client has no secret; do not send one');
  }
  return client;
}
