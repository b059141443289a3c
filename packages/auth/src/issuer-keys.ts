import { isHttpsOrLoopbackUrl, type Clock, type Logger } from '@gatehouse/core';
import { AuthError } from './auth-error.ts';
import { importVerificationKey, type VerificationKey } from './jwk-key.ts';

export interface IssuerKeysOptions {
  readonly discoveryUrl: string;
  readonly clock: Clock;
  readonly fetch: typeof fetch;
  readonly cooldownMs: number;
  readonly maxAgeMs: number;
  readonly timeoutMs: number;
  readonly logger?: Logger | undefined;
}

/** What looking up a `kid` gives: the key, or why not. */
export type KeyLookup = { readonly key: VerificationKey } | { readonly refused: 'unknown' | 'duplicate' };

interface Snapshot {
  readonly issuer: string;
  readonly keys: ReadonlyMap<string, VerificationKey | 'duplicate'>;
  readonly fetchedAt: number;
}

/** A cold cache that just failed waits this long before asking the issuer again, so an outage is not amplified. */
const COLD_FAILURE_BACKOFF_MS = 1000;
const MAX_DOCUMENT_BYTES = 512 * 1024;

/**
 * The expected issuer's identity and signing keys, from its discovery document and JWKS.
 * Keys are bound to this issuer only. An unknown `kid` triggers at most one reload per cooldown,
 * and concurrent reloads share one request, so random kids cannot flood the issuer.
 * A warm cache keeps serving when the issuer is down.
 */
export class IssuerKeys {
  readonly #options: IssuerKeysOptions;
  #snapshot: Snapshot | undefined;
  #inflight: Promise<Snapshot> | undefined;
  #lastAttemptAt = Number.NEGATIVE_INFINITY;
  // Unknown-kid reloads have their own cooldown, independent of routine (start-up, max-age) loads:
  // a key published just after our last routine load is picked up on its first use, while a flood
  // of random kids still causes at most one reload per cooldown.
  #lastUnknownKidReloadAt = Number.NEGATIVE_INFINITY;
  #lastFailureAt = Number.NEGATIVE_INFINITY;
  #jwksUri: string | undefined;
  #closed = false;

  constructor(options: IssuerKeysOptions) {
    this.#options = options;
  }

  /** The issuer named by discovery; throws `issuer_unavailable` when it was never reachable. */
  async issuer(): Promise<string> {
    return (await this.#current()).issuer;
  }

  /**
   * The synchronous fast path: a known kid in a fresh snapshot, without awaiting anything.
   * Undefined means "ask `lookup`" (cold, stale, unknown or duplicate kid).
   */
  peek(kid: string): { issuer: string; key: VerificationKey } | undefined {
    const snapshot = this.#snapshot;
    if (snapshot === undefined || this.#options.clock() - snapshot.fetchedAt >= this.#options.maxAgeMs) return undefined;
    const entry = snapshot.keys.get(kid);
    return entry === undefined || entry === 'duplicate' ? undefined : { issuer: snapshot.issuer, key: entry };
  }

  async lookup(kid: string): Promise<{ issuer: string; result: KeyLookup }> {
    let snapshot = await this.#current();
    let entry = snapshot.keys.get(kid);
    if (entry === undefined && this.#options.clock() - this.#lastUnknownKidReloadAt >= this.#options.cooldownMs) {
      this.#lastUnknownKidReloadAt = this.#options.clock();
      try {
        snapshot = await this.#reload();
        entry = snapshot.keys.get(kid);
      } catch {
        // The warm snapshot stays authoritative; the kid is simply unknown.
      }
    }
    if (entry === undefined) return { issuer: snapshot.issuer, result: { refused: 'unknown' } };
    if (entry === 'duplicate') return { issuer: snapshot.issuer, result: { refused: 'duplicate' } };
    return { issuer: snapshot.issuer, result: { key: entry } };
  }

  close(): void {
    this.#closed = true;
  }

  async #current(): Promise<Snapshot> {
    const now = this.#options.clock();
    const snapshot = this.#snapshot;
    if (snapshot) {
      if (now - snapshot.fetchedAt >= this.#options.maxAgeMs && now - this.#lastAttemptAt >= this.#options.cooldownMs) {
        // Stale: refresh in the background, keep answering from what we have.
        this.#reload().catch(() => undefined);
      }
      return snapshot;
    }
    if (this.#inflight) return this.#inflight;
    if (now - this.#lastFailureAt < COLD_FAILURE_BACKOFF_MS) {
      throw new AuthError('issuer_unavailable', 'The token issuer could not be reached to fetch its signing keys; retry shortly.');
    }
    try {
      return await this.#reload();
    } catch (error) {
      if (error instanceof AuthError) throw error;
      throw new AuthError('issuer_unavailable', 'The token issuer could not be reached to fetch its signing keys; retry shortly.');
    }
  }

  #reload(): Promise<Snapshot> {
    if (this.#inflight) return this.#inflight;
    if (this.#closed) return Promise.reject(new AuthError('issuer_unavailable', 'The authorizer is closed.'));
    this.#lastAttemptAt = this.#options.clock();
    const pending = this.#load().then(
      (snapshot) => {
        this.#snapshot = snapshot;
        return snapshot;
      },
      (error: unknown) => {
        this.#lastFailureAt = this.#options.clock();
        this.#options.logger?.warn({ discoveryUrl: this.#options.discoveryUrl, reason: error instanceof Error ? error.message : String(error) }, 'issuer keys could not be loaded');
        throw new AuthError('issuer_unavailable', 'The token issuer could not be reached to fetch its signing keys; retry shortly.');
      },
    ).finally(() => {
      this.#inflight = undefined;
    });
    this.#inflight = pending;
    return pending;
  }

  async #load(): Promise<Snapshot> {
    let issuer = this.#snapshot?.issuer;
    if (issuer === undefined || this.#jwksUri === undefined) {
      const discovery = await this.#getJson(this.#options.discoveryUrl);
      if (typeof discovery.issuer !== 'string' || discovery.issuer.length === 0) throw new Error('discovery document has no issuer');
      if (typeof discovery.jwks_uri !== 'string' || !isHttpsOrLoopbackUrl(discovery.jwks_uri)) throw new Error('discovery document has no usable jwks_uri');
      issuer = discovery.issuer;
      this.#jwksUri = discovery.jwks_uri;
    }
    const jwks = await this.#getJson(this.#jwksUri);
    if (!Array.isArray(jwks.keys)) throw new Error('JWKS has no keys array');
    const keys = new Map<string, VerificationKey | 'duplicate'>();
    const seen = new Set<string>();
    for (const jwk of jwks.keys as unknown[]) {
      if (typeof jwk !== 'object' || jwk === null) continue;
      const kid = (jwk as Record<string, unknown>).kid;
      if (typeof kid !== 'string') continue;
      // A kid published twice is ambiguous whichever of the two is meant: refuse it entirely.
      if (seen.has(kid)) {
        keys.set(kid, 'duplicate');
        continue;
      }
      seen.add(kid);
      const imported = importVerificationKey(jwk as Record<string, unknown>);
      if (imported) keys.set(kid, imported);
    }
    return { issuer, keys, fetchedAt: this.#options.clock() };
  }

  async #getJson(url: string): Promise<Record<string, unknown>> {
    const response = await this.#options.fetch(url, { signal: AbortSignal.timeout(this.#options.timeoutMs), redirect: 'error', headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    const text = await response.text();
    if (text.length > MAX_DOCUMENT_BYTES) throw new Error(`${url} is too large`);
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${url} is not a JSON object`);
    return value as Record<string, unknown>;
  }
}
