import type { IncomingMessage, ServerResponse } from 'node:http';
import { AuthError, readCredential, WORKLOAD_CLAIM } from '@gatehouse/auth';
import { readJson, sendJson, sendWire, type Logger } from '@gatehouse/core';
import { AgentCoreIdentityError, fieldError } from '../agentcore-identity-error.ts';
import type { IdentityContext } from '../identity-context.ts';
import { verifyAccessToken } from '../verify-access-token.ts';
import type { TokenVault } from './token-vault.ts';
import { userOf } from './vault-operations.ts';
import type { VaultUser } from './vault-store.ts';

export const VAULT_CALLBACK_PATH = '/identities/oauth2/callback';
const USER_PREFIX = '/identities/vault/';

/**
 * The browser side of the vault: the provider's redirect back (`/identities/oauth2/callback`) and the
 * signed-in user's own endpoints (complete a consent, list and disconnect connections) with their
 * Gatehouse access token. Agents' workload tokens are refused here: only the user finishes a consent.
 */
export async function handleVaultRoute(
  deps: { context: IdentityContext; vault: TokenVault; logger: Logger },
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
): Promise<boolean> {
  if (url.pathname === VAULT_CALLBACK_PATH && request.method === 'GET') {
    await callback(deps, response, url);
    return true;
  }
  if (!url.pathname.startsWith(USER_PREFIX)) return false;
  const action = url.pathname.slice(USER_PREFIX.length);
  try {
    const user = await signedInUser(deps.context, request, url);
    if (action === 'connections' && request.method === 'GET') {
      sendJson(response, 200, { connections: await deps.vault.connections(user) }, { 'cache-control': 'no-store' });
      return true;
    }
    if (request.method !== 'POST' || (action !== 'complete' && action !== 'disconnect')) {
      throw new AgentCoreIdentityError('ResourceNotFoundException', 'Use POST /identities/vault/complete, POST /identities/vault/disconnect or GET /identities/vault/connections.');
    }
    const body = await readBodyObject(request);
    if (action === 'complete') {
      const sessionUri = body.sessionUri;
      if (typeof sessionUri !== 'string' || sessionUri.length === 0 || sessionUri.length > 1024) throw fieldError('sessionUri', 'is required');
      await deps.vault.complete(sessionUri, async () => user);
      sendJson(response, 200, {});
    } else {
      const provider = body.provider;
      if (provider !== undefined && (typeof provider !== 'string' || provider.length > 128)) throw fieldError('provider', 'must be a provider name');
      sendJson(response, 200, { disconnected: await deps.vault.disconnect(user, provider) });
    }
  } catch (error) {
    if (error instanceof AgentCoreIdentityError) {
      sendWire(response, error.toResponse());
      return true;
    }
    deps.logger.error({ err: error instanceof Error ? error.name : 'Error', action }, 'vault request failed');
    sendWire(response, new AgentCoreIdentityError('InternalServerException', 'Internal error').toResponse());
  }
  return true;
}

async function signedInUser(context: IdentityContext, request: IncomingMessage, url: URL): Promise<VaultUser> {
  let token: string | undefined;
  try {
    const credential = readCredential(request.headers, url.searchParams, request.rawHeaders);
    if (credential.kind === 'bearer') token = credential.token;
  } catch (error) {
    if (!(error instanceof AuthError)) throw error;
  }
  const verified = token === undefined ? undefined : await verifyAccessToken(context, token);
  if (!verified) throw new AgentCoreIdentityError('UnauthorizedException', 'Sign in: send your Gatehouse access token as Authorization: Bearer.');
  if (verified.claims[WORKLOAD_CLAIM] !== undefined) throw new AgentCoreIdentityError('AccessDeniedException', 'A workload access token cannot manage the user’s connections; the user does, with their own token.');
  const user = userOf(verified.claims);
  if (!user) throw new AgentCoreIdentityError('AccessDeniedException', 'This token names no user.');
  return user;
}

async function readBodyObject(request: IncomingMessage): Promise<Record<string, unknown>> {
  let body: unknown;
  try {
    body = await readJson(request, { maxBytes: 16 * 1024 });
  } catch {
    throw new AgentCoreIdentityError('ValidationException', 'The body must be a JSON object of at most 16 KiB.');
  }
  if (body === undefined) return {};
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new AgentCoreIdentityError('ValidationException', 'The body must be a JSON object.');
  return body as Record<string, unknown>;
}

async function callback(deps: { vault: TokenVault; logger: Logger }, response: ServerResponse, url: URL): Promise<void> {
  try {
    const location = await deps.vault.callback(url.searchParams);
    response.writeHead(302, { location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }).end();
  } catch (error) {
    const message = error instanceof AgentCoreIdentityError ? error.message : 'The connection could not be finished; go back to the application and try again.';
    if (!(error instanceof AgentCoreIdentityError)) deps.logger.error({ err: error instanceof Error ? error.name : 'Error' }, 'vault callback failed');
    const status = error instanceof AgentCoreIdentityError ? error.status : 500;
    response
      .writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': "default-src 'none'", 'referrer-policy': 'no-referrer' })
      .end(`<!doctype html><title>Connection not finished</title><h1>Connection not finished</h1><p>${escapeHtml(message)}</p>`);
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}
