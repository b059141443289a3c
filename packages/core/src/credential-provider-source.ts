/**
 * Credential providers of the token vault as the vault uses them, whoever declared them (gatehouse.yaml,
 * the control-plane API). Secrets are read through a function at the moment of use and never kept in
 * a field that could be serialised into a response or a log line.
 */
export interface OAuth2ProviderDefinition {
  readonly name: string;
  readonly arn: string;
  readonly vendor: string;
  /** Exactly one of discoveryUrl and metadata. */
  readonly discoveryUrl?: string | undefined;
  readonly metadata?: { readonly issuer: string; readonly authorizationEndpoint: string; readonly tokenEndpoint: string; readonly revocationEndpoint?: string | undefined } | undefined;
  readonly clientId: string;
  readonly clientAuthenticationMethod: 'CLIENT_SECRET_BASIC' | 'CLIENT_SECRET_POST';
  clientSecret(): string | undefined;
}

export interface ApiKeyProviderDefinition {
  readonly name: string;
  readonly arn: string;
  apiKey(): string | undefined;
}

export interface CredentialProviderSource {
  oauth2(name: string): OAuth2ProviderDefinition | undefined;
  apiKey(name: string): ApiKeyProviderDefinition | undefined;
  /** A workload identity's `allowedResourceOauth2ReturnUrls`, when this source knows the workload. */
  allowedReturnUrls?(workloadName: string): readonly string[] | undefined;
}

/** The provider name at the end of a token-vault ARN (`…:token-vault/default/oauth2credentialprovider/NAME`), or the name itself. */
export function credentialProviderName(arnOrName: string): string {
  return arnOrName.slice(arnOrName.lastIndexOf('/') + 1);
}

type Metadata = NonNullable<OAuth2ProviderDefinition['metadata']>;

/** Endpoints of the vendor presets (the shapes of AgentCore's `credentialProviderVendor`); {} for a custom provider. */
export function vendorEndpoints(vendor: string, tenantId = 'common'): { discoveryUrl?: string; metadata?: Metadata; method?: 'CLIENT_SECRET_POST' } {
  switch (vendor) {
    case 'GithubOauth2':
      // GitHub publishes no discovery document; its token endpoint takes the secret in the form.
      return {
        metadata: { issuer: 'https://github.com', authorizationEndpoint: 'https://github.com/login/oauth/authorize', tokenEndpoint: 'https://github.com/login/oauth/access_token' },
        method: 'CLIENT_SECRET_POST',
      };
    case 'GoogleOauth2':
      return { discoveryUrl: 'https://accounts.google.com/.well-known/openid-configuration' };
    case 'MicrosoftOauth2':
      // Explicit endpoints: the `common` tenant's discovery document names a templated issuer that no client can match.
      return {
        metadata: {
          issuer: `https://login.microsoftonline.com/${tenantId}/v2.0`,
          authorizationEndpoint: `https://login.microsoftonline.com/${tenantId}/oauth2/v2.0/authorize`,
          tokenEndpoint: `https://login.microsoftonline.com/${tenantId}/oauth2/v2.0/token`,
        },
      };
    default:
      return {};
  }
}
