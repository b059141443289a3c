import type { Platform } from '@gatehouse/core';
import { openIdentityDatabase } from './identity-database.ts';
import { SecretBox } from './secret-box.ts';
import { UserStore } from './user-store.ts';
import { KeyStore } from './key-store.ts';
import { TokenStore } from './token-store.ts';
import { AccessKeyStore } from './access-key-store.ts';

/** Identity's database with the sealer and the stores every other part is built on. */
export interface IdentityStores {
  readonly database: Awaited<ReturnType<typeof openIdentityDatabase>>;
  readonly box: SecretBox;
  readonly users: UserStore;
  readonly keys: KeyStore;
  readonly tokens: TokenStore;
  readonly accessKeys: AccessKeyStore;
}

/** Opens identity.db (or PostgreSQL) and the sealer; a sealer that cannot be opened closes the database again. */
export async function openIdentityStores(platform: Platform, env: NodeJS.ProcessEnv | undefined): Promise<IdentityStores> {
  const now = platform.clock;
  const database = await openIdentityDatabase({ dataDir: platform.dataDir, database: platform.config.database });
  let box: SecretBox;
  try {
    box = await SecretBox.forDatabase(platform.dataDir, database, env);
  } catch (error) {
    await database.close();
    throw error;
  }
  return {
    database,
    box,
    users: new UserStore(database, now),
    keys: new KeyStore(database, box, now),
    tokens: new TokenStore(database, now),
    accessKeys: new AccessKeyStore(database, box, now),
  };
}
