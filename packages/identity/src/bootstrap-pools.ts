import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, writeFileSync, renameSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { AppClientConfig, UserPoolConfig, Platform } from '@gatehouse/core';
import type { UserStore, ClientSettings, PoolRecord } from './user-store.ts';
import type { KeyStore } from './key-store.ts';
import type { SqlDatabase } from '@gatehouse/core';
import { hashPassword } from './password-hash.ts';
import { createVerifier } from './srp.ts';
import type { AccessKeyStore } from './access-key-store.ts';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const LOWER = 'abcdefghijklmnopqrstuvwxyz0123456789';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function randomString(alphabet: string, length: number): string {
  let out = '';
  for (let index = 0; index < length; index++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

export const newPoolId = (region: string): string => `${region}_${randomString(ALNUM, 9)}`;
export const newClientId = (): string => randomString(LOWER, 26);
export const newClientSecret = (): string => randomString(LOWER, 51);
export const newAccessKeyId = (): string => `AKIA${randomString(UPPER, 16)}`;
export const newSecretAccessKey = (): string => randomBytes(30).toString('base64').replace(/\+/g, 'A').replace(/\//g, 'B');

/** A password that meets Cognito's default policy (upper, lower, digit, symbol, ≥ 8). */
export function newPassword(): string {
  return `${randomString('ABCDEFGHJKLMNPQRSTUVWXYZ', 3)}${randomString('abcdefghijkmnopqrstuvwxyz', 6)}${randomString('23456789', 4)}-${randomString(ALNUM, 6)}`;
}

const UNIT_SECONDS = { seconds: 1, minutes: 60, hours: 3600, days: 86_400 } as const;
const ONE_DAY = 86_400;

export function clientSettings(config: AppClientConfig): ClientSettings {
  const units = config.tokenValidityUnits;
  return {
    explicitAuthFlows: config.explicitAuthFlows,
    allowedOAuthFlows: config.allowedOAuthFlows,
    allowedOAuthScopes: config.allowedOAuthScopes,
    callbackUrls: config.callbackUrls,
    logoutUrls: config.logoutUrls,
    // access and ID tokens are capped at one day as in Cognito, which bounds how long a retired key stays published
    accessTokenSeconds: Math.min(config.accessTokenValidity * UNIT_SECONDS[units.accessToken], ONE_DAY),
    idTokenSeconds: Math.min(config.idTokenValidity * UNIT_SECONDS[units.idToken], ONE_DAY),
    refreshTokenSeconds: config.refreshTokenValidity * UNIT_SECONDS[units.refreshToken],
  };
}

export const DEFAULT_GROUPS = [
  { groupName: 'ops-readonly', description: 'Read access to the operations tools' },
  { groupName: 'ops-readwrite', description: 'Read and write access to the operations tools' },
];

function defaultClient(baseUrl: string): AppClientConfig {
  return {
    clientName: 'web', generateSecret: false,
    // ADMIN_USER_PASSWORD_AUTH needs an admin key's SigV4 signature anyway, so allowing it opens nothing to the public
    explicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_ADMIN_USER_PASSWORD_AUTH'],
    allowedOAuthFlows: ['code'], allowedOAuthScopes: ['openid', 'email', 'profile'],
    callbackUrls: [`${baseUrl}/`], logoutUrls: [`${baseUrl}/`],
    accessTokenValidity: 60, idTokenValidity: 60, refreshTokenValidity: 30,
    tokenValidityUnits: { accessToken: 'minutes', idToken: 'minutes', refreshToken: 'days' },
  };
}

export function poolConfigs(platform: Platform): readonly UserPoolConfig[] {
  const declared = platform.config.identity?.userPools;
  if (declared && declared.length > 0) return declared;
  return [{
    poolName: 'default', signUpEnabled: false, preventUserExistenceErrors: 'ENABLED', usernameConfiguration: { caseSensitive: false },
    groups: DEFAULT_GROUPS, resourceServers: [], clients: [defaultClient(platform.baseUrl)],
  }];
}

export const SERVICE_CLIENTS = { runtime: 'gatehouse-runtime', gateway: 'gatehouse-gateway' } as const;

function serviceClientSettings(): ClientSettings {
  return {
    explicitAuthFlows: [], allowedOAuthFlows: ['token_exchange'], allowedOAuthScopes: [], callbackUrls: [], logoutUrls: [],
    accessTokenSeconds: 3600, idTokenSeconds: 3600, refreshTokenSeconds: 3600,
  };
}

/** Creates or updates every declared pool, its clients, groups, keys and the two service clients; ids are kept by name. */
export async function bootstrapPools(platform: Platform, database: SqlDatabase, users: UserStore, keys: KeyStore): Promise<PoolRecord[]> {
  const pools: PoolRecord[] = [];
  await database.transaction(async () => {
    pools.length = 0; // PostgreSQL may run this again after a serialization conflict
    for (const config of poolConfigs(platform)) {
      const existing = await users.poolByName(config.poolName);
      const id = config.userPoolId ?? existing?.id ?? newPoolId(platform.config.region);
      if (existing && existing.id !== id) throw new Error(`identity: pool "${config.poolName}" already exists with id ${existing.id}; cannot change it to ${id}`);
      const caseSensitive = config.usernameConfiguration.caseSensitive;
      const storedCase = existing && await users.storedCaseSensitivity(existing.id);
      if (storedCase !== undefined && storedCase !== caseSensitive) {
        throw new Error(
          `identity: pool "${config.poolName}" was created with usernameConfiguration.caseSensitive: ${storedCase}; it cannot be changed (as in Cognito). ` +
            `Set it back, or declare a new pool.`,
        );
      }
      await users.upsertPool(id, config.poolName, {
        signUpEnabled: config.signUpEnabled,
        preventUserExistenceErrors: config.preventUserExistenceErrors,
        caseSensitive,
        resourceServers: config.resourceServers.map((server) => ({ identifier: server.identifier, scopes: server.scopes.map((scope) => scope.scopeName) })),
      });
      const groups = pools.length === 0 ? [...DEFAULT_GROUPS, ...config.groups] : config.groups;
      for (const group of groups) await users.ensureGroup(id, group.groupName, group.description);
      for (const client of config.clients) {
        const current = await users.clientByName(id, client.clientName);
        const clientId = client.clientId ?? current?.id ?? newClientId();
        if (current && current.id !== clientId) throw new Error(`identity: client "${client.clientName}" already exists with id ${current.id}; cannot change it to ${clientId}`);
        await users.upsertClient({ id: clientId, poolId: id, name: client.clientName, secret: current?.secret ?? (client.generateSecret ? newClientSecret() : undefined), settings: clientSettings(client) });
      }
      for (const name of Object.values(SERVICE_CLIENTS)) {
        const current = await users.clientByName(id, name);
        await users.upsertClient({ id: current?.id ?? newClientId(), poolId: id, name, secret: current?.secret ?? newClientSecret(), settings: serviceClientSettings() });
      }
      pools.push((await users.poolById(id))!);
    }
    // every stored pool, declared or not (an undeclared one is still served), so no old row is left unkeyed
    for (const pool of await users.listPools()) {
      for (const clash of await users.assignUsernameKeys(pool.id)) {
        platform.logger.warn(
          { pool: pool.name, username: clash.username, clashesWith: clash.clashesWith },
          `identity: users "${clash.username}" and "${clash.clashesWith}" differ only in case or character width; "${clash.clashesWith}" keeps that name ` +
            `in any case, "${clash.username}" signs in only by its exact name until one of them is deleted`,
        );
      }
    }
  });
  for (const pool of pools) await keys.ensureKeys(pool.id);
  return pools;
}

/**
 * First start only: the admin user (in ops-readwrite, signs in at once: no FORCE_CHANGE_PASSWORD) and an admin access key.
 * Returns the one-time password when this call created the user.
 */
export async function bootstrapAdmin(
  database: SqlDatabase, users: UserStore, accessKeys: AccessKeyStore, pool: PoolRecord,
): Promise<{ username: string; password: string } | undefined> {
  if (await users.meta('admin-bootstrapped') === 'yes') return undefined;
  const password = newPassword();
  const passwordHash = await hashPassword(password);
  const srp = createVerifier(pool.id.split('_')[1] ?? '', 'admin', password);
  let created = false;
  await database.transaction(async () => {
    if (await users.meta('admin-bootstrapped') === 'yes') return;
    if (!await users.user(pool.id, 'admin')) {
      await users.createUser(pool.id, { username: 'admin', passwordHash, srpSalt: srp.salt, srpVerifier: srp.verifier, status: 'CONFIRMED', attributes: {} }, ['ops-readwrite']);
      created = true;
    }
    await accessKeys.create('admin');
    await users.setMeta('admin-bootstrapped', 'yes');
  });
  return created ? { username: 'admin', password } : undefined;
}

/** (Re)writes `{dataDir}/admin-credentials` from the stored admin key; atomic rename, mode 0600. */
export async function writeAdminCredentials(dataDir: string, accessKeys: AccessKeyStore, region: string): Promise<string> {
  const file = path.join(dataDir, 'admin-credentials');
  const key = await accessKeys.firstFor('admin');
  if (!key) return file;
  if (existsSync(file)) return file;
  mkdirSync(dataDir, { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `[default]\naws_access_key_id = ${key.accessKeyId}\naws_secret_access_key = ${key.secretAccessKey}\nregion = ${region}\n`, { mode: 0o600 });
  renameSync(temporary, file);
  return file;
}
