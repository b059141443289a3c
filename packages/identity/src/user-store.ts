import { randomUUID } from 'node:crypto';
import type { SqlDatabase } from '@gatehouse/core';
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
/** What a password change writes together: the new secrets, the status, and optionally new attributes. */
export interface PasswordChange {
  readonly secret: { passwordHash: string; srpSalt: string; srpVerifier: string };
  readonly status: UserStatus;
  readonly attributes?: Readonly<Record<string, string>> | undefined;
}

export class UserStore {
  readonly #database: SqlDatabase;
  readonly #now: () => number;
  constructor(database: SqlDatabase, now: () => number) {
    this.#database = database;
    this.#now = now;
  }

  /** A top-level field of a JSON text column, as text. The field name is a constant of this file, never input. */
  #json(column: string, field: string): string {
    return this.#database.engine === 'postgres' ? `(${column}::jsonb ->> '${field}')` : `json_extract(${column}, '$.${field}')`;
  }

  async poolByName(name: string): Promise<PoolRecord | undefined> {
    const row = (await this.#database.one('SELECT * FROM pools WHERE name = ?', [name])) as Row | undefined;
    return row && toPool(row);
  }
  async poolById(id: string): Promise<PoolRecord | undefined> {
    const row = (await this.#database.one('SELECT * FROM pools WHERE id = ?', [id])) as Row | undefined;
    return row && toPool(row);
  }
  async listPools(): Promise<PoolRecord[]> {
    return ((await this.#database.many('SELECT * FROM pools ORDER BY created_at')) as Row[]).map(toPool);
  }
  /** The case setting as stored; undefined for a pool saved before the setting existed. */
  async storedCaseSensitivity(id: string): Promise<boolean | undefined> {
    const row = (await this.#database.one(`SELECT ${this.#json('settings', 'caseSensitive')} AS value FROM pools WHERE id = ?`, [id])) as Row | undefined;
    // SQLite's json_extract gives 1/0 for a JSON boolean, PostgreSQL's ->> gives 'true'/'false'
    return row?.value === null || row?.value === undefined ? undefined : row.value === 'true' || Number(row.value) === 1;
  }
  async upsertPool(id: string, name: string, settings: PoolSettings): Promise<void> {
    await this.#database.run('INSERT INTO pools (id, name, settings, created_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET settings = excluded.settings', [id, name, JSON.stringify(settings), this.#now(), this.#now()]);
  }
  /** Renames and reconfigures a pool; names stay unique (the configuration matches pools by name). */
  async updatePool(id: string, name: string, settings: PoolSettings): Promise<void> {
    await this.#database.transaction(async () => {
      const other = await this.poolByName(name);
      if (other && other.id !== id) throw new PoolNameTakenError(`A user pool named ${name} already exists`);
      await this.#database.run('UPDATE pools SET name = ?, settings = ?, updated_at = ? WHERE id = ?', [name, JSON.stringify(settings), this.#now(), id]);
    });
  }
  /** Creates a pool unless its name is taken. */
  async createPool(id: string, name: string, settings: PoolSettings): Promise<PoolRecord> {
    return this.#database.transaction(async () => {
      if (await this.poolByName(name)) throw new PoolNameTakenError(`A user pool named ${name} already exists`);
      await this.upsertPool(id, name, settings);
      return (await this.poolById(id))!;
    });
  }
  /** Everything the pool owns goes with it: clients, users, groups, signing keys, codes and sign-ins. */
  async deletePool(id: string): Promise<void> {
    await this.#database.transaction(async () => {
      for (const table of ['group_members', 'groups', 'users', 'user_codes', 'signing_keys', 'login_sessions', 'refresh_tokens']) {
        await this.#database.run(`DELETE FROM ${table} WHERE pool_id = ?`, [id]);
      }
      await this.#database.run('DELETE FROM clients WHERE pool_id = ?', [id]);
      await this.#database.run('DELETE FROM pools WHERE id = ?', [id]);
    });
  }

  async clientById(id: string): Promise<ClientRecord | undefined> {
    const row = (await this.#database.one('SELECT * FROM clients WHERE id = ?', [id])) as Row | undefined;
    return row && toClient(row);
  }
  async clientByName(poolId: string, name: string): Promise<ClientRecord | undefined> {
    const row = (await this.#database.one('SELECT * FROM clients WHERE pool_id = ? AND name = ?', [poolId, name])) as Row | undefined;
    return row && toClient(row);
  }
  async listClients(poolId: string): Promise<ClientRecord[]> {
    return ((await this.#database.many('SELECT * FROM clients WHERE pool_id = ? ORDER BY created_at, name', [poolId])) as Row[]).map(toClient);
  }
  async upsertClient(client: ClientRecord): Promise<void> {
    (await this.#database.run('INSERT INTO clients (id, pool_id, name, secret, settings, created_at) VALUES (?, ?, ?, ?, ?, ?) ' +
          'ON CONFLICT(id) DO UPDATE SET settings = excluded.settings, secret = COALESCE(clients.secret, excluded.secret)', [client.id, client.poolId, client.name, client.secret ?? null, JSON.stringify(client.settings), this.#now()]));
  }
  /** UpdateUserPoolClient: new name and settings (the secret never changes). */
  async updateClient(id: string, name: string, settings: ClientSettings): Promise<void> {
    await this.#database.run('UPDATE clients SET name = ?, settings = ?, updated_at = ? WHERE id = ?', [name, JSON.stringify(settings), this.#now(), id]);
  }
  async deleteClient(id: string): Promise<void> {
    await this.#database.run('DELETE FROM clients WHERE id = ?', [id]);
  }

  async #caseSensitive(poolId: string): Promise<boolean> {
    return (await this.poolById(poolId))?.settings.caseSensitive ?? false;
  }
  /**
   * The user a typed username means: the exact stored name first, else the one whose compared form matches
   * (`Admin` and `ａｄｍｉｎ` find `admin` unless the pool is case-sensitive; width always folds).
   */
  async user(poolId: string, username: string): Promise<UserRecord | undefined> {
    const exact = (await this.#database.one('SELECT * FROM users WHERE pool_id = ? AND username = ?', [poolId, username])) as Row | undefined;
    if (exact) return toUser(exact);
    const row = (await this.#database.one('SELECT * FROM users WHERE pool_id = ? AND username_key = ?', [poolId, usernameKey(username, await this.#caseSensitive(poolId))])) as Row | undefined;
    return row && toUser(row);
  }
  /** Users sign in by username or by an email alias; the username wins when both match. */
  async findUser(poolId: string, login: string): Promise<UserRecord | undefined> {
    const byName = await this.user(poolId, login);
    if (byName) return byName;
    const row = (await this.#database.one(`SELECT * FROM users WHERE pool_id = ? AND ${this.#json('attributes', 'email')} = ? AND ${this.#json('attributes', 'email_verified')} = 'true'`, [poolId, login])) as Row | undefined;
    return row && toUser(row);
  }
  /** One batch in username order after `after` (keyset paging: stable while users come and go). */
  async usersAfter(poolId: string, after: string | undefined, limit: number): Promise<UserRecord[]> {
    return ((await this.#database.many('SELECT * FROM users WHERE pool_id = ? AND username > ? ORDER BY username LIMIT ?', [poolId, after ?? '', limit])) as Row[]).map(toUser);
  }
  async countUsers(poolId: string): Promise<number> {
    return Number(((await this.#database.one('SELECT COUNT(*) AS count FROM users WHERE pool_id = ?', [poolId])) as Row).count);
  }
  /** The other user (if any) who signs in with this e-mail address as a verified alias. */
  async verifiedEmailOwner(poolId: string, email: string, except: string): Promise<UserRecord | undefined> {
    const row = (await this.#database.one(`SELECT * FROM users WHERE pool_id = ? AND username <> ? AND ${this.#json('attributes', 'email')} = ? AND ${this.#json('attributes', 'email_verified')} = 'true'`, [poolId, except, email])) as Row | undefined;
    return row && toUser(row);
  }
  async setConfirmationCode(poolId: string, username: string, code: string): Promise<void> {
    await this.#database.run('UPDATE users SET confirmation_code = ?, updated_at = ? WHERE pool_id = ? AND username = ?', [code, this.#now(), poolId, username]);
  }
  async listUsers(poolId: string, limit = 60): Promise<UserRecord[]> {
    return ((await this.#database.many('SELECT * FROM users WHERE pool_id = ? ORDER BY username LIMIT ?', [poolId, limit])) as Row[]).map(toUser);
  }
  async createUser(poolId: string, user: NewUser, groups: readonly string[] = []): Promise<UserRecord> {
    const now = this.#now();
    const sub = randomUUID();
    await this.#database.transaction(async () => {
      if (await this.user(poolId, user.username)) throw new UsernameTakenError(`User ${user.username} already exists`);
      (await this.#database.run('INSERT INTO users (pool_id, username, username_key, sub, password_hash, srp_salt, srp_verifier, status, enabled, attributes, confirmation_code, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)', [poolId, user.username, usernameKey(user.username, await this.#caseSensitive(poolId)), sub, user.passwordHash ?? null, user.srpSalt ?? null, user.srpVerifier ?? null, user.status,
          JSON.stringify({ ...user.attributes, sub }), user.confirmationCode ?? null, now, now]));
      for (const group of groups) await this.#addToGroup(poolId, group, user.username);
    });
    return (await this.user(poolId, user.username))!;
  }
  /**
   * Gives rows stored before usernames had a compared form their key, oldest first. A row whose key an older
   * user already holds is not merged: it keeps signing in by its exact name only and is returned, to be reported.
   */
  async assignUsernameKeys(poolId: string): Promise<UsernameClash[]> {
    const caseSensitive = await this.#caseSensitive(poolId);
    const clashes: UsernameClash[] = [];
    await this.#database.transaction(async () => {
      const pending = (await this.#database.many(`SELECT username FROM users WHERE pool_id = ? AND username_key IS NULL ORDER BY created_at${this.#database.engine === 'sqlite' ? ', rowid' : ', username'}`, [poolId])) as Row[];
      for (const row of pending) {
        const username = String(row.username);
        const key = usernameKey(username, caseSensitive);
        const holder = (await this.#database.one('SELECT username FROM users WHERE pool_id = ? AND username_key = ?', [poolId, key])) as Row | undefined;
        if (holder) clashes.push({ username, clashesWith: String(holder.username) });
        else (await this.#database.run('UPDATE users SET username_key = ? WHERE pool_id = ? AND username = ?', [key, poolId, username]));
      }
    });
    return clashes;
  }
  /** New password secrets and status, and optionally new attributes, written together. */
  async setPassword(poolId: string, username: string, { secret, status, attributes }: PasswordChange): Promise<boolean> {
    return this.#database.transaction(async () => {
      const result = (await this.#database.run('UPDATE users SET password_hash = ?, srp_salt = ?, srp_verifier = ?, status = ?, updated_at = ? WHERE pool_id = ? AND username = ?', [secret.passwordHash, secret.srpSalt, secret.srpVerifier, status, this.#now(), poolId, username]));
      if (attributes) await this.updateAttributes(poolId, username, { ...attributes });
      return Number(result.changes) > 0;
    });
  }
  async setStatus(poolId: string, username: string, status: UserStatus): Promise<void> {
    await this.#database.run('UPDATE users SET status = ?, confirmation_code = NULL, updated_at = ? WHERE pool_id = ? AND username = ?', [status, this.#now(), poolId, username]);
  }
  async setEnabled(poolId: string, username: string, enabled: boolean): Promise<boolean> {
    const result = (await this.#database.run('UPDATE users SET enabled = ?, updated_at = ? WHERE pool_id = ? AND username = ?', [enabled ? 1 : 0, this.#now(), poolId, username]));
    return Number(result.changes) > 0;
  }
  async updateAttributes(poolId: string, username: string, attributes: Record<string, string>): Promise<void> {
    await this.#database.run('UPDATE users SET attributes = ?, updated_at = ? WHERE pool_id = ? AND username = ?', [JSON.stringify(attributes), this.#now(), poolId, username]);
  }
  async deleteUser(poolId: string, username: string): Promise<boolean> {
    return this.#database.transaction(async () => {
      await this.#database.run('DELETE FROM group_members WHERE pool_id = ? AND username = ?', [poolId, username]);
      await this.#database.run('DELETE FROM user_codes WHERE pool_id = ? AND username = ?', [poolId, username]);
      await this.#database.run('UPDATE refresh_tokens SET revoked_at = ? WHERE pool_id = ? AND username = ? AND revoked_at IS NULL', [this.#now(), poolId, username]);
      return Number((await this.#database.run('DELETE FROM users WHERE pool_id = ? AND username = ?', [poolId, username])).changes) > 0;
    });
  }

  async ensureGroup(poolId: string, name: string, description?: string): Promise<void> {
    await this.#database.run('INSERT INTO groups (pool_id, name, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING', [poolId, name, description ?? null, this.#now(), this.#now()]);
  }
  async groupExists(poolId: string, name: string): Promise<boolean> {
    return (await this.#database.one('SELECT 1 FROM groups WHERE pool_id = ? AND name = ?', [poolId, name])) !== undefined;
  }
  async #addToGroup(poolId: string, group: string, username: string): Promise<void> {
    await this.#database.run('INSERT INTO group_members (pool_id, group_name, username) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [poolId, group, username]);
  }
  async addToGroup(poolId: string, group: string, username: string): Promise<void> {
    await this.#addToGroup(poolId, group, username);
  }
  async groupsOf(poolId: string, username: string): Promise<string[]> {
    return ((await this.#database.many('SELECT group_name FROM group_members WHERE pool_id = ? AND username = ? ORDER BY group_name', [poolId, username])) as Row[]).map((row) =>
      String(row.group_name),
    );
  }

  async meta(key: string): Promise<string | undefined> {
    const row = (await this.#database.one('SELECT value FROM meta WHERE key = ?', [key])) as Row | undefined;
    return row ? String(row.value) : undefined;
  }
  /** The stored value, or `create()`'s stored first: concurrent first calls (several instances) all read the same one. */
  async metaOrCreate(key: string, create: () => string): Promise<string> {
    const stored = await this.meta(key);
    if (stored !== undefined) return stored;
    await this.#database.run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT DO NOTHING', [key, create()]);
    return (await this.meta(key))!;
  }
  async setMeta(key: string, value: string): Promise<void> {
    await this.#database.run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value', [key, value]);
  }
}
