import { createLogger, type CommandContext, type SqlDatabase } from '@gatehouse/core';
import type { SecretBox } from '../secret-box.ts';
import { configuredProviders } from './configured-providers.ts';
import { TokenVault } from './token-vault.ts';
import { VaultStore } from './vault-store.ts';
import { VAULT_CALLBACK_PATH } from './vault-routes.ts';

/** The token vault of a data dir, for admin verbs (no server): the providers of gatehouse.yaml only. */
export function openTokenVault(context: CommandContext, database: SqlDatabase, box: SecretBox): TokenVault {
  const providers = [configuredProviders(context.config.tokenVault, { region: context.config.region, accountId: context.config.accountId, dataDir: context.dataDir })];
  return new TokenVault({
    store: new VaultStore(database, box),
    providers: () => providers,
    callbackUrl: `${context.baseUrl}${VAULT_CALLBACK_PATH}`,
    consentTimeoutMs: (context.config.tokenVault?.consentTimeoutSeconds ?? 600) * 1000,
    now: Date.now,
    logger: createLogger({ level: 'silent' }),
  });
}
