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
