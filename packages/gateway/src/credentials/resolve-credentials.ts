import { createHash } from 'node:crypto';
import { AssumeRoleCommand, AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { requestToken, TokenCache, TokenRequestError, type ExpiringToken } from '@gatehouse/auth';
import { credentialProviderName, readSecret, type CredentialProviderConfig, type SharedStore } from '@gatehouse/core';
import type { Caller } from '../caller.ts';
import { callerKey } from '../caller.ts';
import { ToolCallError } from '../gateway-error.ts';
import type { LambdaCredentials } from '../tool-definition.ts';
import type { SealedBox } from './sealed-box.ts';
import { vaultApiKey, vaultOAuthToken, type AgentToken, type GatewayVault } from './vault-credentials.ts';


/** What a target call carries for one user: extra headers / query parameters, or AWS credentials. */
export interface OutboundCredentials {
  readonly headers: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  readonly aws?: LambdaCredentials & { readonly service: string; readonly region: string };
  /** Stable key of these credentials (a hash), for pooling upstream connections per credential. */
  readonly key: string;
  /** Only for a target with `handTokenToAgent`: the vault token the tool result hands to the agent. */
  readonly forAgent?: AgentToken | undefined;
}

export interface CredentialDeps {
  readonly dataDir: string;
  readonly store: SharedStore;
  readonly box: SealedBox;
  readonly gatewayName: string;
  readonly now: () => number;
  readonly serviceClient?: { clientId: string; clientSecret: string; tokenEndpoint: string };
  readonly sts?: { endpoint?: string; region: string; credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } };
  /** The token vault (providerArn targets) and where users land after consenting (default: the web UI). */
  readonly vault?: { readonly vault: GatewayVault; readonly returnUrl: string } | undefined;
}

const NONE: OutboundCredentials = { headers: {}, query: {}, key: 'none' };
const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

function hash(value: string): string {
  return createHash('sha256').update(value).digest('base64url').slice(0, 32);
}

/** One grant at a token endpoint, for a target: the client that authenticates, the grant and its other form fields. */
interface TokenRequest {
  readonly client: { readonly tokenEndpoint: string; readonly clientId: string; readonly clientSecret: string };
  readonly grantType: string;
  readonly parameters: Record<string, string>;
  readonly targetName: string;
}

/**
 * Per-target outbound credentials, resolved for the calling user on every call. Every failure is a
 * `CredentialsUnavailable` tool error, and the caller of `resolve` never reaches the target then:
 * there is no fallback to the gateway's own credentials.
 */
export class CredentialResolver {
  readonly #deps: CredentialDeps;
  /** 30 s of margin so a token never expires in flight. */
  readonly #tokens: TokenCache<string>;
  #stsClient: STSClient | undefined;

  constructor(deps: CredentialDeps) {
    this.#deps = deps;
    this.#tokens = new TokenCache({ now: deps.now, marginMs: 30_000 });
  }

  async resolve(provider: CredentialProviderConfig, caller: Caller, targetName: string, defaultAudience: string): Promise<OutboundCredentials> {
    switch (provider.credentialProviderType) {
      case 'NONE':
        return NONE;
      case 'JWT_PASSTHROUGH':
        return { headers: { authorization: `Bearer ${caller.token}` }, query: {}, key: `jwt:${hash(caller.token)}` };
      case 'API_KEY': {
        const settings = provider.apiKeyCredentialProvider;
        const secretName = settings.secretName ?? '';
        const secret = settings.providerArn ? await vaultApiKey(this.#deps.vault?.vault, settings.providerArn, targetName) : readSecret(secretName, this.#deps.dataDir);
        if (!secret) throw new ToolCallError('CredentialsUnavailable', `Target ${targetName} needs the API key secret "${secretName}" (set GATEHOUSE_SECRET_${secretName.toUpperCase().replace(/[^A-Z0-9]/g, '_')} or secrets.json); the call was not sent`);
        const value = `${settings.credentialPrefix ?? ''}${secret}`;
        const placed = { [settings.credentialLocation === 'HEADER' ? settings.credentialParameterName.toLowerCase() : settings.credentialParameterName]: value };
        return settings.credentialLocation === 'HEADER' ? { headers: placed, query: {}, key: `key:${hash(value)}` } : { headers: {}, query: placed, key: `key:${hash(value)}` };
      }
      case 'OAUTH': {
        const settings = provider.oauthCredentialProvider;
        if (settings.providerArn || settings.grantType === 'AUTHORIZATION_CODE') {
          const vault = this.#deps.vault;
          const token = await vaultOAuthToken(vault?.vault, { caller, gatewayName: this.#deps.gatewayName, targetName, settings, returnUrl: vault?.returnUrl ?? '' });
          const forAgent = settings.handTokenToAgent === true && settings.providerArn ? { provider: credentialProviderName(settings.providerArn), accessToken: token } : undefined;
          return { headers: { authorization: `Bearer ${token}` }, query: {}, key: `oauth:${hash(token)}`, ...(forAgent ? { forAgent } : {}) };
        }
        const token =
          settings.grantType === 'CLIENT_CREDENTIALS'
            ? await this.#clientCredentials(settings, targetName)
            : await this.#tokenExchange(settings, caller, targetName, settings.audience ?? defaultAudience);
        // (AUTHORIZATION_CODE went to the vault above)
        return { headers: { authorization: `Bearer ${token}` }, query: {}, key: `oauth:${hash(token)}` };
      }
      case 'GATEWAY_IAM_ROLE': {
        const settings = provider.iamCredentialProvider;
        const credentials = await this.#assumeRole(settings, caller, targetName);
        return { headers: {}, query: {}, aws: { ...credentials, service: settings.service, region: settings.region ?? this.#deps.sts?.region ?? 'us-east-1' }, key: `aws:${hash(credentials.accessKeyId)}` };
      }
    }
  }

  #client(settings: { tokenEndpoint?: string | undefined; clientId?: string | undefined; clientSecretName?: string | undefined }, targetName: string): { tokenEndpoint: string; clientId: string; clientSecret: string } {
    if (settings.clientId && settings.clientSecretName) {
      const clientSecret = readSecret(settings.clientSecretName, this.#deps.dataDir);
      const tokenEndpoint = settings.tokenEndpoint ?? this.#deps.serviceClient?.tokenEndpoint;
      if (!clientSecret || !tokenEndpoint) throw new ToolCallError('CredentialsUnavailable', `Target ${targetName}: OAuth client secret "${settings.clientSecretName}" or token endpoint is not configured; the call was not sent`);
      return { tokenEndpoint, clientId: settings.clientId, clientSecret };
    }
    const service = this.#deps.serviceClient;
    if (!service) throw new ToolCallError('CredentialsUnavailable', `Target ${targetName} needs the gateway's service client at the identity service, which is not configured; the call was not sent`);
    return { ...service, tokenEndpoint: settings.tokenEndpoint ?? service.tokenEndpoint };
  }

  async #postToken(request: TokenRequest): Promise<ExpiringToken<string>> {
    const { client, grantType, parameters, targetName } = request;
    try {
      const issued = await requestToken({ ...client, grantType, parameters, timeoutMs: 10_000 });
      const expiresIn = issued.expiresIn !== undefined && issued.expiresIn > 0 ? issued.expiresIn : 300;
      return { value: issued.accessToken, expiresAtMs: this.#deps.now() + expiresIn * 1000 };
    } catch (error) {
      if (!(error instanceof TokenRequestError) || error.kind === 'unreachable') {
        throw new ToolCallError('CredentialsUnavailable', `Target ${targetName}: the token endpoint could not be reached; the call was not sent`, { cause: error });
      }
      if (error.kind === 'insecure_endpoint') throw new ToolCallError('CredentialsUnavailable', `Target ${targetName}: ${error.message} The call was not sent`);
      throw new ToolCallError('CredentialsUnavailable', `Target ${targetName}: the token endpoint refused (${error.reason}); the call was not sent`);
    }
  }

  async #clientCredentials(settings: { tokenEndpoint?: string | undefined; clientId?: string | undefined; clientSecretName?: string | undefined; scopes: string[]; audience?: string | undefined }, targetName: string): Promise<string> {
    const client = this.#client(settings, targetName);
    const key = `cc ${client.tokenEndpoint} ${client.clientId} ${settings.scopes.join(' ')} ${settings.audience ?? ''}`;
    const parameters: Record<string, string> = {};
    if (settings.scopes.length > 0) parameters.scope = settings.scopes.join(' ');
    if (settings.audience) parameters.audience = settings.audience;
    return this.#tokens.get(key, () => this.#postToken({ client, grantType: 'client_credentials', parameters, targetName }));
  }

  /** RFC 8693 on-behalf-of: the user's token is the subject, the gateway authenticates as the actor (the issuer adds `act`). */
  async #tokenExchange(settings: { tokenEndpoint?: string | undefined; clientId?: string | undefined; clientSecretName?: string | undefined; scopes: string[] }, caller: Caller, targetName: string, audience: string): Promise<string> {
    const client = this.#client(settings, targetName);
    const key = `te ${client.tokenEndpoint} ${audience} ${settings.scopes.join(' ')} ${hash(caller.token)}`;
    const parameters: Record<string, string> = {
      subject_token: caller.token,
      subject_token_type: ACCESS_TOKEN_TYPE,
      requested_token_type: ACCESS_TOKEN_TYPE,
      audience,
    };
    if (settings.scopes.length > 0) parameters.scope = settings.scopes.join(' ');
    return this.#tokens.get(key, async () => {
      const token = await this.#postToken({ client, grantType: TOKEN_EXCHANGE_GRANT, parameters, targetName });
      // never handed out within the margin of the user's own expiry
      return caller.expiresAt ? { ...token, capAtMs: caller.expiresAt * 1000 - 30_000 } : token;
    });
  }

  #sts(): STSClient {
    if (!this.#stsClient) {
      const settings = this.#deps.sts;
      const config: ConstructorParameters<typeof STSClient>[0] = { region: settings?.region ?? process.env.AWS_REGION ?? 'us-east-1', maxAttempts: 2 };
      if (settings?.endpoint) config.endpoint = settings.endpoint;
      if (settings?.credentials) config.credentials = settings.credentials;
      this.#stsClient = new STSClient(config);
    }
    return this.#stsClient;
  }

  async #assumeRole(settings: { roleArn?: string | undefined; webIdentity: boolean }, caller: Caller, targetName: string): Promise<LambdaCredentials> {
    if (!settings.roleArn) throw new ToolCallError('CredentialsUnavailable', `Target ${targetName}: GATEWAY_IAM_ROLE needs iamCredentialProvider.roleArn (Gatehouse never signs with its own credentials); the call was not sent`);
    const cacheKey = `gateway:${this.#deps.gatewayName}:sts:${hash(`${callerKey(caller)} ${settings.roleArn} ${settings.webIdentity}`)}`;
    const associated = `${callerKey(caller)} ${settings.roleArn}`;
    const sealed = await this.#deps.store.get(cacheKey);
    if (sealed) {
      const opened = this.#deps.box.open(sealed, associated);
      if (opened) {
        const parsed = JSON.parse(opened) as Omit<LambdaCredentials, 'expiration'> & { expiration: string };
        const expiration = new Date(parsed.expiration);
        if (expiration.getTime() - 300_000 > this.#deps.now()) return { ...parsed, expiration };
      }
    }
    const sessionName = roleSessionName(caller);
    let credentials: { AccessKeyId?: string | undefined; SecretAccessKey?: string | undefined; SessionToken?: string | undefined; Expiration?: Date | undefined } | undefined;
    try {
      if (settings.webIdentity) {
        // STS must see a token minted for it (audience "sts"), never the user's gateway token.
        const webIdentityToken = await this.#tokenExchange({ scopes: [] }, caller, targetName, 'sts');
        const result = await this.#sts().send(new AssumeRoleWithWebIdentityCommand({ RoleArn: settings.roleArn, RoleSessionName: sessionName, WebIdentityToken: webIdentityToken }));
        credentials = result.Credentials;
      } else {
        const tags = [
          { Key: 'sub', Value: tagValue(caller.subject) },
          { Key: 'username', Value: tagValue(caller.username) },
          { Key: 'groups', Value: tagValue(caller.groups.join(':')) },
        ].filter((tag) => tag.Value.length > 0);
        const result = await this.#sts().send(new AssumeRoleCommand({ RoleArn: settings.roleArn, RoleSessionName: sessionName, SourceIdentity: sessionName, Tags: tags }));
        credentials = result.Credentials;
      }
    } catch (error) {
      if (error instanceof ToolCallError) throw error;
      const name = error instanceof Error ? error.name : 'Error';
      throw new ToolCallError('CredentialsUnavailable', `Target ${targetName}: STS refused to issue credentials for this user (${name}); the tool was not run`, { cause: error });
    }
    if (!credentials?.AccessKeyId || !credentials.SecretAccessKey || !credentials.SessionToken || !credentials.Expiration) {
      throw new ToolCallError('CredentialsUnavailable', `Target ${targetName}: STS returned incomplete credentials; the tool was not run`);
    }
    const result: LambdaCredentials = { accessKeyId: credentials.AccessKeyId, secretAccessKey: credentials.SecretAccessKey, sessionToken: credentials.SessionToken, expiration: credentials.Expiration };
    const ttl = Math.floor((result.expiration.getTime() - 300_000 - this.#deps.now()) / 1000);
    if (ttl > 0) await this.#deps.store.set(cacheKey, this.#deps.box.seal(JSON.stringify(result), associated), ttl);
    return result;
  }

  close(): void {
    this.#stsClient?.destroy();
  }
}

/** RoleSessionName: 2–64 chars of `[\w+=,.@-]`, from the user so CloudTrail names who acted. */
export function roleSessionName(caller: Caller): string {
  const base = (caller.username || caller.subject).replace(/[^\w+=,.@-]/g, '-');
  const name = base.length >= 2 ? base : `user-${base}`;
  return name.length <= 64 ? name : `${name.slice(0, 51)}-${hash(caller.subject).slice(0, 12)}`;
}

function tagValue(value: string): string {
  return value.replace(/[^\p{L}\p{Z}\p{N}_.:/=+\-@]/gu, '-').slice(0, 256);
}
