import { createHash } from 'node:crypto';
import type { SharedStore } from '@gatehouse/core';
import { RuntimeError } from './runtime-error.ts';
import type { RuntimeEntry } from './runtime-registry.ts';

/** A running session's slot lease (shared store) and how often live sessions renew it: three renewals per lease. */
export const SLOT_LEASE_SECONDS = 30;
export const SLOT_RENEW_MS = 10_000;

/**
 * Deployment-wide session quotas with a shared store: each running session holds a leased slot of
 * its principal and one of its runtime (renewed every SLOT_RENEW_MS), so maxConcurrentSessions and
 * maxConcurrentSessionsPerPrincipal count sessions on every instance, and an instance that dies
 * frees its slots within one lease. With the embedded store there is one instance: nothing to share.
 */
export class QuotaSlots {
  readonly #store: SharedStore;

  constructor(store: SharedStore) {
    this.#store = store;
  }

  get shared(): boolean {
    return this.#store.kind !== 'embedded';
  }

  /** Claims both slots of a new session, or throws the quota error naming the limit (nothing held then). */
  async claim(runtime: RuntimeEntry, sessionId: string, owner: string): Promise<void> {
    if (!this.shared) return;
    if (!(await this.#store.claimSlot(principalSlotKey(runtime, owner), sessionId, runtime.config.limits.maxConcurrentSessionsPerPrincipal, SLOT_LEASE_SECONDS))) {
      throw principalQuotaError(runtime, ' across its instances');
    }
    const limit = runtime.config.limits.maxConcurrentSessions;
    let claimed = false;
    try {
      claimed = await this.#store.claimSlot(slotKey(runtime), sessionId, limit, SLOT_LEASE_SECONDS);
    } finally {
      // A failure here only delays the slot's return until its lease runs out.
      if (!claimed) this.#store.releaseSlot(principalSlotKey(runtime, owner), sessionId).catch(() => undefined);
    }
    if (!claimed) throw runtimeQuotaError(runtime, ' across its instances');
  }

  release(runtime: RuntimeEntry, owner: string, sessionId: string): void {
    if (!this.shared) return;
    // A failure here only delays the slot's return until its lease runs out.
    this.#store.releaseSlot(slotKey(runtime), sessionId).catch(() => undefined);
    this.#store.releaseSlot(principalSlotKey(runtime, owner), sessionId).catch(() => undefined);
  }

  /** Keeps the slots (runtime and principal) of these running sessions leased. */
  async renew(sessions: Iterable<{ readonly runtime: RuntimeEntry; readonly id: string; readonly owner: string }>): Promise<void> {
    const byKey = new Map<string, string[]>();
    const add = (key: string, id: string): void => {
      const ids = byKey.get(key);
      if (ids) ids.push(id);
      else byKey.set(key, [id]);
    };
    for (const session of sessions) {
      add(slotKey(session.runtime), session.id);
      add(principalSlotKey(session.runtime, session.owner), session.id);
    }
    for (const [key, ids] of byKey) await this.#store.renewSlots(key, ids, SLOT_LEASE_SECONDS);
  }
}

function slotKey(runtime: RuntimeEntry): string {
  return `gatehouse:runtime:${runtime.name}:session-slots`;
}

/** The owner hashed: principals are long issuer+subject strings, and a key should not spell them out. */
function principalSlotKey(runtime: RuntimeEntry, owner: string): string {
  return `gatehouse:runtime:${runtime.name}:principal-slots:${createHash('sha256').update(owner).digest('base64url')}`;
}

export function runtimeQuotaError(runtime: RuntimeEntry, where: string): RuntimeError {
  const limit = runtime.config.limits.maxConcurrentSessions;
  return new RuntimeError('ServiceQuotaExceededException', `Runtime ${runtime.name} already runs ${limit} sessions${where} (limits.maxConcurrentSessions); stop an idle session with stopruntimesession or retry later.`);
}

/** Same error name and status as the runtime total (402), with the per-principal limit and how to raise it. */
export function principalQuotaError(runtime: RuntimeEntry, where: string): RuntimeError {
  const limit = runtime.config.limits.maxConcurrentSessionsPerPrincipal;
  return new RuntimeError(
    'ServiceQuotaExceededException',
    `You already run ${limit} sessions on runtime ${runtime.name}${where}, the most one user may run at once (limits.maxConcurrentSessionsPerPrincipal = ${limit}). ` +
      'Stop one with StopRuntimeSession or let it reach its idle timeout; an operator can raise limits.maxConcurrentSessionsPerPrincipal in the runtime configuration.',
  );
}
