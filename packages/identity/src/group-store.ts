import type { SqlDatabase } from '@gatehouse/core';
import { toUser, type UserRecord } from './user-store.ts';

export interface GroupRecord {
  readonly poolId: string;
  readonly name: string;
  readonly description: string | undefined;
  readonly precedence: number | undefined;
  readonly roleArn: string | undefined;
  readonly createdAt: number | undefined;
  readonly updatedAt: number | undefined;
}

export interface GroupFields {
  readonly description?: string | undefined;
  readonly precedence?: number | undefined;
  readonly roleArn?: string | undefined;
}

type Row = Record<string, unknown>;
const optionalNumber = (value: unknown): number | undefined => (value === null || value === undefined ? undefined : Number(value));
const optionalText = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

function toGroup(row: Row): GroupRecord {
  return {
    poolId: String(row.pool_id), name: String(row.name), description: optionalText(row.description), precedence: optionalNumber(row.precedence),
    roleArn: optionalText(row.role_arn), createdAt: optionalNumber(row.created_at), updatedAt: optionalNumber(row.updated_at ?? row.created_at),
  };
}

export class GroupExistsError extends Error {
  readonly code = 'GroupExists';
}

/** Groups of a pool and their members, as the Cognito group operations see them. */
export class GroupStore {
  readonly #database: SqlDatabase;
  readonly #now: () => number;
  constructor(database: SqlDatabase, now: () => number) {
    this.#database = database;
    this.#now = now;
  }

  async group(poolId: string, name: string): Promise<GroupRecord | undefined> {
    const row = (await this.#database.one('SELECT * FROM groups WHERE pool_id = ? AND name = ?', [poolId, name])) as Row | undefined;
    return row && toGroup(row);
  }
  /** In name order after `after`. */
  async groupsAfter(poolId: string, after: string | undefined, limit: number): Promise<GroupRecord[]> {
    return ((await this.#database.many('SELECT * FROM groups WHERE pool_id = ? AND name > ? ORDER BY name LIMIT ?', [poolId, after ?? '', limit])) as Row[]).map(toGroup);
  }
  async groupsOfAfter(poolId: string, username: string, after: string | undefined, limit: number): Promise<GroupRecord[]> {
    return (
      (await this.#database.many('SELECT g.* FROM groups g JOIN group_members m ON m.pool_id = g.pool_id AND m.group_name = g.name WHERE g.pool_id = ? AND m.username = ? AND g.name > ? ORDER BY g.name LIMIT ?', [poolId, username, after ?? '', limit])) as Row[]
    ).map(toGroup);
  }
  async membersAfter(poolId: string, group: string, after: string | undefined, limit: number): Promise<UserRecord[]> {
    return (
      (await this.#database.many('SELECT u.* FROM users u JOIN group_members m ON m.pool_id = u.pool_id AND m.username = u.username WHERE u.pool_id = ? AND m.group_name = ? AND u.username > ? ORDER BY u.username LIMIT ?', [poolId, group, after ?? '', limit])) as Row[]
    ).map(toUser);
  }
  async create(poolId: string, name: string, fields: GroupFields): Promise<GroupRecord> {
    return this.#database.transaction(async () => {
      if (await this.group(poolId, name)) throw new GroupExistsError(`A group with the name ${name} already exists.`);
      const now = this.#now();
      await this.#database.run('INSERT INTO groups (pool_id, name, description, precedence, role_arn, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)', [poolId, name, fields.description ?? null, fields.precedence ?? null, fields.roleArn ?? null, now, now]);
      return (await this.group(poolId, name))!;
    });
  }
  /** UpdateGroup: only the fields sent change, as in Cognito. */
  async update(poolId: string, name: string, fields: GroupFields): Promise<GroupRecord> {
    const current = (await this.group(poolId, name))!;
    (await this.#database.run('UPDATE groups SET description = ?, precedence = ?, role_arn = ?, updated_at = ? WHERE pool_id = ? AND name = ?', [fields.description ?? current.description ?? null, fields.precedence ?? current.precedence ?? null, fields.roleArn ?? current.roleArn ?? null,
        this.#now(), poolId, name,]));
    return (await this.group(poolId, name))!;
  }
  async delete(poolId: string, name: string): Promise<void> {
    await this.#database.transaction(async () => {
      await this.#database.run('DELETE FROM group_members WHERE pool_id = ? AND group_name = ?', [poolId, name]);
      await this.#database.run('DELETE FROM groups WHERE pool_id = ? AND name = ?', [poolId, name]);
    });
  }
  async removeMember(poolId: string, group: string, username: string): Promise<void> {
    await this.#database.run('DELETE FROM group_members WHERE pool_id = ? AND group_name = ? AND username = ?', [poolId, group, username]);
  }
}
