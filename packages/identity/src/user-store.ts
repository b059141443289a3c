import { randomUUID } from 'node:crypto';
import type { Database } from '@gatehouse/core';
import { inTransaction } from './in-transaction.ts';
import { usernameKey } from './username-key.ts';

export interface PoolSettings {
  readonly signUpEnabled: boolean;
  readonly preventUserExistenceErrors: 'ENABLED' | 'LEGACY';
  /** Cognito's UsernameConfiguration.CaseSensitive; fixed once the pool exists. */
  readonly caseSensitive: boolean;
  readonly resourceServers: readonly { identifier: string; scopes: readonly string[] }[];
  /** A pool made by the management API: its CreateUserPool/UpdateUserPool fields as sent, echoed by DescribeUserPool. */
  readonly cognito?: Readonly<Record<string, unknown>>;
}

export interface PoolRecord {
  readonly id: string;
  readonly name: string;
  readonly settings: PoolSettings;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface ClientSettings {
  readonly explicitAuthFlows: readonly string[];
  readonly allowedOAuthFlows: readonly string[];
  readonly allowedOAuthScopes: readonly string[];
  readonly callbackUrls: readonly string[];
  readonly logoutUrls: readonly string[];
  readonly accessTokenSeconds: number;
  readonly idTokenSeconds: number;
  readonly refreshTokenSeconds: number;
  /** Per-client PreventUserExistenceErrors (management API); the pool's setting applies when absent. */
  readonly preventUserExistenceErrors?: 'ENABLED' | 'LEGACY';
  /** A client made or changed by the management API: the fields it echoes (validities and their units as sent, and so on). */
  readonly cognito?: Readonly<Record<string, unknown>>;
}

export interface ClientRecord {
  readonly id: string;
  readonly poolId: string;
  readonly name: string;
  readonly secret: string | undefined;
  readonly settings: ClientSettings;
  readonly createdAt?: number;
  readonly updatedAt?: number;
}

/** RESET_REQUIRED: AdminResetUserPassword deactivated the password; only ConfirmForgotPassword with the code restores access. */
export type UserStatus = 'CONFIRMED' | 'UNCONFIRMED' | 'FORCE_CHANGE_PASSWORD' | 'RESET_REQUIRED';

export interface UserRecord {
  readonly poolId: string;
  readonly username: string;
  readonly sub: string;
  readonly passwordHash: string | undefined;
  readonly srpSalt: string | undefined;
  readonly srpVerifier: string | undefined;
  readonly status: UserStatus;
  readonly enabled: boolean;
  readonly attributes: Readonly<Record<string, string>>;
  readonly confirmationCode: string | undefined;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface NewUser {
  readonly username: string;
  readonly passwordHash: string | undefined;
  readonly srpSalt: string | undefined;
  readonly srpVerifier: string | undefined;
  readonly status: UserStatus;
  readonly attributes: Readonly<Record<string, string>>;
  readonly confirmationCode?: string | undefined;
}

type Row = Record<string, unknown>;
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

export function toUser(row: Row): UserRecord {
  return {
    poolId: String(row.pool_id),
    username: String(row.username),
    sub: String(row.sub),
    passwordHash: text(row.password_hash),
    srpSalt: text(row.srp_salt),
    srpVerifier: text(row.srp_verifier),
    status: String(row.status) as UserStatus,
    enabled: Number(row.enabled) === 1,
    attributes: JSON.parse(String(row.attributes)) as Record<string, string>,
    confirmationCode: text(row.confirmation_code),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function toClient(row: Row): ClientRecord {
  return {
    id: String(row.id), poolId: String(row.pool_id), name: String(row.name), secret: text(row.secret), settings: JSON.parse(String(row.settings)) as ClientSettings,
    createdAt: Number(row.created_at), updatedAt: Number(row.updated_at ?? row.created_at),
  };
}

/** A pool saved before the case setting existed reads as case-insensitive (the default). */
function toPool(row: Row): PoolRecord {
  const settings = JSON.parse(String(row.settings)) as Partial<PoolSettings> & Omit<PoolSettings, 'caseSensitive'>;
  return {
    id: String(row.id), name: String(row.name), settings: { ...settings, caseSensitive: settings.caseSensitive ?? false },
    createdAt: Number(row.created_at), updatedAt: Number(row.updated_at ?? row.created_at),
  };
}

export class PoolNameTakenError extends Error {
  readonly code = 'PoolNameTaken';
}

export class UsernameTakenError extends Error {
  readonly code = 'UsernameTaken';
}

/** Users stored before usernames were compared case- and width-insensitively that now look the same as an older one. */
export interface UsernameClash {
  readonly username: string;
  readonly clashesWith: string;
}

/** Pools, app clients, users and groups in identity.db. */
export class UserStore {
  readonly #database: Database;
  readonly #now: () => number;
  constructor(database: Database, now: () => number) {
    this.#database = database;
    this.#now = now;
  }

  poolByName(name: string): PoolRecord | undefined {
    const row = this.#database.prepare('SELECT * FROM pools WHERE name = ?').get(name) as Row | undefined;
    return row && toPool(row);
  }
  poolById(id: string): PoolRecord | undefined {
    const row = this.#database.prepare('SELECT * FROM pools WHERE id = ?').get(id) as Row | undefined;
    return row && toPool(row);
  }
  listPools(): PoolRecord[] {
    return (this.#database.prepare('SELECT * FROM pools ORDER BY created_at').all() as Row[]).map(toPool);
  }
  /** The case setting as stored; undefined for a pool saved before the setting existed. */
  storedCaseSensitivity(id: string): boolean | undefined {
    const row = this.#database.prepare("SELECT json_extract(settings, '$.caseSensitive') AS value FROM pools WHERE id = ?").get(id) as Row | undefined;
    return row?.value === null || row?.value === undefined ? undefined : Number(row.value) === 1;
  }
  upsertPool(id: string, name: string, settings: PoolSettings): void {
    this.#database
      .prepare('INSERT INTO pools (id, name, settings, created_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET settings = excluded.settings')
      .run(id, name, JSON.stringify(settings), this.#now(), this.#now());
  }
  /** Renames and reconfigures a pool; names stay unique (the configuration matches pools by name). */
  updatePool(id: string, name: string, settings: PoolSettings): void {
    inTransaction(this.#database, () => {
      const other = this.poolByName(name);
      if (other && other.id !== id) throw new PoolNameTakenError(`A user pool named ${name} already exists`);
      this.#database.prepare('UPDATE pools SET name = ?, settings = ?, updated_at = ? WHERE id = ?').run(name, JSON.stringify(settings), this.#now(), id);
    });
  }
  /** Creates a pool unless its name is taken. */
  createPool(id: string, name: string, settings: PoolSettings): PoolRecord {
    return inTransaction(this.#database, () => {
      if (this.poolByName(name)) throw new PoolNameTakenError(`A user pool named ${name} already exists`);
      this.upsertPool(id, name, settings);
      return this.poolById(id)!;
    });
  }
  /** Everything the pool owns goes with it: clients, users, groups, signing keys, codes and sign-ins. */
  deletePool(id: string): void {
    inTransaction(this.#database, () => {
      for (const table of ['group_members', 'groups', 'users', 'user_codes', 'signing_keys', 'login_sessions', 'refresh_tokens']) {
        this.#database.prepare(`DELETE FROM ${table} WHERE pool_id = ?`).run(id);
      }
      this.#database.prepare('DELETE FROM clients WHERE pool_id = ?').run(id);
      this.#database.prepare('DELETE FROM pools WHERE id = ?').run(id);
    });
  }

  clientById(id: string): ClientRecord | undefined {
    const row = this.#database.prepare('SELECT * FROM clients WHERE id = ?').get(id) as Row | undefined;
    return row && toClient(row);
  }
  clientByName(poolId: string, name: string): ClientRecord | undefined {
    const row = this.#database.prepare('SELECT * FROM clients WHERE pool_id = ? AND name = ?').get(poolId, name) as Row | undefined;
    return row && toClient(row);
  }
  listClients(poolId: string): ClientRecord[] {
    return (this.#database.prepare('SELECT * FROM clients WHERE pool_id = ? ORDER BY created_at, name').all(poolId) as Row[]).map(toClient);
  }
  upsertClient(client: ClientRecord): void {
    this.#database
      .prepare(
        'INSERT INTO clients (id, pool_id, name, secret, settings, created_at) VALUES (?, ?, ?, ?, ?, ?) ' +
          'ON CONFLICT(id) DO UPDATE SET settings = excluded.settings, secret = COALESCE(clients.secret, excluded.secret)',
      )
      .run(client.id, client.poolId, client.name, client.secret ?? null, JSON.stringify(client.settings), this.#now());
  }
  /** UpdateUserPoolClient: new name and settings (the secret never changes). */
  updateClient(id: string, name: string, settings: ClientSettings): void {
    this.#database.prepare('UPDATE clients SET name = ?, settings = ?, updated_at = ? WHERE id = ?').run(name, JSON.stringify(settings), this.#now(), id);
  }
  deleteClient(id: string): void {
    this.#database.prepare('DELETE FROM clients WHERE id = ?').run(id);
  }

  #caseSensitive(poolId: string): boolean {
    return this.poolById(poolId)?.settings.caseSensitive ?? false;
  }
  /**
   * The user a typed username means: the exact stored name first, else the one whose compared form matches
   * (`Admin` and `ａｄｍｉｎ` find `admin` unless the pool is case-sensitive; width always folds).
   */
  user(poolId: string, username: string): UserRecord | undefined {
    const exact = this.#database.prepare('SELECT * FROM users WHERE pool_id = ? AND username = ?').get(poolId, username) as Row | undefined;
    if (exact) return toUser(exact);
    const row = this.#database.prepare('SELECT * FROM users WHERE pool_id = ? AND username_key = ?').get(poolId, usernameKey(username, this.#caseSensitive(poolId))) as Row | undefined;
    return row && toUser(row);
  }
  /** Users sign in by username or by an email alias; the username wins when both match. */
  findUser(poolId: string, login: string): UserRecord | undefined {
    const byName = this.user(poolId, login);
    if (byName) return byName;
    const row = this.#database
      .prepare("SELECT * FROM users WHERE pool_id = ? AND json_extract(attributes, '$.email') = ? AND json_extract(attributes, '$.email_verified') = 'true'")
      .get(poolId, login) as Row | undefined;
    return row && toUser(row);
  }
  /** One batch in username order after `after` (keyset paging: stable while users come and go). */
  usersAfter(poolId: string, after: string | undefined, limit: number): UserRecord[] {
    return (this.#database.prepare('SELECT * FROM users WHERE pool_id = ? AND username > ? ORDER BY username LIMIT ?').all(poolId, after ?? '', limit) as Row[]).map(toUser);
  }
  countUsers(poolId: string): number {
    return Number((this.#database.prepare('SELECT COUNT(*) AS count FROM users WHERE pool_id = ?').get(poolId) as Row).count);
  }
  /** The other user (if any) who signs in with this e-mail address as a verified alias. */
  verifiedEmailOwner(poolId: string, email: string, except: string): UserRecord | undefined {
    const row = this.#database
      .prepare("SELECT * FROM users WHERE pool_id = ? AND username <> ? AND json_extract(attributes, '$.email') = ? AND json_extract(attributes, '$.email_verified') = 'true'")
      .get(poolId, except, email) as Row | undefined;
    return row && toUser(row);
  }
  setConfirmationCode(poolId: string, username: string, code: string): void {
    this.#database.prepare('UPDATE users SET confirmation_code = ?, updated_at = ? WHERE pool_id = ? AND username = ?').run(code, this.#now(), poolId, username);
  }
  listUsers(poolId: string, limit = 60): UserRecord[] {
    return (this.#database.prepare('SELECT * FROM users WHERE pool_id = ? ORDER BY username LIMIT ?').all(poolId, limit) as Row[]).map(toUser);
  }
  createUser(poolId: string, user: NewUser, groups: readonly string[] = []): UserRecord {
    const now = this.#now();
    const sub = randomUUID();
    inTransaction(this.#database, () => {
      if (this.user(poolId, user.username)) throw new UsernameTakenError(`User ${user.username} already exists`);
      this.#database
        .prepare(
          'INSERT INTO users (pool_id, username, username_key, sub, password_hash, srp_salt, srp_verifier, status, enabled, attributes, confirmation_code, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)',
        )
        .run(poolId, user.username, usernameKey(user.username, this.#caseSensitive(poolId)), sub, user.passwordHash ?? null, user.srpSalt ?? null, user.srpVerifier ?? null, user.status,
          JSON.stringify({ ...user.attributes, sub }), user.confirmationCode ?? null, now, now);
      for (const group of groups) this.#addToGroup(poolId, group, user.username);
    });
    return this.user(poolId, user.username)!;
  }
  /**
   * Gives rows stored before usernames had a compared form their key, oldest first. A row whose key an older
   * user already holds is not merged: it keeps signing in by its exact name only and is returned, to be reported.
   */
  assignUsernameKeys(poolId: string): UsernameClash[] {
    const caseSensitive = this.#caseSensitive(poolId);
    const clashes: UsernameClash[] = [];
    inTransaction(this.#database, () => {
      const pending = this.#database.prepare('SELECT username FROM users WHERE pool_id = ? AND username_key IS NULL ORDER BY created_at, rowid').all(poolId) as Row[];
      for (const row of pending) {
        const username = String(row.username);
        const key = usernameKey(username, caseSensitive);
        const holder = this.#database.prepare('SELECT username FROM users WHERE pool_id = ? AND username_key = ?').get(poolId, key) as Row | undefined;
        if (holder) clashes.push({ username, clashesWith: String(holder.username) });
        else this.#database.prepare('UPDATE users SET username_key = ? WHERE pool_id = ? AND username = ?').run(key, poolId, username);
      }
    });
    return clashes;
  }
  /** New password secrets and status, and optionally new attributes, written together. */
  setPassword(
    poolId: string, username: string, secret: { passwordHash: string; srpSalt: string; srpVerifier: string }, status: UserStatus,
    attributes?: Readonly<Record<string, string>>,
  ): boolean {
    return inTransaction(this.#database, () => {
      const result = this.#database
        .prepare('UPDATE users SET password_hash = ?, srp_salt = ?, srp_verifier = ?, status = ?, updated_at = ? WHERE pool_id = ? AND username = ?')
        .run(secret.passwordHash, secret.srpSalt, secret.srpVerifier, status, this.#now(), poolId, username);
      if (attributes) this.updateAttributes(poolId, username, { ...attributes });
      return Number(result.changes) > 0;
    });
  }
  setStatus(poolId: string, username: string, status: UserStatus): void {
    this.#database.prepare('UPDATE users SET status = ?, confirmation_code = NULL, updated_at = ? WHERE pool_id = ? AND username = ?').run(status, this.#now(), poolId, username);
  }
  setEnabled(poolId: string, username: string, enabled: boolean): boolean {
    const result = this.#database.prepare('UPDATE users SET enabled = ?, updated_at = ? WHERE pool_id = ? AND username = ?').run(enabled ? 1 : 0, this.#now(), poolId, username);
    return Number(result.changes) > 0;
  }
  updateAttributes(poolId: string, username: string, attributes: Record<string, string>): void {
    this.#database.prepare('UPDATE users SET attributes = ?, updated_at = ? WHERE pool_id = ? AND username = ?').run(JSON.stringify(attributes), this.#now(), poolId, username);
  }
  deleteUser(poolId: string, username: string): boolean {
    return inTransaction(this.#database, () => {
      this.#database.prepare('DELETE FROM group_members WHERE pool_id = ? AND username = ?').run(poolId, username);
      this.#database.prepare('DELETE FROM user_codes WHERE pool_id = ? AND username = ?').run(poolId, username);
      this.#database.prepare('UPDATE refresh_tokens SET revoked_at = ? WHERE pool_id = ? AND username = ? AND revoked_at IS NULL').run(this.#now(), poolId, username);
      return Number(this.#database.prepare('DELETE FROM users WHERE pool_id = ? AND username = ?').run(poolId, username).changes) > 0;
    });
  }

  ensureGroup(poolId: string, name: string, description?: string): void {
    this.#database.prepare('INSERT OR IGNORE INTO groups (pool_id, name, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?)').run(poolId, name, description ?? null, this.#now(), this.#now());
  }
  groupExists(poolId: string, name: string): boolean {
    return this.#database.prepare('SELECT 1 FROM groups WHERE pool_id = ? AND name = ?').get(poolId, name) !== undefined;
  }
  #addToGroup(poolId: string, group: string, username: string): void {
    this.#database.prepare('INSERT OR IGNORE INTO group_members (pool_id, group_name, username) VALUES (?, ?, ?)').run(poolId, group, username);
  }
  addToGroup(poolId: string, group: string, username: string): void {
    this.#addToGroup(poolId, group, username);
  }
  groupsOf(poolId: string, username: string): string[] {
    return (this.#database.prepare('SELECT group_name FROM group_members WHERE pool_id = ? AND username = ? ORDER BY group_name').all(poolId, username) as Row[]).map((row) =>
      String(row.group_name),
    );
  }

  meta(key: string): string | undefined {
    const row = this.#database.prepare('SELECT value FROM meta WHERE key = ?').get(key) as Row | undefined;
    return row ? String(row.value) : undefined;
  }
  /** The stored value, or `create()`'s stored first: concurrent first calls (several instances) all read the same one. */
  metaOrCreate(key: string, create: () => string): string {
    const stored = this.meta(key);
    if (stored !== undefined) return stored;
    this.#database.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run(key, create());
    return this.meta(key)!;
  }
  setMeta(key: string, value: string): void {
    this.#database.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }
}
