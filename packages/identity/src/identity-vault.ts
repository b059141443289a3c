import type { CredentialProviderSource, Logger, Platform } from '@gatehouse/core';
import type { UserStore } from './user-store.ts';
import type { SecretBox } from './secret-box.ts';
import type { IdentityStores } from './identity-stores.ts';
import { configuredProviders } from './vault/configured-providers.ts';
import { TokenVault } from './vault/token-vault.ts';
import { VaultStore } from './vault/vault-store.ts';
import { VAULT_CALLBACK_PATH } from './vault/vault-routes.ts';

export interface IdentityVault {
  readonly vault: TokenVault;
  readonly vaultStore: VaultStore;
  /** gatehouse.yaml's providers first; the control-plane API adds its own source later. */
  readonly providerSources: CredentialProviderSource[];
}

/** The token vault over identity's database, with the providers declared in gatehouse.yaml. */
export function createIdentityVault(platform: Platform, { database, box }: { database: IdentityStores['database']; box: SecretBox }, logger: Logger): IdentityVault {
  const vaultStore = new VaultStore(database, box);
  const providerSources: CredentialProviderSource[] = [
    configuredProviders(platform.config.tokenVault, { region: platform.config.region, accountId: platform.config.accountId, dataDir: platform.dataDir }),
  ];
  const vault = new TokenVault({
    store: vaultStore,
    providers: () => providerSources,
    callbackUrl: `${platform.baseUrl}${VAULT_CALLBACK_PATH}`,
    consentTimeoutMs: (platform.config.tokenVault?.consentTimeoutSeconds ?? 600) * 1000,
    now: platform.clock,
    logger: logger.child({ part: 'token-vault' }),
  });
  return { vault, vaultStore, providerSources };
}

export interface SignOutForgetting {
  readonly platform: Platform;
  readonly users: UserStore;
  readonly vault: TokenVault;
  readonly logger: Logger;
  issuer(poolId: string): string;
}

/** tokenVault.revokeOnSignOut: a user's SaaS tokens go with their Gatehouse sign-out (best effort at the SaaS). */
export async function forgetVaultTokens(parts: SignOutForgetting, poolId: string, username: string): Promise<void> {
  const { platform, users, vault, logger } = parts;
  if (!platform.config.tokenVault?.revokeOnSignOut) return;
  const user = await users.user(poolId, username);
  if (!user) return;
  const count = await vault.disconnect({ iss: parts.issuer(poolId), sub: user.sub }).catch((error: unknown) => {
    logger.warn({ code: error instanceof Error ? error.name : 'Error' }, 'token vault: forgetting tokens at sign-out failed');
    return 0;
  });
  if (count > 0) logger.info({ count }, 'token vault: SaaS tokens forgotten at sign-out');
}
