import { vendorEndpoints, type CredentialProviderSource, type OAuth2ProviderDefinition } from '@gatehouse/core';
import type { ResourceStore } from './resource-store.ts';

interface ProviderRow {
  readonly name: string;
  readonly credentialProviderArn: string;
  readonly credentialProviderVendor?: string;
  readonly oauth2ProviderConfigOutput?: Record<string, Record<string, unknown>>;
}

type Metadata = NonNullable<OAuth2ProviderDefinition['metadata']>;

function oauth2Definition(store: ResourceStore, row: ProviderRow): OAuth2ProviderDefinition | undefined {
  const [member, config] = Object.entries(row.oauth2ProviderConfigOutput ?? {})[0] ?? [];
  if (!member || !config || typeof config.clientId !== 'string') return undefined;
  const preset = vendorEndpoints(row.credentialProviderVendor ?? 'CustomOauth2');
  const discovery = (config.oauthDiscovery ?? {}) as { discoveryUrl?: string; authorizationServerMetadata?: Metadata };
  const discoveryUrl = discovery.discoveryUrl ?? (discovery.authorizationServerMetadata ? undefined : preset.discoveryUrl);
  const metadata = discovery.authorizationServerMetadata ?? preset.metadata;
  const method = preset.method ?? (config.clientAuthenticationMethod === 'CLIENT_SECRET_POST' ? 'CLIENT_SECRET_POST' : 'CLIENT_SECRET_BASIC');
  return {
    name: row.name,
    arn: row.credentialProviderArn,
    vendor: row.credentialProviderVendor ?? 'CustomOauth2',
    ...(discoveryUrl ? { discoveryUrl } : metadata ? { metadata } : {}),
    clientId: config.clientId,
    clientAuthenticationMethod: method,
    clientSecret: () => store.secret<{ clientSecret?: string }>('oauth2-credential-provider', row.name)?.clientSecret,
  };
}

/**
 * The token vault's view of the providers and workload identities created through the control-plane API:
 * read from the store at each use (an update applies at once); secrets opened only when used.
 */
export function controlPlaneCredentialProviders(store: ResourceStore): CredentialProviderSource {
  return {
    oauth2(name) {
      const row = store.get<ProviderRow>('oauth2-credential-provider', name);
      return row && oauth2Definition(store, row.body);
    },
    apiKey(name) {
      const row = store.get<ProviderRow>('api-key-credential-provider', name);
      return row && { name, arn: row.body.credentialProviderArn, apiKey: () => store.secret<{ apiKey?: string }>('api-key-credential-provider', name)?.apiKey };
    },
    allowedReturnUrls(workloadName) {
      return store.get<{ allowedResourceOauth2ReturnUrls?: string[] }>('workload-identity', workloadName)?.body.allowedResourceOauth2ReturnUrls;
    },
  };
}
