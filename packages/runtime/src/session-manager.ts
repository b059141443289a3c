import type { Platform } from '@gatehouse/core';
import { spawnAgent, urlAgent, type AgentEndpoint } from './agent-endpoint.ts';
import { AgentIsolation, type IsolationSupport } from './agent-isolation.ts';
import { QuotaSlots, SLOT_RENEW_MS, principalQuotaError, runtimeQuotaError } from './quota-slots.ts';
import { RuntimeError } from './runtime-error.ts';
import { PROTOCOL_CONTRACTS } from './runtime-protocols.ts';
import type { RuntimeEntry } from './runtime-registry.ts';
import { PlacementCache } from './placement-cache.ts';
import { OWNER_MISMATCH, SessionDirectory } from './session-directory.ts';
import { reapSessions } from './session-reaper.ts';
import { WarmPools } from './warm-pool.ts';

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

  constructor(started: { readonly runtime: RuntimeEntry; readonly id: string; readonly owner: string; readonly endpoint: AgentEndpoint }, now: number) {
    this.runtime = started.runtime;
    this.id = started.id;
    this.owner = started.owner;
    this.endpoint = started.endpoint;
    this.createdAt = now;
    this.lastActivity = now;
  }
}

export interface RuntimeStats {
  readonly sessions: number;
  readonly agentProcesses: number;
}

export type Placement = { readonly kind: 'local'; readonly session: Session } | { readonly kind: 'remote'; readonly url: string };

export interface SessionManagerOptions {
  readonly instanceId: string;
  readonly instanceUrl?: string | undefined;
  readonly reapIntervalMs: number;
  /** For tests: what the host's namespace probe answers. */
  readonly isolationSupport?: IsolationSupport | undefined;
}

/**
 * Sessions of every runtime on this instance: placement (local process or another instance) and
 * ownership. Its parts are their own modules: the session directory in the shared store
 * (session-directory.ts), the warm pool (warm-pool.ts), deployment-wide quota slots
 * (quota-slots.ts) and the reaper (session-reaper.ts), all on the platform's injected clock.
 * Agent processes are started in one place, `#spawn` (agent-endpoint.ts `spawnAgent`).
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
  readonly #pools: WarmPools;
  readonly #directory: SessionDirectory;
  readonly #slots: QuotaSlots;
  readonly #urlAgents = new Map<string, AgentEndpoint & { destroy(): void }>();
  readonly #reaper: NodeJS.Timeout;
  readonly #isolation: AgentIsolation;
  #slotRenewal: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(platform: Platform, runtimes: readonly RuntimeEntry[], options: SessionManagerOptions) {
    this.#platform = platform;
    this.#options = options;
    this.#pools = new WarmPools({ spawn: (runtime) => this.#spawn(runtime), clock: platform.clock, logger: platform.logger });
    this.#directory = new SessionDirectory(platform.store, { id: options.instanceId, url: options.instanceUrl }, new PlacementCache(platform.store, platform.clock, platform.logger));
    this.#slots = new QuotaSlots(platform.store);
    this.#isolation = new AgentIsolation({ dataDir: platform.dataDir, baseUrl: platform.baseUrl, logger: platform.logger, ...(options.isolationSupport ? { support: options.isolationSupport } : {}) });
    const support = this.#isolation.support;
    if (support.available) platform.logger.info({ isolation: 'namespace', how: support.reason }, 'agent isolation: each session runs in its own network, mount and pid namespaces');
    else platform.logger.warn({ isolation: 'none', reason: support.reason }, 'agent isolation is off: agents share the host and must listen on the PORT Gatehouse sets');
    for (const runtime of runtimes) this.add(runtime);
    this.#reaper = setInterval(() => void this.sweep(), options.reapIntervalMs);
    this.#reaper.unref();
    if (this.#slots.shared) {
      this.#slotRenewal = setInterval(() => {
        this.#slots.renew([...this.#sessions.values()].filter((session) => !session.ended)).catch((error: unknown) => platform.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'could not renew session slots; they lapse unless the store returns'));
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
    for (const name of this.#pools.names) stats.set(name, { sessions: 0, agentProcesses: 0 });
    for (const name of this.#urlAgents.keys()) stats.set(name, { sessions: 0, agentProcesses: 0 });
    for (const session of this.#sessions.values()) {
      const entry = stats.get(session.runtime.name);
      if (!entry || session.ended) continue;
      entry.sessions++;
      // A URL agent is one long-running service the runtime does not own: no process per session.
      if (!this.#urlAgents.has(session.runtime.name) && !session.endpoint.exited) entry.agentProcesses++;
    }
    for (const name of this.#pools.names) stats.get(name)!.agentProcesses += this.#pools.processes(name);
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
    // Known to run on another instance (and not moved since: pub/sub would have said): no store round trip.
    const knownUrl = mayForward ? this.#directory.knownRemote(runtime, sessionId, owner) : undefined;
    if (knownUrl !== undefined) return { kind: 'remote', url: knownUrl };
    const record = await this.#directory.claim(runtime, sessionId, owner);
    if (record.instance !== this.#options.instanceId && record.instanceUrl && mayForward) return { kind: 'remote', url: record.instanceUrl };
    let pending = this.#starting.get(key);
    if (!pending) {
      const held = this.#heldPerPrincipal.get(principalKey(runtime, owner)) ?? 0;
      if (held >= runtime.config.limits.maxConcurrentSessionsPerPrincipal) throw principalQuotaError(runtime, '');
      const live = (this.#livePerRuntime.get(runtime.name) ?? 0) + (this.#startingPerRuntime.get(runtime.name) ?? 0);
      const limit = runtime.config.limits.maxConcurrentSessions;
      if (live >= limit) throw runtimeQuotaError(runtime, '');
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
      if (record.instance !== this.#options.instanceId) await this.#directory.write(runtime, sessionId, owner);
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
   * places it here: one store read, none while the placement cache holds it (a move is announced
   * on the store's pub/sub) and none with the embedded store, where nothing else can take it.
   */
  async #movedAway(local: Session, runtime: RuntimeEntry, sessionId: string): Promise<boolean> {
    if (this.#platform.store.kind === 'embedded') return false;
    if ((await this.#directory.placedHere(runtime, sessionId)) || local.ended) return false;
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
    const record = await this.#directory.read(runtime, sessionId);
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
    else this.#pools.add(runtime);
  }

  /** Stops serving a runtime: its sessions end (their agents stop) and its warm processes too. */
  async remove(name: string): Promise<void> {
    const stops: Promise<void>[] = [...this.#sessions.values()].filter((session) => session.runtime.name === name).map((session) => this.end(session, 'runtime deleted'));
    stops.push(...this.#pools.remove(name));
    this.#urlAgents.get(name)?.destroy();
    this.#urlAgents.delete(name);
    await Promise.allSettled(stops);
  }

  /** Idle and lifetime reaping (session-reaper.ts) on the injected clock. */
  sweep(): Promise<void> {
    return reapSessions([...this.#sessions.values()], this.#platform.clock(), (session, reason) => this.end(session, reason));
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#reaper);
    clearInterval(this.#slotRenewal);
    await Promise.allSettled([...this.#starting.values()]);
    const stops: Promise<void>[] = [...this.#sessions.values()].map((session) => this.end(session, 'shutdown'));
    stops.push(...this.#pools.close());
    for (const endpoint of this.#urlAgents.values()) endpoint.destroy();
    await Promise.allSettled(stops);
    await this.#isolation.close();
    this.#directory.close();
  }

  /** Claims the session's quota slots (shared store: deployment-wide), then starts it; the slots go back if it fails. */
  async #startWithinQuota(runtime: RuntimeEntry, sessionId: string, owner: string): Promise<Session> {
    await this.#slots.claim(runtime, sessionId, owner);
    try {
      return await this.#start(runtime, sessionId, owner);
    } catch (error) {
      this.#slots.release(runtime, owner, sessionId);
      throw error;
    }
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
    const endpoint = this.#urlAgents.get(runtime.name) ?? (await this.#pools.take(runtime));
    const session = new Session({ runtime, id: sessionId, owner, endpoint }, this.#platform.clock());
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
      this.#directory.forget(session.runtime, session.id);
      this.#livePerRuntime.set(session.runtime.name, (this.#livePerRuntime.get(session.runtime.name) ?? 1) - 1);
      this.#hold(session.runtime, session.owner, -1);
      // A session another instance took over keeps its slots: that instance holds them now.
      if (!session.moved) this.#slots.release(session.runtime, session.owner, session.id);
    }
  }

  #doneStarting(key: string, runtime: RuntimeEntry): void {
    this.#starting.delete(key);
    this.#startingPerRuntime.set(runtime.name, (this.#startingPerRuntime.get(runtime.name) ?? 1) - 1);
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
      isolation: isolated ? { sandbox: this.#isolation, config: { ...runtime.config.isolation, agentPort: runtime.config.isolation.agentPort ?? PROTOCOL_CONTRACTS[runtime.config.protocolConfiguration.serverProtocol].port } } : undefined,
      readiness: runtime.config.protocolConfiguration.serverProtocol === 'MCP' ? 'listening' : 'ping',
      isolationOff: isolated ? undefined : runtime.config.isolation.mode === 'none' ? 'isolation.mode is "none"' : this.#isolation.support.reason,
    });
  }
}

function principalKey(runtime: RuntimeEntry, owner: string): string {
  return `${runtime.name}\u0000${owner}`;
}
