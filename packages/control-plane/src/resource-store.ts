import path from 'node:path';
import { isUniqueViolation, openSqlDatabase, type Migration, type SqlDatabase } from '@gatehouse/core';
import { openJson, sealJson } from '@gatehouse/cluster';
import { ControlPlaneError } from './control-plane-error.ts';

export type ResourceKind =
  | 'runtime'
  | 'runtime-version'
  | 'runtime-endpoint'
  | 'gateway'
  | 'gateway-target'
  | 'workload-identity'
  | 'oauth2-credential-provider'
  | 'api-key-credential-provider'
  /** A remembered clientToken of a Create or Update call (request-guards.ts). */
  | 'client-token';

export interface StoredResource<T> {
  readonly id: string;
  readonly parent: string;
  readonly name: string;
  readonly body: T;
}

interface Row {
  id: string;
  parent: string;
  name: string;
  body: string;
}

export const CONTROL_PLANE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'resources',
    up: (tx) => tx.exec(`CREATE TABLE IF NOT EXISTS resources (
      kind TEXT NOT NULL,
      id TEXT NOT NULL,
      parent TEXT NOT NULL DEFAULT '',
      name TEXT NOT NULL,
      body TEXT NOT NULL,
      sealed TEXT,
      seq BIGINT NOT NULL,
      PRIMARY KEY (kind, id),
      UNIQUE (kind, parent, name)
    )`),
  },
  {
    // One counter every write bumps: instances poll it to follow each other's changes (SQLite or PostgreSQL alike).
    version: 2,
    name: 'revision',
    up: (tx) => tx.exec("CREATE TABLE IF NOT EXISTS control_plane_revision (id TEXT PRIMARY KEY, revision BIGINT NOT NULL); INSERT INTO control_plane_revision (id, revision) VALUES ('resources', 0) ON CONFLICT DO NOTHING"),
  },
];

/**
 * The control plane's resources in `control-plane.db` or the shared PostgreSQL database: each row is a
 * resource's AWS-shaped description; secrets sit beside it sealed (AES-256-GCM, bound to kind and id)
 * and are never part of `body`. Names are unique per kind and parent (a runtime's endpoints, a gateway's targets).
 */
export class ResourceStore {
  readonly #database: SqlDatabase;
  readonly #sealingKey: Buffer;

  constructor(database: SqlDatabase, sealingKey: Buffer) {
    this.#database = database;
    this.#sealingKey = sealingKey;
  }

  static async open(options: { readonly dataDir: string; readonly database?: string | undefined; readonly sealingKey: Buffer }): Promise<ResourceStore> {
    const file = path.join(options.dataDir, 'control-plane.db');
    const database = await openSqlDatabase({ database: options.database, file, migrations: { concern: 'control-plane', list: CONTROL_PLANE_MIGRATIONS } });
    return new ResourceStore(database, options.sealingKey);
  }

  /** All of `work` is written, or none of it (a runtime never without its workload identity). */
  atomically<T>(work: () => Promise<T>): Promise<T> {
    return this.#database.transaction(work);
  }

  async get<T>(kind: ResourceKind, id: string): Promise<StoredResource<T> | undefined> {
    const row = await this.#database.one<Row>('SELECT id, parent, name, body FROM resources WHERE kind = ? AND id = ?', [kind, id]);
    return row && toResource<T>(row);
  }

  async byName<T>(kind: ResourceKind, name: string, parent = ''): Promise<StoredResource<T> | undefined> {
    const row = await this.#database.one<Row>('SELECT id, parent, name, body FROM resources WHERE kind = ? AND parent = ? AND name = ?', [kind, parent, name]);
    return row && toResource<T>(row);
  }

  async list<T>(kind: ResourceKind, parent = ''): Promise<StoredResource<T>[]> {
    const rows = await this.#database.many<Row>('SELECT id, parent, name, body FROM resources WHERE kind = ? AND parent = ? ORDER BY seq', [kind, parent]);
    return rows.map((row) => toResource<T>(row));
  }

  async #changed(): Promise<void> {
    await this.#database.run("UPDATE control_plane_revision SET revision = revision + 1 WHERE id = 'resources'");
  }

  /** Throws ConflictException when the name is taken under the same parent. */
  async insert(kind: ResourceKind, resource: StoredResource<unknown>, secret?: unknown): Promise<void> {
    const taken = await this.#database.one('SELECT 1 AS taken FROM resources WHERE kind = ? AND parent = ? AND name = ?', [kind, resource.parent, resource.name]);
    if (taken) throw new ControlPlaneError('ConflictException', `A ${kind.replaceAll('-', ' ')} named ${resource.name} already exists`);
    try {
      await this.#database.transaction(async () => {
        const seq = Number((await this.#database.one<{ next: number }>('SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM resources'))?.next ?? 1);
        await this.#database.run('INSERT INTO resources (kind, id, parent, name, body, sealed, seq) VALUES (?, ?, ?, ?, ?, ?, ?)', [
          kind, resource.id, resource.parent, resource.name, JSON.stringify(resource.body), secret === undefined ? null : sealJson(this.#sealingKey, secret, `${kind}:${resource.id}`), seq,
        ]);
        await this.#changed();
      });
    } catch (error) {
      // Another instance inserted the same name between the check and this insert.
      if (isUniqueViolation(error)) {
        throw new ControlPlaneError('ConflictException', `A ${kind.replaceAll('-', ' ')} named ${resource.name} was just created by another call; read it, or choose another name`);
      }
      throw error;
    }
  }

  /** Replaces the description; the sealed secret too when one is given. */
  async update(kind: ResourceKind, id: string, body: unknown, secret?: unknown): Promise<void> {
    await this.#database.transaction(async () => {
      if (secret === undefined) {
        await this.#database.run('UPDATE resources SET body = ? WHERE kind = ? AND id = ?', [JSON.stringify(body), kind, id]);
      } else {
        await this.#database.run('UPDATE resources SET body = ?, sealed = ? WHERE kind = ? AND id = ?', [JSON.stringify(body), sealJson(this.#sealingKey, secret, `${kind}:${id}`), kind, id]);
      }
      await this.#changed();
    });
  }

  /** The secret sealed with a resource (for the components that use it; never for a response). */
  async secret<T>(kind: ResourceKind, id: string): Promise<T | undefined> {
    const row = await this.#database.one<{ sealed: string | null }>('SELECT sealed FROM resources WHERE kind = ? AND id = ?', [kind, id]);
    if (!row?.sealed) return undefined;
    return openJson<T>(this.#sealingKey, row.sealed, `${kind}:${id}`);
  }

  async delete(kind: ResourceKind, id: string): Promise<void> {
    await this.#database.transaction(async () => {
      await this.#database.run('DELETE FROM resources WHERE kind = ? AND id = ?', [kind, id]);
      await this.#changed();
    });
  }

  async deleteChildren(kind: ResourceKind, parent: string): Promise<void> {
    await this.#database.transaction(async () => {
      await this.#database.run('DELETE FROM resources WHERE kind = ? AND parent = ?', [kind, parent]);
      await this.#changed();
    });
  }

  /** Changes whenever any instance sharing this database has written a resource since the last call. */
  async dataVersion(): Promise<number> {
    return Number((await this.#database.one<{ revision: number }>("SELECT revision FROM control_plane_revision WHERE id = 'resources'"))?.revision ?? 0);
  }

  close(): Promise<void> {
    return this.#database.close();
  }
}

function toResource<T>(row: Row): StoredResource<T> {
  return { id: row.id, parent: row.parent, name: row.name, body: JSON.parse(row.body) as T };
}
