import type { SqlDatabase } from '@gatehouse/core';
import { SERVICE_CLIENTS } from './bootstrap-pools.ts';
import type { UserStore } from './user-store.ts';

/** A runtime or gateway whose client and origin lists can change while Gatehouse runs: `runtime:NAME`, `gateway:NAME`. */
export type PerimeterResource = `runtime:${string}` | `gateway:${string}`;

/** A set consulted on every request; it follows changes made by the CLI within a second. */
export interface LiveSet {
  has(value: string): boolean;
}

export interface PerimeterDeclaration {
  /** `allowedClients` from the config; undefined = the resource checks no client (AgentCore semantics) unless `poolClients` is set. */
  readonly allowedClients?: readonly string[] | undefined;
  readonly allowedOrigins: readonly string[];
  /**
   * The default runtime and gateway: every app client of this pool (not Gatehouse's own service
   * clients) is allowed, and so is every origin of those clients' callback URLs.
   */
  readonly poolClients?: string | undefined;
}

export interface PerimeterView {
  /** Undefined when the resource checks no client at all. */
  readonly clients: LiveSet | undefined;
  readonly origins: LiveSet;
}

type Kind = 'client' | 'origin';
type Effect = 'allow' | 'deny';

const REFRESH_MS = 1000;
const SERVICE_NAMES: ReadonlySet<string> = new Set(Object.values(SERVICE_CLIENTS));

/**
 * Live perimeter settings: the config's `allowedClients` / `allowedOrigins` plus what an operator
 * added or removed since (`gatehouse perimeter …`), kept in identity.db. Each resource's effective
 * sets are recomputed at most once a second, so the hot path is a Set lookup.
 */
export class PerimeterSettings {
  readonly #database: SqlDatabase;
  readonly #users: UserStore;
  readonly #now: () => number;

  /** Each view's recomputation; one timer runs them all, so a change is in force within a second of being made. */
  readonly #refreshers = new Set<() => void>();
  #timer: NodeJS.Timeout | undefined;

  constructor(database: SqlDatabase, users: UserStore, now: () => number) {
    this.#database = database;
    this.#users = users;
    this.#now = now;
  }

  /** Stops recomputing the views (identity's close). */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#refreshers.clear();
  }

  /**
   * The live client and origin sets of one resource. The first computation starts at once (views are made at start,
   * before the server listens); until it lands, `has` answers false (fail closed). Afterwards the sets are recomputed
   * in the background every REFRESH_MS / 2, so a lookup answers from sets at most about a second old; if the
   * database is unavailable the last sets stay in force.
   */
  view(resource: PerimeterResource, declaration: PerimeterDeclaration): PerimeterView {
    let computedAt = -Infinity;
    let clients: Set<string> | undefined;
    let origins = new Set<string>();
    let refreshing = false;
    const refresh = (): void => {
      const now = this.#now();
      if (refreshing || now - computedAt < REFRESH_MS / 2) return;
      refreshing = true;
      this.effective(resource, declaration).then(
        (sets) => {
          ({ clients, origins } = sets);
          computedAt = this.#now();
          refreshing = false;
        },
        () => {
          refreshing = false;
        },
      );
    };
    refresh();
    this.#refreshers.add(refresh);
    this.#timer ??= setInterval(() => {
      for (const each of this.#refreshers) each();
    }, REFRESH_MS / 2).unref();
    const checksClients = declaration.allowedClients !== undefined || declaration.poolClients !== undefined;
    return {
      clients: checksClients
        ? {
            has: (clientId) => {
              refresh();
              return clients?.has(clientId) ?? false;
            },
          }
        : undefined,
      origins: {
        has: (origin) => {
          refresh();
          return origins.has(origin);
        },
      },
    };
  }

  /** The sets as they are now (for `perimeter show` and the CLI's "is my origin allowed?"). */
  async effective(resource: PerimeterResource, declaration: PerimeterDeclaration): Promise<{ clients: Set<string> | undefined; origins: Set<string> }> {
    const entries = await this.entries(resource);
    const pick = (kind: Kind, effect: Effect): string[] => entries.filter((entry) => entry.kind === kind && entry.effect === effect).map((entry) => entry.value);
    const poolClients = declaration.poolClients === undefined ? [] : (await this.#users.listClients(declaration.poolClients)).filter((client) => !SERVICE_NAMES.has(client.name));
    let clients: Set<string> | undefined;
    if (declaration.allowedClients !== undefined || declaration.poolClients !== undefined) {
      clients = new Set([...(declaration.allowedClients ?? []), ...poolClients.map((client) => client.id), ...pick('client', 'allow')]);
      for (const denied of pick('client', 'deny')) clients.delete(denied);
    }
    const origins = new Set([...declaration.allowedOrigins.map(originOf), ...pick('origin', 'allow')]);
    for (const client of poolClients) for (const url of client.settings.callbackUrls) if (URL.canParse(url)) origins.add(originOf(url));
    for (const denied of pick('origin', 'deny')) origins.delete(denied);
    origins.delete('null');
    return { clients, origins };
  }

  async entries(resource: PerimeterResource): Promise<{ kind: Kind; value: string; effect: Effect }[]> {
    return (await this.#database.many('SELECT kind, value, effect FROM perimeter_entries WHERE resource = ? ORDER BY kind, value', [resource])) as { kind: Kind; value: string; effect: Effect }[];
  }

  /** Allows (or, with `deny`, refuses) a client id or origin on top of the config; replaces an earlier entry for the same value. */
  async set(resource: PerimeterResource, kind: Kind, value: string, effect: Effect): Promise<void> {
    const normalized = kind === 'origin' ? originOf(value) : value;
    await this.#database.run('INSERT INTO perimeter_entries (resource, kind, value, effect, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (resource, kind, value) DO UPDATE SET effect = excluded.effect', [resource, kind, normalized, effect, this.#now()]);
  }

  /** Forgets an operator's entry, so the config decides again. True when there was one. */
  async reset(resource: PerimeterResource, kind: Kind, value: string): Promise<boolean> {
    const normalized = kind === 'origin' ? originOf(value) : value;
    return Number((await this.#database.run('DELETE FROM perimeter_entries WHERE resource = ? AND kind = ? AND value = ?', [resource, kind, normalized])).changes) > 0;
  }
}

/** `scheme://host[:port]` of a URL; throws a TypeError naming it when it is not one. */
export function originOf(url: string): string {
  if (!URL.canParse(url)) throw new TypeError(`${url.slice(0, 200)} is not a URL (expected e.g. http://localhost:5173)`);
  return new URL(url).origin;
}
