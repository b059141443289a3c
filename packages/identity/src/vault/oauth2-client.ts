import * as oauth from 'oauth4webapi';
import type { Logger, OAuth2ProviderDefinition } from '@gatehouse/core';
import { AgentCoreIdentityError } from '../agentcore-identity-error.ts';
import type { StoredToken } from './vault-store.ts';

const METADATA_TTL_MS = 10 * 60_000;
const TIMEOUT_MS = 10_000;

/** oauth4webapi refuses plain http; it is allowed for loopback servers only (local SaaS stand-ins in development and tests). */
function isLoopbackHttp(url: string): boolean {
  const parsed = new URL(url);
  return parsed.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(parsed.hostname);
}

/**
 * The token vault's OAuth client side, one per process: discovery (cached), PKCE authorization URLs,
 * code exchange, refresh, client credentials and revocation — all through oauth4webapi. Failures come
 * out as AgentCore Identity errors: ServiceUnavailableException when the provider could not be reached
 * or answered 5xx, AccessDeniedException when it refused; never with the client secret or a token.
 */
export class OAuth2Client {
  readonly #metadata = new Map<string, { server: oauth.AuthorizationServer; until: number }>();
  readonly #now: () => number;
  readonly #logger: Logger;

  constructor(options: { now: () => number; logger: Logger }) {
    this.#now = options.now;
    this.#logger = options.logger;
  }

  async #server(provider: OAuth2ProviderDefinition): Promise<oauth.AuthorizationServer> {
    if (provider.metadata) {
      const metadata = provider.metadata;
      return {
        issuer: metadata.issuer,
        authorization_endpoint: metadata.authorizationEndpoint,
        token_endpoint: metadata.tokenEndpoint,
        ...(metadata.revocationEndpoint ? { revocation_endpoint: metadata.revocationEndpoint } : {}),
      };
    }
    const discoveryUrl = provider.discoveryUrl ?? '';
    const cached = this.#metadata.get(discoveryUrl);
    if (cached && cached.until > this.#now()) return cached.server;
    const issuer = new URL(discoveryUrl.replace(/\/\.well-known\/(openid-configuration|oauth-authorization-server)$/, ''));
    const algorithm = discoveryUrl.endsWith('/oauth-authorization-server') ? 'oauth2' : 'oidc';
    const server = await this.#call(provider, 'discovery', async () =>
      oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm, ...this.#options(discoveryUrl) })),
    );
    this.#metadata.set(discoveryUrl, { server, until: this.#now() + METADATA_TTL_MS });
    return server;
  }

  #options(url: string): { signal: AbortSignal; [oauth.allowInsecureRequests]?: boolean } {
    return { signal: AbortSignal.timeout(TIMEOUT_MS), ...(isLoopbackHttp(url) ? { [oauth.allowInsecureRequests]: true } : {}) };
  }

  #client(provider: OAuth2ProviderDefinition): { client: oauth.Client; auth: oauth.ClientAuth } {
    const secret = provider.clientSecret();
    if (!secret) {
      throw new AgentCoreIdentityError('ValidationException', `Credential provider ${provider.name} has no client secret configured (set it in the secret store or with UpdateOauth2CredentialProvider).`);
    }
    return { client: { client_id: provider.clientId }, auth: provider.clientAuthenticationMethod === 'CLIENT_SECRET_POST' ? oauth.ClientSecretPost(secret) : oauth.ClientSecretBasic(secret) };
  }

  /** Runs one exchange with the provider and turns every failure into a typed error naming the provider, not its secrets. */
  async #call<T>(provider: OAuth2ProviderDefinition, step: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof AgentCoreIdentityError) throw error;
      if (error instanceof oauth.ResponseBodyError) {
        this.#logger.info({ provider: provider.name, step, error: error.error, status: error.status }, 'credential provider refused');
        if (error.status >= 500) throw new AgentCoreIdentityError('ServiceUnavailableException', `Credential provider ${provider.name} failed (${step}, HTTP ${error.status}); retry shortly.`);
        throw new ProviderRefusal(provider.name, step, error.error);
      }
      if (error instanceof oauth.AuthorizationResponseError) throw new ProviderRefusal(provider.name, step, error.error);
      this.#logger.warn({ provider: provider.name, step, reason: error instanceof Error ? error.name : 'Error' }, 'credential provider unreachable');
      throw new AgentCoreIdentityError('ServiceUnavailableException', `Credential provider ${provider.name} could not be reached (${step}); retry shortly.`);
    }
  }

  /** The authorization URL (code flow, PKCE S256, state) and the values the callback needs to finish it. */
  async authorizationUrl(provider: OAuth2ProviderDefinition, request: { scopes: readonly string[]; redirectUri: string; customParameters?: Readonly<Record<string, string>> | undefined }): Promise<{ url: string; state: string; codeVerifier: string }> {
    const server = await this.#server(provider);
    if (!server.authorization_endpoint) throw new AgentCoreIdentityError('ValidationException', `Credential provider ${provider.name} has no authorization endpoint.`);
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(server.authorization_endpoint);
    for (const [name, value] of Object.entries(request.customParameters ?? {})) url.searchParams.set(name, value);
    const fixed: Record<string, string> = {
      response_type: 'code', client_id: provider.clientId, redirect_uri: request.redirectUri, state,
      code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: 'S256',
    };
    if (request.scopes.length > 0) fixed.scope = request.scopes.join(' ');
    // custom parameters never override the protocol's own
    for (const [name, value] of Object.entries(fixed)) url.searchParams.set(name, value);
    return { url: url.href, state, codeVerifier };
  }

  async exchangeCode(provider: OAuth2ProviderDefinition, request: { callback: URLSearchParams; state: string; redirectUri: string; codeVerifier: string }): Promise<StoredToken> {
    const server = await this.#server(provider);
    const { client, auth } = this.#client(provider);
    return this.#call(provider, 'authorization code', async () => {
      const parameters = oauth.validateAuthResponse(server, client, request.callback, request.state);
      const response = await oauth.authorizationCodeGrantRequest(server, client, auth, parameters, request.redirectUri, request.codeVerifier, this.#options(server.token_endpoint ?? ''));
      return this.#stored(await oauth.processAuthorizationCodeResponse(server, client, response));
    });
  }

  async refresh(provider: OAuth2ProviderDefinition, refreshToken: string): Promise<StoredToken> {
    const server = await this.#server(provider);
    const { client, auth } = this.#client(provider);
    return this.#call(provider, 'refresh', async () => {
      const response = await oauth.refreshTokenGrantRequest(server, client, auth, refreshToken, this.#options(server.token_endpoint ?? ''));
      const token = this.#stored(await oauth.processRefreshTokenResponse(server, client, response));
      // a provider that does not rotate refresh tokens keeps the old one valid
      return token.refreshToken ? token : { ...token, refreshToken };
    });
  }

  async clientCredentials(provider: OAuth2ProviderDefinition, scopes: readonly string[]): Promise<StoredToken> {
    const server = await this.#server(provider);
    const { client, auth } = this.#client(provider);
    return this.#call(provider, 'client credentials', async () => {
      const parameters: Record<string, string> = scopes.length > 0 ? { scope: scopes.join(' ') } : {};
      const response = await oauth.clientCredentialsGrantRequest(server, client, auth, parameters, this.#options(server.token_endpoint ?? ''));
      return this.#stored(await oauth.processClientCredentialsResponse(server, client, response));
    });
  }

  /** Best effort (RFC 7009): the token is forgotten here whatever the provider answers. */
  async revoke(provider: OAuth2ProviderDefinition, token: string): Promise<boolean> {
    try {
      const server = await this.#server(provider);
      if (!server.revocation_endpoint) return false;
      const { client, auth } = this.#client(provider);
      await this.#call(provider, 'revocation', async () => oauth.processRevocationResponse(await oauth.revocationRequest(server, client, auth, token, this.#options(server.revocation_endpoint ?? ''))));
      return true;
    } catch (error) {
      this.#logger.warn({ provider: provider.name, code: error instanceof AgentCoreIdentityError ? error.code : 'Error' }, 'token revocation at the provider failed; the token is forgotten here');
      return false;
    }
  }

  #stored(response: oauth.TokenEndpointResponse): StoredToken {
    return {
      accessToken: response.access_token,
      ...(response.refresh_token ? { refreshToken: response.refresh_token } : {}),
      ...(typeof response.expires_in === 'number' ? { expiresAt: this.#now() + response.expires_in * 1000 } : {}),
    };
  }
}

/** The provider answered with an OAuth error (`invalid_grant`, `access_denied`…): a stored refresh token is dead. */
export class ProviderRefusal extends AgentCoreIdentityError {
  readonly oauthError: string;
  constructor(provider: string, step: string, oauthError: string) {
    super('AccessDeniedException', `Credential provider ${provider} refused the ${step} (${oauthError.slice(0, 64)}).`);
    this.oauthError = oauthError;
  }
}
