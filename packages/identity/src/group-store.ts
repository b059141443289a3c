import type { Database } from '@gatehouse/core';
import { inTransaction } from './in-transaction.ts';
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
  readonly #database: Database;
  readonly #now: () => number;
  constructor(database: Database, now: () => number) {
    this.#database = database;
    this.#now = now;
  }

  group(poolId: string, name: string): GroupRecord | undefined {
    const row = this.#database.prepare('SELECT * FROM groups WHERE pool_id = ? AND name = ?').get(poolId, name) as Row | undefined;
    return row && toGroup(row);
  }
  /** In name order after `after`. */
  groupsAfter(poolId: string, after: string | undefined, limit: number): GroupRecord[] {
    return (this.#database.prepare('SELECT * FROM groups WHERE pool_id = ? AND name > ? ORDER BY name LIMIT ?').all(poolId, after ?? '', limit) as Row[]).map(toGroup);
  }
  groupsOfAfter(poolId: string, username: string, after: string | undefined, limit: number): GroupRecord[] {
    return (
      this.#database
        .prepare('SELECT g.* FROM groups g JOIN group_members m ON m.pool_id = g.pool_id AND m.group_name = g.name WHERE g.pool_id = ? AND m.username = ? AND g.name > ? ORDER BY g.name LIMIT ?')
        .all(poolId, username, after ?? '', limit) as Row[]
    ).map(toGroup);
  }
  membersAfter(poolId: string, group: string, after: string | undefined, limit: number): UserRecord[] {
    return (
      this.#database
        .prepare('SELECT u.* FROM users u JOIN group_members m ON m.pool_id = u.pool_id AND m.username = u.username WHERE u.pool_id = ? AND m.group_name = ? AND u.username > ? ORDER BY u.username LIMIT ?')
        .all(poolId, group, after ?? '', limit) as Row[]
    ).map(toUser);
  }
  create(poolId: string, name: string, fields: GroupFields): GroupRecord {
    return inTransaction(this.#database, () => {
      if (this.group(poolId, name)) throw new GroupExistsError(`A group with the name ${name} already exists.`);
      const now = this.#now();
      this.#database
        .prepare('INSERT INTO groups (pool_id, name, description, precedence, role_arn, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(poolId, name, fields.description ?? null, fields.precedence ?? null, fields.roleArn ?? null, now, now);
      return this.group(poolId, name)!;
    });
  }
  /** UpdateGroup: only the fields sent change, as in Cognito. */
  update(poolId: string, name: string, fields: GroupFields): GroupRecord {
    const current = this.group(poolId, name)!;
    this.#database
      .prepare('UPDATE groups SET description = ?, precedence = ?, role_arn = ?, updated_at = ? WHERE pool_id = ? AND name = ?')
      .run(
        fields.description ?? current.description ?? null, fields.precedence ?? current.precedence ?? null, fields.roleArn ?? current.roleArn ?? null,
        this.#now(), poolId, name,
      );
    return this.group(poolId, name)!;
  }
  delete(poolId: string, name: string): void {
    inTransaction(this.#database, () => {
      this.#database.prepare('DELETE FROM group_members WHERE pool_id = ? AND group_name = ?').run(poolId, name);
      this.#database.prepare('DELETE FROM groups WHERE pool_id = ? AND name = ?').run(poolId, name);
    });
  }
  removeMember(poolId: string, group: string, username: string): void {
    this.#database.prepare('DELETE FROM group_members WHERE pool_id = ? AND group_name = ? AND username = ?').run(poolId, group, username);
  }
}
