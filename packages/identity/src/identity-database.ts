import path from 'node:path';
import { openSqlDatabase, type Migration, type SqlDatabase, type SqlExecutor } from '@gatehouse/core';
import { VAULT_SCHEMA } from './vault/vault-store.ts';

/**
 * The identity schema. Times are milliseconds (BIGINT: PostgreSQL's INTEGER is 32 bits). Every statement is
 * idempotent so that migration 1 also adopts an identity.db written before migrations existed.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS pools (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, settings TEXT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT);
CREATE TABLE IF NOT EXISTS clients (
  id TEXT PRIMARY KEY, pool_id TEXT NOT NULL REFERENCES pools(id), name TEXT NOT NULL, secret TEXT, settings TEXT NOT NULL,
  created_at BIGINT NOT NULL, updated_at BIGINT, UNIQUE (pool_id, name));
CREATE TABLE IF NOT EXISTS users (
  pool_id TEXT NOT NULL REFERENCES pools(id), username TEXT NOT NULL, sub TEXT NOT NULL UNIQUE, password_hash TEXT,
  srp_salt TEXT, srp_verifier TEXT, status TEXT NOT NULL, enabled INTEGER NOT NULL DEFAULT 1, attributes TEXT NOT NULL,
  confirmation_code TEXT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, username_key TEXT, PRIMARY KEY (pool_id, username));
CREATE TABLE IF NOT EXISTS groups (
  pool_id TEXT NOT NULL, name TEXT NOT NULL, description TEXT, precedence INTEGER, role_arn TEXT, created_at BIGINT, updated_at BIGINT,
  PRIMARY KEY (pool_id, name));
CREATE TABLE IF NOT EXISTS group_members (pool_id TEXT NOT NULL, group_name TEXT NOT NULL, username TEXT NOT NULL, PRIMARY KEY (pool_id, group_name, username));
CREATE TABLE IF NOT EXISTS signing_keys (
  kid TEXT PRIMARY KEY, pool_id TEXT NOT NULL, purpose TEXT NOT NULL, public_jwk TEXT NOT NULL, private_sealed TEXT NOT NULL,
  created_at BIGINT NOT NULL, retired_at BIGINT);
CREATE TABLE IF NOT EXISTS refresh_tokens (
  token_hash TEXT PRIMARY KEY, family TEXT NOT NULL, pool_id TEXT NOT NULL, client_id TEXT NOT NULL, username TEXT NOT NULL,
  scope TEXT NOT NULL, auth_time BIGINT NOT NULL, expires_at BIGINT NOT NULL, used_at BIGINT, revoked_at BIGINT);
CREATE INDEX IF NOT EXISTS refresh_tokens_family ON refresh_tokens (family);
CREATE INDEX IF NOT EXISTS refresh_tokens_user ON refresh_tokens (pool_id, username);
CREATE TABLE IF NOT EXISTS revoked_origins (origin_jti TEXT PRIMARY KEY, expires_at BIGINT NOT NULL, published INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS access_keys (access_key_id TEXT PRIMARY KEY, secret_access_key TEXT NOT NULL, principal TEXT NOT NULL, created_at BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS authorization_codes (code_hash TEXT PRIMARY KEY, payload TEXT NOT NULL, expires_at BIGINT NOT NULL, used_at BIGINT);
CREATE TABLE IF NOT EXISTS login_sessions (session_hash TEXT PRIMARY KEY, pool_id TEXT NOT NULL, username TEXT NOT NULL, auth_time BIGINT NOT NULL, expires_at BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS user_codes (
  pool_id TEXT NOT NULL, username TEXT NOT NULL, purpose TEXT NOT NULL, code_hash TEXT NOT NULL, expires_at BIGINT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (pool_id, username, purpose));
CREATE TABLE IF NOT EXISTS perimeter_entries (
  resource TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL, effect TEXT NOT NULL, created_at BIGINT NOT NULL,
  PRIMARY KEY (resource, kind, value));
`;

/** Columns an identity.db from before migrations may lack (SQLite only: PostgreSQL databases start at migration 1). */
const LEGACY_COLUMNS: readonly [table: string, column: string, definition: string][] = [
  // 0 until the revocation is in the shared store (redis), so instances that do not share this database learn it.
  ['revoked_origins', 'published', 'INTEGER NOT NULL DEFAULT 0'],
  // The Cognito management API reports these (LastModifiedDate, Precedence, RoleArn); old rows read them as "unknown".
  ['pools', 'updated_at', 'INTEGER'],
  ['clients', 'updated_at', 'INTEGER'],
  ['groups', 'precedence', 'INTEGER'],
  ['groups', 'role_arn', 'TEXT'],
  ['groups', 'created_at', 'INTEGER'],
  ['groups', 'updated_at', 'INTEGER'],
  // The username in its compared form (username-key.ts). NULL for rows written before it existed, until bootstrapPools
  // keys them with their pool's case setting; a row whose key another user already holds stays NULL and is reported.
  ['users', 'username_key', 'TEXT'],
];

async function addLegacyColumns(tx: SqlExecutor): Promise<void> {
  if (tx.engine !== 'sqlite') return;
  for (const [table, column, definition] of LEGACY_COLUMNS) {
    const columns = (await tx.many<{ name: string }>(`PRAGMA table_info(${table})`)).map((entry) => entry.name);
    if (!columns.includes(column)) await tx.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
  }
}

export const IDENTITY_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'pools, clients, users, groups, keys, tokens, codes, perimeter',
    up: async (tx) => {
      await tx.exec(SCHEMA);
      await addLegacyColumns(tx);
      await tx.exec(`CREATE INDEX IF NOT EXISTS revoked_origins_unpublished ON revoked_origins (published) WHERE published = 0;
        CREATE UNIQUE INDEX IF NOT EXISTS users_username_key ON users (pool_id, username_key)`);
    },
  },
  {
    // identity.db files written before this migration may already hold these tables (IF NOT EXISTS adopts them)
    version: 2,
    name: 'token vault: sealed tokens and consent sessions',
    up: (tx) => tx.exec(VAULT_SCHEMA),
  },
];

export function identityDatabaseFile(dataDir: string): string {
  return path.join(dataDir, 'identity.db');
}

/**
 * Opens identity's durable store (`{dataDir}/identity.db`, readable by the owner only since it holds key
 * material, or the shared PostgreSQL database) and applies its migrations.
 */
export async function openIdentityDatabase(options: { readonly dataDir: string; readonly database?: string | undefined }): Promise<SqlDatabase> {
  return openSqlDatabase({ database: options.database, file: identityDatabaseFile(options.dataDir), ownerOnly: true, migrations: { concern: 'identity', list: IDENTITY_MIGRATIONS } });
}
