import { readSecret, vendorEndpoints, type ApiKeyProviderDefinition, type CredentialProviderSource, type OAuth2ProviderConfig, type OAuth2ProviderDefinition, type TokenVaultConfig } from '@gatehouse/core';

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
