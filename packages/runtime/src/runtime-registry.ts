import type { GatehouseConfig, RuntimeConfig } from '@gatehouse/core';
import { RuntimeError } from './runtime-error.ts';

export interface RuntimeEntry {
  readonly name: string;
  readonly arn: string;
  readonly config: RuntimeConfig;
  /** 'OAuth' for a customJWTAuthorizer, else 'SigV4' (as in AgentCore, a runtime takes exactly one). */
  readonly method: 'OAuth' | 'SigV4';
  /** Lower-cased allow-listed request header names. */
  readonly allowedHeaders: ReadonlySet<string>;
  /** Origins a browser may call from; may change while running (live perimeter settings). */
  readonly allowedOrigins: OriginSet;
  /** Client ids the JWT authorizer accepts, when live perimeter settings replace the config's `allowedClients`. */
  readonly allowedClients?: OriginSet | undefined;
}

/** A set consulted per request (a `Set`, or a live view that follows `gatehouse perimeter` changes). */
export interface OriginSet {
  has(value: string): boolean;
}

/** Live client and origin sets for a runtime, from the composition (identity's perimeter settings). */
export type PerimeterSource = (runtime: RuntimeConfig) => { readonly clients: OriginSet | undefined; readonly origins: OriginSet } | undefined;

export type RuntimeAction = 'invocations' | 'ws' | 'stopruntimesession';

export interface RuntimeRoute {
  readonly runtime: RuntimeEntry;
  readonly action: RuntimeAction;
}

const ACTIONS: ReadonlySet<string> = new Set(['invocations', 'ws', 'stopruntimesession']);

export function runtimeArn(config: Readonly<GatehouseConfig>, name: string): string {
  return `arn:aws:bedrock-agentcore:${config.region}:${config.accountId}:runtime/${name}`;
}

/**
 * Resolves `/runtimes/{ARN or name}/{action}` once per distinct path segment; both spellings map
 * to the same entry, so the hot path is one Map lookup.
 */
export class RuntimeRegistry {
  /** The runtimes of gatehouse.yaml, then those added while running (the control plane's). */
  readonly #entries: RuntimeEntry[] = [];
  /** Named endpoints (`?qualifier=PROD`) of an added runtime, by the name of its DEFAULT entry. */
  readonly #qualified = new Map<string, ReadonlyMap<string, RuntimeEntry>>();
  /** The path segment as sent: name, plain ARN, or the ARN encoded once (the common spelling: one lookup). */
  readonly #bySegment = new Map<string, RuntimeEntry>();
  /** After the one decoding: name or plain ARN only, so an ARN encoded twice never resolves. */
  readonly #byDecoded = new Map<string, RuntimeEntry>();
  readonly #accountId: string;

  constructor(config: Readonly<GatehouseConfig>, baseOrigin: string | undefined, perimeter?: PerimeterSource) {
    this.#accountId = config.accountId;
    for (const runtime of config.runtimes ?? []) {
      const arn = runtimeArn(config, runtime.agentRuntimeName);
      const configured = configuredOrigins(runtime, baseOrigin);
      const live = perimeter?.(runtime);
      // The live view already holds the configured origins (and Gatehouse's own); an operator's removal wins.
      const origins: OriginSet = live ? live.origins : configured;
      this.#add(createEntry({ name: runtime.agentRuntimeName, arn }, runtime, { origins, clients: live?.clients }), [runtime.agentRuntimeName]);
    }
  }

  /** Every runtime served, named endpoints included. */
  get entries(): readonly RuntimeEntry[] {
    return [...this.#entries, ...[...this.#qualified.values()].flatMap((endpoints) => [...endpoints.values()])];
  }

  /** Adds a runtime while running, reachable by its ARN and `aliases`, with its named endpoints (qualifiers). */
  add(entry: RuntimeEntry, aliases: readonly string[], endpoints: ReadonlyMap<string, RuntimeEntry> = new Map()): void {
    if (this.#bySegment.has(entry.arn) || aliases.some((alias) => this.#bySegment.has(alias))) throw new Error(`runtime ${entry.name} is already registered`);
    this.#add(entry, aliases);
    if (endpoints.size > 0) this.#qualified.set(entry.name, endpoints);
  }

  /** Removes a runtime added with `add` (and its named endpoints); returns the entries that went. */
  remove(name: string): RuntimeEntry[] {
    const index = this.#entries.findIndex((entry) => entry.name === name);
    if (index < 0) return [];
    const [entry] = this.#entries.splice(index, 1);
    for (const map of [this.#bySegment, this.#byDecoded]) {
      for (const [key, value] of map) if (value === entry) map.delete(key);
    }
    const endpoints = [...(this.#qualified.get(name)?.values() ?? [])];
    this.#qualified.delete(name);
    return entry ? [entry, ...endpoints] : endpoints;
  }

  #add(entry: RuntimeEntry, aliases: readonly string[]): void {
    this.#entries.push(entry);
    for (const key of [entry.arn, ...aliases, encodeURIComponent(entry.arn)]) this.#bySegment.set(key, entry);
    for (const key of [entry.arn, ...aliases]) this.#byDecoded.set(key, entry);
  }

  /** Undefined when the path is not under /runtimes/ at all; throws for a path under it that names no runtime or action. */
  route(url: URL): RuntimeRoute | undefined {
    const path = url.pathname;
    if (!path.startsWith('/runtimes/')) return undefined;
    const slash = path.lastIndexOf('/');
    const action = path.slice(slash + 1);
    let segment = path.slice('/runtimes/'.length, slash);
    if (!ACTIONS.has(action) || segment.length === 0) {
      throw new RuntimeError(
        'ResourceNotFoundException',
        `Unknown runtime operation ${path.length > 200 ? `${path.slice(0, 200)}…` : path}; use /runtimes/{ARN or name}/invocations, /ws or /stopruntimesession`,
      );
    }
    let runtime = this.#bySegment.get(segment);
    if (!runtime) {
      try {
        segment = decodeURIComponent(segment);
      } catch {
        throw new RuntimeError('ValidationException', 'The runtime ARN in the path is not valid percent-encoding', { reason: 'CannotParse' });
      }
      // Segments are decoded exactly once: a '%' left after that means the ARN was encoded twice
      // (`%253A`), which must not resolve (a second decoding is how paths slip past checks).
      if (segment.includes('%')) {
        const message = 'The runtime ARN in the path is percent-encoded more than once (it still contains % after decoding); encode it once, e.g. with encodeURIComponent(arn).';
        throw new RuntimeError('ValidationException', message, { reason: 'FieldValidationFailed', fieldList: [{ name: 'agentRuntimeArn', message }] });
      }
      // An unencoded ARN arrives as two segments ("…:runtime" and the name): accept it too.
      runtime = this.#byDecoded.get(segment);
    }
    if (!runtime) throw new RuntimeError('ResourceNotFoundException', `No agent runtime named ${JSON.stringify(segment.slice(0, 256))}`);
    if (url.search === '') return { runtime, action: action as RuntimeAction };
    const qualifier = url.searchParams.get('qualifier');
    if (qualifier !== null && qualifier !== 'DEFAULT') {
      const endpoints = this.#qualified.get(runtime.name);
      const pinned = endpoints?.get(qualifier);
      if (!pinned) {
        const known = ['DEFAULT', ...(endpoints?.keys() ?? [])].join(', ');
        throw new RuntimeError('ResourceNotFoundException', `Runtime endpoint ${JSON.stringify(qualifier.slice(0, 128))} not found for ${runtime.name}; it has ${known}`);
      }
      runtime = pinned;
    }
    const accountId = url.searchParams.get('accountId');
    if (accountId !== null && accountId !== this.#accountId) {
      throw new RuntimeError('ResourceNotFoundException', `No agent runtime ${runtime.name} in account ${JSON.stringify(accountId.slice(0, 32))}`);
    }
    return { runtime, action: action as RuntimeAction };
  }
}

/** The origins a runtime's config allows (normalised), plus Gatehouse's own when it has one. */
export function configuredOrigins(config: RuntimeConfig, baseOrigin: string | undefined): Set<string> {
  const origins = new Set(config.allowedOrigins.map((origin) => new URL(origin).origin));
  if (baseOrigin) origins.add(baseOrigin);
  return origins;
}

/** A runtime's routing entry: how it authenticates, which headers and origins it takes. */
export function createEntry(identity: { readonly name: string; readonly arn: string }, config: RuntimeConfig, perimeter: { readonly origins: OriginSet; readonly clients?: OriginSet | undefined }): RuntimeEntry {
  const { origins, clients } = perimeter;
  return {
    name: identity.name,
    arn: identity.arn,
    config,
    method: config.authorizerConfiguration ? 'OAuth' : 'SigV4',
    allowedHeaders: new Set((config.requestHeaderConfiguration?.requestHeaderAllowlist ?? []).map((header) => header.toLowerCase())),
    allowedOrigins: origins,
    allowedClients: clients,
  };
}
