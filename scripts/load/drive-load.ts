import { performance } from 'node:perf_hooks';
import type { LatencyStats } from './latency-stats.ts';

export type Attempt = () => Promise<void>;

export interface LoadBudget {
  readonly durationMs: number;
  /** Hard cap on requests started, whatever the duration. */
  readonly maxRequests: number;
}

async function timed(stats: LatencyStats, attempt: Attempt): Promise<void> {
  const started = performance.now();
  try {
    await attempt();
    stats.record(performance.now() - started);
  } catch (error) {
    stats.fail(error instanceof Error ? error.message.slice(0, 120) : String(error));
  }
}

/**
 * Open loop: starts `ratePerSecond` requests each second whatever the latency, so a slow server shows
 * up as latency and errors rather than as a politely lower rate. In-flight requests are capped so a
 * stalled server cannot make the generator exhaust memory; a start skipped at the cap counts as an error.
 */
export async function openLoop(ratePerSecond: number, budget: LoadBudget, stats: LatencyStats, attempt: Attempt, maxInFlight = 256): Promise<number> {
  const interval = 1000 / ratePerSecond;
  const start = performance.now();
  const inFlight = new Set<Promise<void>>();
  let started = 0;
  for (;;) {
    const now = performance.now();
    if (now - start >= budget.durationMs || started >= budget.maxRequests) break;
    const due = Math.floor((now - start) / interval) + 1;
    while (started < due && started < budget.maxRequests) {
      started += 1;
      if (inFlight.size >= maxInFlight) {
        stats.fail('generator: too many requests in flight');
        continue;
      }
      const promise = timed(stats, attempt).finally(() => inFlight.delete(promise));
      inFlight.add(promise);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, interval / 2)));
  }
  await Promise.all(inFlight);
  return started;
}

/** Closed loop: `concurrency` workers back to back for the duration; measures the most a setup serves. */
export async function closedLoop(concurrency: number, budget: LoadBudget, stats: LatencyStats, attempt: Attempt): Promise<{ requests: number; seconds: number }> {
  const start = performance.now();
  let started = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() - start < budget.durationMs && started < budget.maxRequests) {
      started += 1;
      await timed(stats, attempt);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  return { requests: started, seconds: (performance.now() - start) / 1000 };
}
