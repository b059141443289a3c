import type { Session } from './session-manager.ts';

/**
 * Idle and lifetime reaping at `now` (the platform's clock): a session past maxLifetime ends; an
 * idle one past idleRuntimeSessionTimeout ends unless its agent answers /ping `HealthyBusy`.
 */
export async function reapSessions(sessions: readonly Session[], now: number, end: (session: Session, reason: string) => Promise<void>): Promise<void> {
  await Promise.all(
    sessions.map(async (session) => {
      const { idleRuntimeSessionTimeout, maxLifetime } = session.runtime.config.lifecycleConfiguration;
      if (now - session.createdAt >= maxLifetime * 1000) return end(session, 'maxLifetime');
      if (session.active > 0 || now - session.lastActivity < idleRuntimeSessionTimeout * 1000) return undefined;
      try {
        if ((await session.endpoint.ping(2000)) === 'HealthyBusy') {
          session.lastActivity = now;
          return undefined;
        }
      } catch {
        // An agent that no longer answers /ping is as good as gone.
      }
      return end(session, 'idleRuntimeSessionTimeout');
    }),
  );
}
