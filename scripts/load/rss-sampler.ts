import { readFileSync } from 'node:fs';

/** Resident memory of a process in MiB, from /proc (Linux); undefined once it has exited. */
export function residentMiB(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

export interface RssSeries {
  readonly name: string;
  readonly pid: number;
  readonly samples: { atSeconds: number; mib: number }[];
}

/** Samples each named process every `intervalMs` until stopped. */
export function sampleRss(processes: readonly { name: string; pid: number }[], intervalMs: number): { series: RssSeries[]; stop(): void } {
  const start = Date.now();
  const series: RssSeries[] = processes.map(({ name, pid }) => ({ name, pid, samples: [] }));
  const take = (): void => {
    const atSeconds = Math.round((Date.now() - start) / 100) / 10;
    for (const entry of series) {
      const mib = residentMiB(entry.pid);
      if (mib !== undefined) entry.samples.push({ atSeconds, mib });
    }
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    series,
    stop() {
      clearInterval(timer);
      take();
    },
  };
}
