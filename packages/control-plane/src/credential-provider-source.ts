import { vendorEndpoints, type CredentialProviderSource, type OAuth2ProviderDefinition } from '@gatehouse/core';
import type { ResourceStore } from './resource-store.ts';

interface ProviderRow {
  readonly name: string;
  readonly credentialProviderArn: string;
  readonly credentialProviderVendor?: string;
  readonly oauth2ProviderConfigOutput?: Record<string, Record<string, unknown>>;
}

type Metadata = NonNullable<OAuth2ProviderDefinition['metadata']>;

/** What the token vault reads of the store, loaded at once (the vault asks synchronously). */
interface Snapshot {
  readonly oauth2: ReadonlyMap<string, OAuth2ProviderDefinition>;
  readonly apiKey: ReadonlyMap<string, { name: string; arn: string; apiKey: () => string | undefined }>;
  readonly returnUrls: ReadonlyMap<string, readonly string[] | undefined>;
}

function oauth2Definition(row: ProviderRow, clientSecret: string | undefined): OAuth2ProviderDefinition | undefined {
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
    clientSecret: () => clientSecret,
  };
}

/** A provider's sealed secret; undefined when it does not open (sealed under another key): the provider then has none. */
async function secretOf<T>(store: ResourceStore, kind: 'oauth2-credential-provider' | 'api-key-credential-provider', id: string): Promise<T | undefined> {
  try {
    return await store.secret<T>(kind, id);
  } catch {
    return undefined;
  }
}

async function loadSnapshot(store: ResourceStore): Promise<Snapshot> {
  const oauth2 = new Map<string, OAuth2ProviderDefinition>();
  for (const row of await store.list<ProviderRow>('oauth2-credential-provider')) {
    const secret = await secretOf<{ clientSecret?: string }>(store, 'oauth2-credential-provider', row.id);
    const definition = oauth2Definition(row.body, secret?.clientSecret);
    if (definition) oauth2.set(row.id, definition);
  }
  const apiKey = new Map<string, { name: string; arn: string; apiKey: () => string | undefined }>();
  for (const row of await store.list<ProviderRow>('api-key-credential-provider')) {
    const secret = await secretOf<{ apiKey?: string }>(store, 'api-key-credential-provider', row.id);
    apiKey.set(row.id, { name: row.id, arn: row.body.credentialProviderArn, apiKey: () => secret?.apiKey });
  }
  const returnUrls = new Map<string, readonly string[] | undefined>();
  for (const row of await store.list<{ allowedResourceOauth2ReturnUrls?: string[] }>('workload-identity')) returnUrls.set(row.id, row.body.allowedResourceOauth2ReturnUrls);
  return { oauth2, apiKey, returnUrls };
}

export interface ControlPlaneCredentialProviders extends CredentialProviderSource {
  /** Reloads from the store: after this instance's own changes and after another instance's commits. */
  refresh(): Promise<void>;
}

/**
 * The token vault's view of the providers and workload identities created through the control-plane API.
 * The vault asks synchronously and the store is async (it may be PostgreSQL shared by several instances), so
 * this is a snapshot the control plane reloads after each of its own changes and each change it follows.
 */
export function controlPlaneCredentialProviders(store: ResourceStore): ControlPlaneCredentialProviders {
  let snapshot: Snapshot = { oauth2: new Map(), apiKey: new Map(), returnUrls: new Map() };
  return {
    async refresh() {
      snapshot = await loadSnapshot(store);
    },
    oauth2: (name) => snapshot.oauth2.get(name),
    apiKey: (name) => snapshot.apiKey.get(name),
    allowedReturnUrls: (workloadName) => snapshot.returnUrls.get(workloadName),
  };
}
