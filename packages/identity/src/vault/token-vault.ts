import { randomUUID } from 'node:crypto';
import type { CredentialProviderSource, Logger, OAuth2ProviderDefinition } from '@gatehouse/core';
import { AgentCoreIdentityError } from '../agentcore-identity-error.ts';
import { OAuth2Client, ProviderRefusal } from './oauth2-client.ts';
import { normalScopes, type ConsentSession, type Connection, type StoredToken, type TokenKey, type VaultStore, type VaultUser } from './vault-store.ts';

/** A token is refreshed this long before it expires, so it never expires in flight. */
const REFRESH_MARGIN_MS = 60_000;

export interface TokenRequest {
  readonly workload: string;
  readonly user: VaultUser | undefined;
  readonly provider: string;
  readonly scopes: readonly string[];
  readonly flow: 'USER_FEDERATION' | 'M2M';
  readonly returnUrl?: string | undefined;
  /** The workload identity's allowedResourceOauth2ReturnUrls (or the gateway's own return URL). */
  readonly allowedReturnUrls: readonly string[];
  readonly forceAuthentication?: boolean | undefined;
  readonly sessionUri?: string | undefined;
  readonly customState?: string | undefined;
  readonly customParameters?: Readonly<Record<string, string>> | undefined;
}

export type TokenAnswer =
  | { readonly accessToken: string }
  | { readonly authorizationUrl: string; readonly sessionUri: string; readonly sessionStatus: 'IN_PROGRESS' | 'FAILED' };

export interface VaultOptions {
  readonly store: VaultStore;
  readonly providers: () => readonly CredentialProviderSource[];
  /** Gatehouse's own redirect URI, registered at every provider: `{baseUrl}/identities/oauth2/callback`. */
  readonly callbackUrl: string;
  readonly consentTimeoutMs: number;
  readonly now: () => number;
  readonly logger: Logger;
}

/**
 * AgentCore Identity's token vault: per-user SaaS tokens obtained with the user's consent (authorization
 * code + PKCE), refreshed before expiry, bound on completion to the user who started the consent; M2M
 * tokens by client credentials; API keys. Tokens and secrets leave only through `token`/`apiKey`.
 */
export class TokenVault {
  readonly #options: VaultOptions;
  readonly #client: OAuth2Client;

  constructor(options: VaultOptions) {
    this.#options = options;
    this.#client = new OAuth2Client({ now: options.now, logger: options.logger });
  }

  oauth2Provider(name: string): OAuth2ProviderDefinition {
    for (const source of this.#options.providers()) {
      const provider = source.oauth2(name);
      if (provider) return provider;
    }
    throw new AgentCoreIdentityError('ResourceNotFoundException', `No OAuth2 credential provider named ${name.slice(0, 128)}; create it (CreateOauth2CredentialProvider or tokenVault in gatehouse.yaml).`);
  }

  /** A workload identity's allowed return URLs, from whichever source knows it. */
  allowedReturnUrls(workload: string): readonly string[] {
    for (const source of this.#options.providers()) {
      const urls = source.allowedReturnUrls?.(workload);
      if (urls) return urls;
    }
    return [];
  }

  async apiKey(name: string): Promise<string> {
    for (const source of this.#options.providers()) {
      const provider = source.apiKey(name);
      if (!provider) continue;
      const key = provider.apiKey();
      if (!key) throw new AgentCoreIdentityError('ValidationException', `API key credential provider ${name} has no key set; set it (UpdateApiKeyCredentialProvider or the secret store).`);
      return key;
    }
    throw new AgentCoreIdentityError('ResourceNotFoundException', `No API key credential provider named ${name.slice(0, 128)}; create it (CreateApiKeyCredentialProvider or tokenVault in gatehouse.yaml).`);
  }

  async token(request: TokenRequest): Promise<TokenAnswer> {
    const provider = this.oauth2Provider(request.provider);
    if (request.flow === 'M2M') return { accessToken: await this.#m2m(provider, request) };
    if (!request.user) throw new AgentCoreIdentityError('ValidationException', 'USER_FEDERATION needs a workload access token for a user (GetWorkloadAccessTokenForJWT or ForUserId), not one for the workload alone.');
    const key: TokenKey & { user: VaultUser } = { workload: request.workload, user: request.user, provider: provider.name, scopes: normalScopes(request.scopes) };
    const returnUrl = this.#returnUrl(request);
    if (!request.forceAuthentication) {
      const token = await this.#usable(provider, key);
      if (token) return { accessToken: token };
      const named = request.sessionUri ? await this.#options.store.session(request.sessionUri, this.#options.now()) : undefined;
      if (named && sameUser(named.key.user, request.user) && named.key.provider === provider.name) {
        return { authorizationUrl: named.authorizationUrl, sessionUri: named.sessionUri, sessionStatus: named.status === 'FAILED' ? 'FAILED' : 'IN_PROGRESS' };
      }
      // The same link again while the user has not used it yet (one consent per question, not one per call).
      const open = await this.#options.store.latestSession(key, this.#options.now());
      if (open?.status === 'IN_PROGRESS' && open.returnUrl === returnUrl && open.customState === request.customState) {
        return { authorizationUrl: open.authorizationUrl, sessionUri: open.sessionUri, sessionStatus: 'IN_PROGRESS' };
      }
    }
    return this.#startConsent(provider, key, { ...request, returnUrl });
  }

  #returnUrl(request: TokenRequest): string {
    if (request.returnUrl === undefined) {
      const first = request.allowedReturnUrls[0];
      if (first === undefined) throw new AgentCoreIdentityError('ValidationException', `resourceOauth2ReturnUrl is required: workload ${request.workload} has no allowedResourceOauth2ReturnUrls (add one with UpdateWorkloadIdentity).`);
      return first;
    }
    if (!request.allowedReturnUrls.includes(request.returnUrl)) {
      throw new AgentCoreIdentityError('ValidationException', `resourceOauth2ReturnUrl is not one of workload ${request.workload}'s allowedResourceOauth2ReturnUrls; add it with UpdateWorkloadIdentity.`);
    }
    return request.returnUrl;
  }

  async #m2m(provider: OAuth2ProviderDefinition, request: TokenRequest): Promise<string> {
    const key: TokenKey = { workload: request.workload, user: undefined, provider: provider.name, scopes: normalScopes(request.scopes) };
    const stored = request.forceAuthentication ? undefined : await this.#options.store.token(key);
    if (stored && fresh(stored, this.#options.now())) return stored.accessToken;
    const token = await this.#client.clientCredentials(provider, key.scopes);
    await this.#options.store.putToken(key, token, this.#options.now());
    return token.accessToken;
  }

  /** The stored token, refreshed when close to expiry; undefined when the user must consent (again). */
  async #usable(provider: OAuth2ProviderDefinition, key: TokenKey): Promise<string | undefined> {
    const now = this.#options.now();
    const stored = await this.#options.store.token(key);
    if (!stored) return undefined;
    if (fresh(stored, now)) return stored.accessToken;
    if (!stored.refreshToken) {
      await this.#options.store.deleteToken(key);
      return undefined;
    }
    try {
      const refreshed = await this.#client.refresh(provider, stored.refreshToken);
      await this.#options.store.putToken(key, refreshed, this.#options.now());
      return refreshed.accessToken;
    } catch (error) {
      // The provider refused the refresh token (revoked, expired): consent again. An outage keeps it for later.
      if (error instanceof ProviderRefusal) {
        await this.#options.store.deleteToken(key);
        return undefined;
      }
      throw error;
    }
  }

  async #startConsent(provider: OAuth2ProviderDefinition, key: TokenKey & { user: VaultUser }, request: TokenRequest & { returnUrl: string }): Promise<TokenAnswer> {
    const started = await this.#client.authorizationUrl(provider, { scopes: key.scopes, redirectUri: this.#options.callbackUrl, customParameters: request.customParameters });
    const session: ConsentSession = {
      sessionUri: `urn:ietf:params:oauth:request_uri:${randomUUID()}`,
      key,
      authorizationUrl: started.url,
      codeVerifier: started.codeVerifier,
      returnUrl: request.returnUrl,
      ...(request.customState !== undefined ? { customState: request.customState } : {}),
      status: 'IN_PROGRESS',
      expiresAt: this.#options.now() + this.#options.consentTimeoutMs,
    };
    await this.#options.store.putSession(session, started.state);
    this.#options.logger.info({ provider: provider.name, workload: key.workload }, 'user consent started');
    return { authorizationUrl: started.url, sessionUri: session.sessionUri, sessionStatus: 'IN_PROGRESS' };
  }

  /**
   * The provider's redirect back to Gatehouse: checks `state`, exchanges the code (with the PKCE verifier),
   * and keeps the token in the session until the user who started it completes it. Answers where to send
   * the browser next: the return URL with `session_id` (and the caller's `state`).
   */
  async callback(parameters: URLSearchParams): Promise<string> {
    const state = parameters.get('state');
    const session = state ? await this.#options.store.sessionByState(state, this.#options.now()) : undefined;
    if (!state || !session || session.status !== 'IN_PROGRESS') {
      throw new AgentCoreIdentityError('ValidationException', 'This consent link is unknown, already used or expired; go back to the application and ask again.');
    }
    const provider = this.oauth2Provider(session.key.provider);
    try {
      const token = await this.#client.exchangeCode(provider, { callback: parameters, state, redirectUri: this.#options.callbackUrl, codeVerifier: session.codeVerifier });
      await this.#options.store.updateSession({ ...session, status: 'AWAITING_USER', token });
    } catch (error) {
      await this.#options.store.updateSession({ ...session, status: 'FAILED', failure: error instanceof AgentCoreIdentityError ? error.message : 'failed' });
      throw error;
    }
    const location = new URL(session.returnUrl);
    location.searchParams.set('session_id', session.sessionUri);
    if (session.customState !== undefined) location.searchParams.set('state', session.customState);
    return location.href;
  }

  /** CompleteResourceTokenAuth: the consent's token goes into the vault only for the user who started it. */
  async complete(sessionUri: string, identify: (workload: string) => Promise<VaultUser>): Promise<void> {
    const session = await this.#options.store.session(sessionUri, this.#options.now());
    if (!session) throw new AgentCoreIdentityError('ResourceNotFoundException', 'No consent session with this sessionUri (unknown, finished or expired); request the token again.');
    const user = await identify(session.key.workload);
    if (!sameUser(session.key.user, user)) {
      // Burnt: a consent finished in someone else's browser is never stored, for either user.
      await this.#options.store.updateSession({ ...session, status: 'FAILED', failure: 'completed by another user' });
      await this.#options.store.deleteSession(session.sessionUri);
      this.#options.logger.warn({ provider: session.key.provider, workload: session.key.workload }, 'consent completed by a user other than the one who started it; refused');
      throw new AgentCoreIdentityError('AccessDeniedException', 'This consent was started by another user; it is discarded. Start the connection again from your own session.');
    }
    if (session.status !== 'AWAITING_USER' || !session.token) {
      throw new AgentCoreIdentityError('ValidationException', session.status === 'FAILED' ? `The consent failed: ${session.failure ?? 'unknown'}` : 'The consent is not finished yet: open the authorization URL and approve first.');
    }
    await this.#options.store.putToken(session.key, session.token, this.#options.now());
    await this.#options.store.deleteSession(session.sessionUri);
    this.#options.logger.info({ provider: session.key.provider, workload: session.key.workload }, 'user consent completed');
  }

  /** "Disconnect": forgets the user's tokens of one provider (or all) and revokes them at the provider when it can. */
  async disconnect(user: VaultUser, provider?: string): Promise<number> {
    const taken = await this.#options.store.takeTokens(user, provider);
    for (const entry of taken) {
      let definition: OAuth2ProviderDefinition | undefined;
      try {
        definition = this.oauth2Provider(entry.provider);
      } catch {
        continue;
      }
      await this.#client.revoke(definition, entry.token.refreshToken ?? entry.token.accessToken);
    }
    return taken.length;
  }

  connections(user: VaultUser): Promise<Connection[]> {
    return this.#options.store.connections(user);
  }
}

function fresh(token: StoredToken, now: number): boolean {
  return token.expiresAt === undefined || token.expiresAt - REFRESH_MARGIN_MS > now;
}

function sameUser(a: VaultUser, b: VaultUser): boolean {
  return a.iss === b.iss && a.sub === b.sub;
}
