import path from 'node:path';
import { openPrivateDatabase, type Database } from '@gatehouse/core';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS pools (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, settings TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS clients (
  id TEXT PRIMARY KEY, pool_id TEXT NOT NULL REFERENCES pools(id), name TEXT NOT NULL, secret TEXT, settings TEXT NOT NULL,
  created_at INTEGER NOT NULL, UNIQUE (pool_id, name));
CREATE TABLE IF NOT EXISTS users (
  pool_id TEXT NOT NULL REFERENCES pools(id), username TEXT NOT NULL, sub TEXT NOT NULL UNIQUE, password_hash TEXT,
  srp_salt TEXT, srp_verifier TEXT, status TEXT NOT NULL, enabled INTEGER NOT NULL DEFAULT 1, attributes TEXT NOT NULL,
  confirmation_code TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (pool_id, username));
CREATE TABLE IF NOT EXISTS groups (pool_id TEXT NOT NULL, name TEXT NOT NULL, description TEXT, PRIMARY KEY (pool_id, name));
CREATE TABLE IF NOT EXISTS group_members (pool_id TEXT NOT NULL, group_name TEXT NOT NULL, username TEXT NOT NULL, PRIMARY KEY (pool_id, group_name, username));
CREATE TABLE IF NOT EXISTS signing_keys (
  kid TEXT PRIMARY KEY, pool_id TEXT NOT NULL, purpose TEXT NOT NULL, public_jwk TEXT NOT NULL, private_sealed TEXT NOT NULL,
  created_at INTEGER NOT NULL, retired_at INTEGER);
CREATE TABLE IF NOT EXISTS refresh_tokens (
  token_hash TEXT PRIMARY KEY, family TEXT NOT NULL, pool_id TEXT NOT NULL, client_id TEXT NOT NULL, username TEXT NOT NULL,
  scope TEXT NOT NULL, auth_time INTEGER NOT NULL, expires_at INTEGER NOT NULL, used_at INTEGER, revoked_at INTEGER);
CREATE INDEX IF NOT EXISTS refresh_tokens_family ON refresh_tokens (family);
CREATE INDEX IF NOT EXISTS refresh_tokens_user ON refresh_tokens (pool_id, username);
CREATE TABLE IF NOT EXISTS revoked_origins (origin_jti TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS access_keys (access_key_id TEXT PRIMARY KEY, secret_access_key TEXT NOT NULL, principal TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS authorization_codes (code_hash TEXT PRIMARY KEY, payload TEXT NOT NULL, expires_at INTEGER NOT NULL, used_at INTEGER);
CREATE TABLE IF NOT EXISTS login_sessions (session_hash TEXT PRIMARY KEY, pool_id TEXT NOT NULL, username TEXT NOT NULL, auth_time INTEGER NOT NULL, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS user_codes (
  pool_id TEXT NOT NULL, username TEXT NOT NULL, purpose TEXT NOT NULL, code_hash TEXT NOT NULL, expires_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (pool_id, username, purpose));
`;

export function identityDatabaseFile(dataDir: string): string {
  return path.join(dataDir, 'identity.db');
}

/** Opens `{dataDir}/identity.db`, creates the schema, and keeps the files readable by the owner only (they hold key material). */
export function openIdentityDatabase(dataDir: string): Database {
  const file = identityDatabaseFile(dataDir);
  const database = openPrivateDatabase(file);
  database.exec(SCHEMA);
  migrate(database);
  return database;
}

/** Columns added after the first release; each step is idempotent so old data dirs open unchanged. */
function migrate(database: Database): void {
  // 0 until the revocation is in the shared store (redis), so instances that do not share this file learn it.
  addColumn(database, 'revoked_origins', 'published', 'INTEGER NOT NULL DEFAULT 0');
  database.exec('CREATE INDEX IF NOT EXISTS revoked_origins_unpublished ON revoked_origins (published) WHERE published = 0');
  // The Cognito management API reports these (LastModifiedDate, Precedence, RoleArn); old rows read them as "unknown".
  addColumn(database, 'pools', 'updated_at', 'INTEGER');
  addColumn(database, 'clients', 'updated_at', 'INTEGER');
  addColumn(database, 'groups', 'precedence', 'INTEGER');
  addColumn(database, 'groups', 'role_arn', 'TEXT');
  addColumn(database, 'groups', 'created_at', 'INTEGER');
  addColumn(database, 'groups', 'updated_at', 'INTEGER');
  // The username in its compared form (username-key.ts). NULL for rows written before it existed, until bootstrapPools
  // keys them with their pool's case setting; a row whose key another user already holds stays NULL and is reported.
  addColumn(database, 'users', 'username_key', 'TEXT');
  database.exec('CREATE UNIQUE INDEX IF NOT EXISTS users_username_key ON users (pool_id, username_key)');
}

function addColumn(database: Database, table: string, column: string, definition: string): void {
  const columns = (database.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((entry) => entry.name);
  if (!columns.includes(column)) database.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
}
