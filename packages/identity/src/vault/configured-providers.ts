import { readSecret, type ApiKeyProviderDefinition, type CredentialProviderSource, type OAuth2ProviderConfig, type OAuth2ProviderDefinition, type TokenVaultConfig } from '@gatehouse/core';

type Metadata = NonNullable<OAuth2ProviderDefinition['metadata']>;

/** Endpoints of the vendor presets (the shapes of AgentCore's `credentialProviderVendor`). */
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

function tokenVaultArn(region: string, accountId: string, kind: string, name: string): string {
  return `arn:aws:bedrock-agentcore:${region}:${accountId}:token-vault/default/${kind}/${name}`;
}

function oauth2Definition(entry: OAuth2ProviderConfig, options: { region: string; accountId: string; dataDir: string }): OAuth2ProviderDefinition {
  const preset = vendorEndpoints(entry.credentialProviderVendor, entry.tenantId);
  const metadata = entry.authorizationServerMetadata ?? preset.metadata;
  return {
    name: entry.name,
    arn: tokenVaultArn(options.region, options.accountId, 'oauth2credentialprovider', entry.name),
    vendor: entry.credentialProviderVendor,
    ...(entry.discoveryUrl ?? preset.discoveryUrl ? { discoveryUrl: entry.discoveryUrl ?? preset.discoveryUrl } : {}),
    ...(metadata && !(entry.discoveryUrl ?? preset.discoveryUrl) ? { metadata } : {}),
    clientId: entry.clientId,
    clientAuthenticationMethod: preset.method ?? entry.clientAuthenticationMethod,
    clientSecret: () => readSecret(entry.clientSecretName, options.dataDir),
  };
}

/** The providers declared under `tokenVault` in gatehouse.yaml; secrets come from the secret store when used. */
export function configuredProviders(config: TokenVaultConfig | undefined, options: { region: string; accountId: string; dataDir: string }): CredentialProviderSource {
  const oauth2 = new Map((config?.oauth2CredentialProviders ?? []).map((entry) => [entry.name, oauth2Definition(entry, options)]));
  const apiKeys = new Map<string, ApiKeyProviderDefinition>(
    (config?.apiKeyCredentialProviders ?? []).map((entry) => [
      entry.name,
      { name: entry.name, arn: tokenVaultArn(options.region, options.accountId, 'apikeycredentialprovider', entry.name), apiKey: () => readSecret(entry.apiKeySecretName, options.dataDir) },
    ]),
  );
  return { oauth2: (name) => oauth2.get(name), apiKey: (name) => apiKeys.get(name) };
}
