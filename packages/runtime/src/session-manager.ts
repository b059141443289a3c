import { createHash } from 'node:crypto';
import type { Platform } from '@gatehouse/core';
import { spawnAgent, urlAgent, type AgentEndpoint } from './agent-endpoint.ts';
import { AgentIsolation, type IsolationSupport } from './agent-isolation.ts';
import { RuntimeError } from './runtime-error.ts';
import type { RuntimeEntry } from './runtime-registry.ts';

/** One session: one agent endpoint, bound to the principal that created it. */
export class Session {
  readonly runtime: RuntimeEntry;
  readonly id: string;
  readonly owner: string;
  readonly endpoint: AgentEndpoint;
  readonly createdAt: number;
  lastActivity: number;
  /** In-flight HTTP requests plus open WebSockets; a session with any is never reaped for idleness. */
  active = 0;
  ended = false;
  /** Another instance took the session over; this process ends once its last request is done. */
  moved = false;
  endReason: string | undefined;

  constructor(runtime: RuntimeEntry, id: string, owner: string, endpoint: AgentEndpoint, now: number) {
    this.runtime = runtime;
    this.id = id;
    this.owner = owner;
    this.endpoint = endpoint;
    this.createdAt = now;
    this.lastActivity = now;
  }
}

/** What the shared store keeps per runtime+session, so ownership and placement hold across instances. */
interface SessionRecord {
  readonly owner: string;
  readonly instance: string;
  readonly instanceUrl?: string;
}

export interface RuntimeStats {
  readonly sessions: number;
  readonly agentProcesses: number;
}

export type Placement = { readonly kind: 'local'; readonly session: Session } | { readonly kind: 'remote'; readonly url: string };

interface WarmPool {
  readonly ready: AgentEndpoint[];
  starting: number;
  /** After a failed pre-start, wait before trying again so a broken agent does not spin. */
  retryAfter: number;
}

export interface SessionManagerOptions {
  readonly instanceId: string;
  readonly instanceUrl?: string | undefined;
  readonly reapIntervalMs: number;
  /** For tests: what the host's namespace probe answers. */
  readonly isolationSupport?: IsolationSupport | undefined;
}

/** A running session's slot lease (shared store) and how often live sessions renew it: three renewals per lease. */
const SLOT_LEASE_SECONDS = 30;
const SLOT_RENEW_MS = 10_000;

const OWNER_MISMATCH = 'This session belongs to another principal; use your own session id (or omit it to start a new session).';

/**
 * Sessions of every runtime on this instance: placement (local process or another instance),
 * ownership (checked against the shared store), the warm pool, quotas and lifecycle reaping.
 */
export class SessionManager {
  readonly #platform: Platform;
  readonly #options: SessionManagerOptions;
  readonly #sessions = new Map<string, Session>();
  readonly #starting = new Map<string, Promise<Session>>();
  readonly #startingPerRuntime = new Map<string, number>();
  readonly #livePerRuntime = new Map<string, number>();
  /** Sessions each principal has running or starting on this instance, per runtime (key: runtime NUL owner). */
  readonly #heldPerPrincipal = new Map<string, number>();
  readonly #pools = new Map<string, WarmPool>();
  readonly #urlAgents = new Map<string, AgentEndpoint>();
  readonly #reaper: NodeJS.Timeout;
  readonly #isolation: AgentIsolation;
  #slotRenewal: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(platform: Platform, runtimes: readonly RuntimeEntry[], options: SessionManagerOptions) {
    this.#platform = platform;
    this.#options = options;
    this.#isolation = new AgentIsolation({ dataDir: platform.dataDir, baseUrl: platform.baseUrl, logger: platform.logger, ...(options.isolationSupport ? { support: options.isolationSupport } : {}) });
    const support = this.#isolation.support;
    if (support.available) platform.logger.info({ isolation: 'namespace', how: support.reason }, 'agent isolation: each session runs in its own network, mount and pid namespaces');
    else platform.logger.warn({ isolation: 'none', reason: support.reason }, 'agent isolation is off: agents share the host and must listen on the PORT Gatehouse sets');
    for (const runtime of runtimes) this.add(runtime);
    this.#reaper = setInterval(() => void this.sweep(), options.reapIntervalMs);
    this.#reaper.unref();
    if (platform.store.kind !== 'embedded') {
      this.#slotRenewal = setInterval(() => {
        this.#renewSlots().catch((error: unknown) => platform.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'could not renew session slots; they lapse unless the store returns'));
      }, SLOT_RENEW_MS);
      this.#slotRenewal.unref();
    }
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Read when metrics are scraped: cheap (one pass over this instance's sessions). */
  stats(): ReadonlyMap<string, RuntimeStats> {
    const stats = new Map<string, { sessions: number; agentProcesses: number }>();
    for (const name of this.#pools.keys()) stats.set(name, { sessions: 0, agentProcesses: 0 });
    for (const name of this.#urlAgents.keys()) stats.set(name, { sessions: 0, agentProcesses: 0 });
    for (const session of this.#sessions.values()) {
      const entry = stats.get(session.runtime.name);
      if (!entry || session.ended) continue;
      entry.sessions++;
      // A URL agent is one long-running service the runtime does not own: no process per session.
      if (!this.#urlAgents.has(session.runtime.name) && !session.endpoint.exited) entry.agentProcesses++;
    }
    for (const [name, pool] of this.#pools) stats.get(name)!.agentProcesses += pool.ready.filter((endpoint) => !endpoint.exited).length + pool.starting;
    return stats;
  }

  /** Where the session runs; starts it here when it runs nowhere. Increments `active` on local sessions. */
  async acquire(runtime: RuntimeEntry, sessionId: string, owner: string, mayForward: boolean): Promise<Placement> {
    if (this.#closed) throw new RuntimeError('ServiceUnavailableException', 'The runtime is shutting down; retry on another instance.');
    const key = `${runtime.name}\u0000${sessionId}`;
    const local = this.#sessions.get(key);
    if (local && !local.ended) {
      if (local.owner !== owner) throw new RuntimeError('AccessDeniedException', OWNER_MISMATCH);
      if (!(await this.#movedAway(local, runtime, sessionId))) {
        local.active++;
        local.lastActivity = this.#platform.clock();
        return { kind: 'local', session: local };
      }
    }
    const record = await this.#claim(runtime, sessionId, owner);
    if (record.instance !== this.#options.instanceId && record.instanceUrl && mayForward) return { kind: 'remote', url: record.instanceUrl };
    let pending = this.#starting.get(key);
    if (!pending) {
      const held = this.#heldPerPrincipal.get(principalKey(runtime, owner)) ?? 0;
      if (held >= runtime.config.limits.maxConcurrentSessionsPerPrincipal) throw principalQuotaError(runtime, '');
      const live = (this.#livePerRuntime.get(runtime.name) ?? 0) + (this.#startingPerRuntime.get(runtime.name) ?? 0);
      const limit = runtime.config.limits.maxConcurrentSessions;
      if (live >= limit) {
        throw new RuntimeError('ServiceQuotaExceededException', `Runtime ${runtime.name} already runs ${limit} sessions (limits.maxConcurrentSessions); stop an idle session with stopruntimesession or retry later.`);
      }
      this.#hold(runtime, owner, 1);
      pending = this.#startWithinQuota(runtime, sessionId, owner);
      this.#starting.set(key, pending);
      this.#startingPerRuntime.set(runtime.name, (this.#startingPerRuntime.get(runtime.name) ?? 0) + 1);
      void pending.then(
        () => this.#doneStarting(key, runtime),
        () => {
          this.#hold(runtime, owner, -1);
          this.#doneStarting(key, runtime);
        },
      );
      if (record.instance !== this.#options.instanceId) await this.#writeRecord(runtime, sessionId, owner);
    }
    const session = await pending;
    if (session.owner !== owner) throw new RuntimeError('AccessDeniedException', OWNER_MISMATCH);
    session.active++;
    session.lastActivity = this.#platform.clock();
    return { kind: 'local', session };
  }

  /**
   * With a shared store a session can move: a WebSocket is never forwarded, so the instance that
   * accepts it takes the session over. The process left here is then stale; serving from it would
   * split one session's memory in two. So a local session is served only while the store still
   * places it here (one store read; none with the embedded store, where nothing else can take it).
   */
  async #movedAway(local: Session, runtime: RuntimeEntry, sessionId: string): Promise<boolean> {
    if (this.#platform.store.kind === 'embedded') return false;
    const record = await this.#read(runtime, sessionId);
    if (!record || record.instance === this.#options.instanceId || local.ended) return false;
    // Found no more; a request still streaming from it finishes first, then release() ends the process.
    local.moved = true;
    this.#forget(local);
    if (local.active === 0) void this.end(local, 'moved to another instance');
    return true;
  }

  release(session: Session): void {
    session.active--;
    session.lastActivity = this.#platform.clock();
    if (session.moved && session.active === 0) void this.end(session, 'moved to another instance');
  }

  /**
   * Ownership check without starting anything: 'local' / 'remote' when it runs, 'none' when not.
   * A session owned by someone else is refused even when it is not running.
   */
  async locate(runtime: RuntimeEntry, sessionId: string, owner: string): Promise<Placement | { readonly kind: 'none' }> {
    const local = this.#sessions.get(`${runtime.name}\u0000${sessionId}`);
    if (local && !local.ended) {
      if (local.owner !== owner) throw new RuntimeError('AccessDeniedException', OWNER_MISMATCH);
      if (!(await this.#movedAway(local, runtime, sessionId))) return { kind: 'local', session: local };
    }
    const record = await this.#read(runtime, sessionId);
    if (record && record.owner !== owner) throw new RuntimeError('AccessDeniedException', OWNER_MISMATCH);
    if (record && record.instance !== this.#options.instanceId && record.instanceUrl) return { kind: 'remote', url: record.instanceUrl };
    return { kind: 'none' };
  }

  /** Ends a session's process. Ownership stays recorded until maxLifetime so the id cannot be taken over. */
  async end(session: Session, reason: string): Promise<void> {
    if (session.ended) return;
    session.ended = true;
    session.endReason = reason;
    this.#forget(session);
    this.#platform.logger.info({ runtime: session.runtime.name, session: session.id, reason }, 'runtime session ended');
    await session.endpoint.stop();
  }

  /** Serves a runtime (from gatehouse.yaml, or added while running): its URL agent, or a warm pool of its command. */
  add(runtime: RuntimeEntry): void {
    if (!('url' in runtime.config.agent)) this.#isolation.modeFor(runtime.name, runtime.config.isolation);
    if ('url' in runtime.config.agent) this.#urlAgents.set(runtime.name, urlAgent(runtime.config.agent.url));
    else {
      this.#pools.set(runtime.name, { ready: [], starting: 0, retryAfter: 0 });
      this.#refill(runtime);
    }
  }

  /** Stops serving a runtime: its sessions end (their agents stop) and its warm processes too. */
  async remove(name: string): Promise<void> {
    const stops: Promise<void>[] = [...this.#sessions.values()].filter((session) => session.runtime.name === name).map((session) => this.end(session, 'runtime deleted'));
    const pool = this.#pools.get(name);
    this.#pools.delete(name);
    if (pool) stops.push(...pool.ready.splice(0).map((endpoint) => endpoint.stop()));
    this.#urlAgents.get(name)?.agent.destroy();
    this.#urlAgents.delete(name);
    await Promise.allSettled(stops);
  }

  /** Idle and lifetime reaping; a `HealthyBusy` ping keeps an idle session alive. */
  async sweep(): Promise<void> {
    const now = this.#platform.clock();
    await Promise.all(
      [...this.#sessions.values()].map(async (session) => {
        const { idleRuntimeSessionTimeout, maxLifetime } = session.runtime.config.lifecycleConfiguration;
        if (now - session.createdAt >= maxLifetime * 1000) return this.end(session, 'maxLifetime');
        if (session.active > 0 || now - session.lastActivity < idleRuntimeSessionTimeout * 1000) return undefined;
        try {
          if ((await session.endpoint.ping(2000)) === 'HealthyBusy') {
            session.lastActivity = now;
            return undefined;
          }
        } catch {
          // An agent that no longer answers /ping is as good as gone.
        }
        return this.end(session, 'idleRuntimeSessionTimeout');
      }),
    );
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#reaper);
    clearInterval(this.#slotRenewal);
    await Promise.allSettled([...this.#starting.values()]);
    const stops: Promise<void>[] = [...this.#sessions.values()].map((session) => this.end(session, 'shutdown'));
    for (const pool of this.#pools.values()) stops.push(...pool.ready.splice(0).map((endpoint) => endpoint.stop()));
    for (const endpoint of this.#urlAgents.values()) endpoint.agent.destroy();
    await Promise.allSettled(stops);
    await this.#isolation.close();
  }

  /**
   * With a shared store the quotas are deployment-wide: each running session holds a leased slot of
   * its principal and one of its runtime (renewed every SLOT_RENEW_MS), so maxConcurrentSessions and
   * maxConcurrentSessionsPerPrincipal count sessions on every instance, and an instance that dies
   * frees its slots within one lease. A session taken over keeps its slots (same member, same keys).
   */
  async #startWithinQuota(runtime: RuntimeEntry, sessionId: string, owner: string): Promise<Session> {
    if (this.#platform.store.kind === 'embedded') return this.#start(runtime, sessionId, owner);
    const store = this.#platform.store;
    const perPrincipal = runtime.config.limits.maxConcurrentSessionsPerPrincipal;
    if (!(await store.claimSlot(this.#principalSlotKey(runtime, owner), sessionId, perPrincipal, SLOT_LEASE_SECONDS))) {
      throw principalQuotaError(runtime, ' across its instances');
    }
    const limit = runtime.config.limits.maxConcurrentSessions;
    let claimed = false;
    try {
      claimed = await store.claimSlot(this.#slotKey(runtime), sessionId, limit, SLOT_LEASE_SECONDS);
    } finally {
      // A failure here only delays the slot's return until its lease runs out.
      if (!claimed) store.releaseSlot(this.#principalSlotKey(runtime, owner), sessionId).catch(() => undefined);
    }
    if (!claimed) {
      throw new RuntimeError('ServiceQuotaExceededException', `Runtime ${runtime.name} already runs ${limit} sessions across its instances (limits.maxConcurrentSessions); stop an idle session with stopruntimesession or retry later.`);
    }
    try {
      return await this.#start(runtime, sessionId, owner);
    } catch (error) {
      this.#releaseSlots(runtime, owner, sessionId);
      throw error;
    }
  }

  #slotKey(runtime: RuntimeEntry): string {
    return `gatehouse:runtime:${runtime.name}:session-slots`;
  }

  /** The owner hashed: principals are long issuer+subject strings, and a key should not spell them out. */
  #principalSlotKey(runtime: RuntimeEntry, owner: string): string {
    return `gatehouse:runtime:${runtime.name}:principal-slots:${createHash('sha256').update(owner).digest('base64url')}`;
  }

  #releaseSlots(runtime: RuntimeEntry, owner: string, sessionId: string): void {
    if (this.#platform.store.kind === 'embedded') return;
    // A failure here only delays the slot's return until its lease runs out.
    this.#platform.store.releaseSlot(this.#slotKey(runtime), sessionId).catch(() => undefined);
    this.#platform.store.releaseSlot(this.#principalSlotKey(runtime, owner), sessionId).catch(() => undefined);
  }

  /** Keeps this instance's slots (runtime and principal) leased while their sessions run. */
  async #renewSlots(): Promise<void> {
    const byKey = new Map<string, string[]>();
    const add = (key: string, id: string): void => {
      const ids = byKey.get(key);
      if (ids) ids.push(id);
      else byKey.set(key, [id]);
    };
    for (const session of this.#sessions.values()) {
      if (session.ended) continue;
      add(this.#slotKey(session.runtime), session.id);
      add(this.#principalSlotKey(session.runtime, session.owner), session.id);
    }
    for (const [key, ids] of byKey) await this.#platform.store.renewSlots(key, ids, SLOT_LEASE_SECONDS);
  }

  #hold(runtime: RuntimeEntry, owner: string, change: 1 | -1): void {
    const key = principalKey(runtime, owner);
    const held = (this.#heldPerPrincipal.get(key) ?? 0) + change;
    if (held > 0) this.#heldPerPrincipal.set(key, held);
    else this.#heldPerPrincipal.delete(key);
  }

  async #start(runtime: RuntimeEntry, sessionId: string, owner: string): Promise<Session> {
    if (!this.#urlAgents.has(runtime.name) && !this.#pools.has(runtime.name)) {
      throw new RuntimeError('ResourceNotFoundException', `Agent runtime ${runtime.name} was deleted.`);
    }
    const endpoint = this.#urlAgents.get(runtime.name) ?? (await this.#takeWarm(runtime));
    const session = new Session(runtime, sessionId, owner, endpoint, this.#platform.clock());
    if (this.#closed) {
      await endpoint.stop();
      throw new RuntimeError('ServiceUnavailableException', 'The runtime is shutting down; retry on another instance.');
    }
    this.#sessions.set(`${runtime.name}\u0000${sessionId}`, session);
    this.#livePerRuntime.set(runtime.name, (this.#livePerRuntime.get(runtime.name) ?? 0) + 1);
    endpoint.onExit((code, signal) => {
      if (session.ended) return;
      session.ended = true;
      session.endReason = 'exited';
      this.#forget(session);
      this.#platform.logger.warn({ runtime: runtime.name, session: sessionId, code, signal }, 'agent process exited; the next call starts a fresh one');
    });
    return session;
  }

  #forget(session: Session): void {
    const key = `${session.runtime.name}\u0000${session.id}`;
    if (this.#sessions.get(key) === session) {
      this.#sessions.delete(key);
      this.#livePerRuntime.set(session.runtime.name, (this.#livePerRuntime.get(session.runtime.name) ?? 1) - 1);
      this.#hold(session.runtime, session.owner, -1);
      // A session another instance took over keeps its slots: that instance holds them now.
      if (!session.moved) this.#releaseSlots(session.runtime, session.owner, session.id);
    }
  }

  #doneStarting(key: string, runtime: RuntimeEntry): void {
    this.#starting.delete(key);
    this.#startingPerRuntime.set(runtime.name, (this.#startingPerRuntime.get(runtime.name) ?? 1) - 1);
  }

  async #takeWarm(runtime: RuntimeEntry): Promise<AgentEndpoint> {
    const pool = this.#pools.get(runtime.name);
    while (pool && pool.ready.length > 0) {
      const endpoint = pool.ready.shift()!;
      if (!endpoint.exited) {
        this.#refill(runtime);
        return endpoint;
      }
    }
    const endpoint = await this.#spawn(runtime);
    this.#refill(runtime);
    return endpoint;
  }

  #spawn(runtime: RuntimeEntry): Promise<AgentEndpoint> {
    const agent = runtime.config.agent;
    if (!('command' in agent)) throw new Error('unreachable: URL agents are never spawned');
    const isolated = this.#isolation.modeFor(runtime.name, runtime.config.isolation) === 'namespace';
    return spawnAgent({
      command: agent.command,
      cwd: agent.cwd,
      env: {
        AWS_REGION: this.#platform.config.region,
        AWS_DEFAULT_REGION: this.#platform.config.region,
        OTEL_RESOURCE_ATTRIBUTES: `cloud.resource_id=${runtime.arn},service.name=${runtime.name}`,
        // Lets an agent notice that this process died (kill -9) even if that happened while it started.
        // An isolated agent needs no watch: its pid namespace ends with Gatehouse (and this pid means nothing there).
        ...(isolated ? {} : { GATEHOUSE_PARENT_PID: String(process.pid) }),
        ...runtime.config.environmentVariables,
        ...agent.env,
      },
      startTimeoutMs: runtime.config.limits.startTimeoutSeconds * 1000,
      logger: this.#platform.logger,
      memoryLimitMiB: runtime.config.limits.maxAgentMemoryMiB,
      isolation: isolated ? { sandbox: this.#isolation, config: runtime.config.isolation } : undefined,
      isolationOff: isolated ? undefined : runtime.config.isolation.mode === 'none' ? 'isolation.mode is "none"' : this.#isolation.support.reason,
    });
  }

  /** Keeps `limits.warmPoolSize` processes started and answering /ping, so a new session skips the cold start. */
  #refill(runtime: RuntimeEntry): void {
    const pool = this.#pools.get(runtime.name);
    if (!pool || this.#closed) return;
    const wanted = runtime.config.limits.warmPoolSize;
    if (Date.now() < pool.retryAfter) return;
    while (pool.ready.length + pool.starting < wanted) {
      pool.starting++;
      this.#spawn(runtime).then(
        (endpoint) => {
          pool.starting--;
          // Closed, or the runtime was removed while this process started: it has no pool to join.
          if (this.#closed || this.#pools.get(runtime.name) !== pool) return void endpoint.stop();
          endpoint.onExit(() => {
            const index = pool.ready.indexOf(endpoint);
            if (index >= 0) pool.ready.splice(index, 1);
          });
          pool.ready.push(endpoint);
        },
        (error: unknown) => {
          pool.starting--;
          pool.retryAfter = Date.now() + 5000;
          this.#platform.logger.warn({ runtime: runtime.name, err: error instanceof Error ? error.message : String(error) }, 'could not pre-start a warm agent process');
        },
      );
    }
  }

  #storeKey(runtime: RuntimeEntry, sessionId: string): string {
    return `gatehouse:runtime:${runtime.name}:session:${sessionId}`;
  }

  async #read(runtime: RuntimeEntry, sessionId: string): Promise<SessionRecord | undefined> {
    const text = await this.#platform.store.get(this.#storeKey(runtime, sessionId));
    return text === undefined ? undefined : (JSON.parse(text) as SessionRecord);
  }

  /** The session's record, creating it (atomically across instances) for a new id; refuses another owner. */
  async #claim(runtime: RuntimeEntry, sessionId: string, owner: string): Promise<SessionRecord> {
    const mine: SessionRecord = { owner, instance: this.#options.instanceId, ...(this.#options.instanceUrl ? { instanceUrl: this.#options.instanceUrl } : {}) };
    const ttl = runtime.config.lifecycleConfiguration.maxLifetime;
    if (await this.#platform.store.setIfAbsent(this.#storeKey(runtime, sessionId), JSON.stringify(mine), ttl)) return mine;
    const record = await this.#read(runtime, sessionId);
    if (!record) return this.#claim(runtime, sessionId, owner);
    if (record.owner !== owner) throw new RuntimeError('AccessDeniedException', OWNER_MISMATCH);
    return record;
  }

  /** Takes over placement of an owned session whose previous instance no longer runs it. */
  async #writeRecord(runtime: RuntimeEntry, sessionId: string, owner: string): Promise<void> {
    const mine: SessionRecord = { owner, instance: this.#options.instanceId, ...(this.#options.instanceUrl ? { instanceUrl: this.#options.instanceUrl } : {}) };
    await this.#platform.store.set(this.#storeKey(runtime, sessionId), JSON.stringify(mine), runtime.config.lifecycleConfiguration.maxLifetime);
  }
}

function principalKey(runtime: RuntimeEntry, owner: string): string {
  return `${runtime.name}\u0000${owner}`;
}

/** Same error name and status as the runtime total (402), with the per-principal limit and how to raise it. */
function principalQuotaError(runtime: RuntimeEntry, where: string): RuntimeError {
  const limit = runtime.config.limits.maxConcurrentSessionsPerPrincipal;
  return new RuntimeError(
    'ServiceQuotaExceededException',
    `You already run ${limit} sessions on runtime ${runtime.name}${where}, the most one user may run at once (limits.maxConcurrentSessionsPerPrincipal = ${limit}). ` +
      'Stop one with StopRuntimeSession or let it reach its idle timeout; an operator can raise limits.maxConcurrentSessionsPerPrincipal in the runtime configuration.',
  );
}
