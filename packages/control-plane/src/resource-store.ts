import path from 'node:path';
import { openDatabase, transaction, type Database } from '@gatehouse/core';
import { openJson, sealJson } from '@gatehouse/cluster';
import { ControlPlaneError } from './control-plane-error.ts';

const SQLITE_CONSTRAINT_UNIQUE = 2067;
const SQLITE_CONSTRAINT_PRIMARYKEY = 1555;

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

/**
 * The control plane's resources in one SQLite file (`control-plane.db` in the data dir): each row is a
 * resource's AWS-shaped description; secrets sit beside it sealed (AES-256-GCM, bound to kind and id)
 * and are never part of `body`. Names are unique per kind and parent (a runtime's endpoints, a gateway's targets).
 */
export class ResourceStore {
  readonly #database: Database;
  readonly #sealingKey: Buffer;

  constructor(database: Database, sealingKey: Buffer) {
    this.#database = database;
    this.#sealingKey = sealingKey;
    database.exec(`CREATE TABLE IF NOT EXISTS resources (
      kind TEXT NOT NULL,
      id TEXT NOT NULL,
      parent TEXT NOT NULL DEFAULT '',
      name TEXT NOT NULL,
      body TEXT NOT NULL,
      sealed TEXT,
      seq INTEGER NOT NULL,
      PRIMARY KEY (kind, id),
      UNIQUE (kind, parent, name)
    )`);
  }

  static open(dataDir: string, sealingKey: Buffer): ResourceStore {
    return new ResourceStore(openDatabase(path.join(dataDir, 'control-plane.db')), sealingKey);
  }

  /** All of `work` is written, or none of it (a runtime never without its workload identity). */
  atomically<T>(work: () => T): T {
    return transaction(this.#database, work);
  }

  get<T>(kind: ResourceKind, id: string): StoredResource<T> | undefined {
    const row = this.#database.prepare('SELECT id, parent, name, body FROM resources WHERE kind = ? AND id = ?').get(kind, id) as Row | undefined;
    return row && toResource<T>(row);
  }

  byName<T>(kind: ResourceKind, name: string, parent = ''): StoredResource<T> | undefined {
    const row = this.#database.prepare('SELECT id, parent, name, body FROM resources WHERE kind = ? AND parent = ? AND name = ?').get(kind, parent, name) as Row | undefined;
    return row && toResource<T>(row);
  }

  list<T>(kind: ResourceKind, parent = ''): StoredResource<T>[] {
    const rows = this.#database.prepare('SELECT id, parent, name, body FROM resources WHERE kind = ? AND parent = ? ORDER BY seq').all(kind, parent) as unknown as Row[];
    return rows.map((row) => toResource<T>(row));
  }

  /** Throws ConflictException when the name is taken under the same parent. */
  insert(kind: ResourceKind, resource: StoredResource<unknown>, secret?: unknown): void {
    const taken = this.#database.prepare('SELECT 1 FROM resources WHERE kind = ? AND parent = ? AND name = ?').get(kind, resource.parent, resource.name);
    if (taken) throw new ControlPlaneError('ConflictException', `A ${kind.replaceAll('-', ' ')} named ${resource.name} already exists`);
    const seq = (this.#database.prepare('SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM resources').get() as { next: number }).next;
    try {
      this.#database
        .prepare('INSERT INTO resources (kind, id, parent, name, body, sealed, seq) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(kind, resource.id, resource.parent, resource.name, JSON.stringify(resource.body), secret === undefined ? null : sealJson(this.#sealingKey, secret, `${kind}:${resource.id}`), seq);
    } catch (error) {
      // Another instance on the same file inserted the same name between the check and this insert.
      if ((error as { errcode?: number }).errcode === SQLITE_CONSTRAINT_UNIQUE || (error as { errcode?: number }).errcode === SQLITE_CONSTRAINT_PRIMARYKEY) {
        throw new ControlPlaneError('ConflictException', `A ${kind.replaceAll('-', ' ')} named ${resource.name} was just created by another call; read it, or choose another name`);
      }
      throw error;
    }
  }

  /** Replaces the description; the sealed secret too when one is given. */
  update(kind: ResourceKind, id: string, body: unknown, secret?: unknown): void {
    if (secret === undefined) {
      this.#database.prepare('UPDATE resources SET body = ? WHERE kind = ? AND id = ?').run(JSON.stringify(body), kind, id);
    } else {
      this.#database.prepare('UPDATE resources SET body = ?, sealed = ? WHERE kind = ? AND id = ?').run(JSON.stringify(body), sealJson(this.#sealingKey, secret, `${kind}:${id}`), kind, id);
    }
  }

  /** The secret sealed with a resource (for the components that use it; never for a response). */
  secret<T>(kind: ResourceKind, id: string): T | undefined {
    const row = this.#database.prepare('SELECT sealed FROM resources WHERE kind = ? AND id = ?').get(kind, id) as { sealed: string | null } | undefined;
    if (!row?.sealed) return undefined;
    return openJson<T>(this.#sealingKey, row.sealed, `${kind}:${id}`);
  }

  delete(kind: ResourceKind, id: string): void {
    this.#database.prepare('DELETE FROM resources WHERE kind = ? AND id = ?').run(kind, id);
  }

  deleteChildren(kind: ResourceKind, parent: string): void {
    this.#database.prepare('DELETE FROM resources WHERE kind = ? AND parent = ?').run(kind, parent);
  }

  /** Changes when another connection (another instance on the same file) has committed since the last call. */
  dataVersion(): number {
    return (this.#database.prepare('PRAGMA data_version').get() as { data_version: number }).data_version;
  }

  close(): void {
    this.#database.close();
  }
}

function toResource<T>(row: Row): StoredResource<T> {
  return { id: row.id, parent: row.parent, name: row.name, body: JSON.parse(row.body) as T };
}
