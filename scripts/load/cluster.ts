import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = path.join(root, 'packages', 'cli', 'bin', 'gatehouse.mjs');
const RUNTIME_INSTANCE = path.join(root, 'scripts', 'load', 'runtime-instance.ts');

export type InstanceKind = 'identity' | 'runtime' | 'gateway' | 'up';

/** One `gatehouse <kind>` process on its own loopback port. */
export interface InstanceProcess {
  readonly name: string;
  readonly kind: InstanceKind;
  readonly port: number;
  readonly url: string;
  readonly child: ChildProcess;
  /** Last lines the process printed (for a failure report; tokens are never printed by Gatehouse). */
  output(): string;
  stop(): Promise<void>;
}

export interface InstanceSettings {
  /** Runtime instances from `gatehouse runtime` ('cli') or from scripts/load/runtime-instance.ts ('script', passes instanceUrl). */
  readonly runtimeEntry: 'cli' | 'script';
  readonly dataDir: string;
  readonly publicUrl: string;
  readonly configFile: string;
  readonly storeUrl: string;
}

export function spawnInstance(name: string, kind: InstanceKind, port: number, settings: InstanceSettings): InstanceProcess {
  const url = `http://127.0.0.1:${port}`;
  const common = ['--port', String(port), '--data-dir', settings.dataDir, '--public-url', settings.publicUrl, '--config', settings.configFile];
  const argv = kind === 'runtime' && settings.runtimeEntry === 'script' ? [RUNTIME_INSTANCE, ...common] : [CLI, kind, '--host', '127.0.0.1', ...common];
  const child = spawn(
    process.execPath,
    argv,
    {
      env: {
        ...process.env,
        GATEHOUSE_STORE: settings.storeUrl,
        GATEHOUSE_LOG_LEVEL: process.env.GATEHOUSE_LOG_LEVEL ?? 'warn',
        // The address other instances forward a session's requests to (each instance's own, not the balancer's).
        GATEHOUSE_INSTANCE_URL: url,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return {
    name,
    kind,
    port,
    url,
    child,
    output: () => tail,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Waits until the instance answers `GET /ping` with 200 (not the 503 it gives while starting). */
export async function waitReady(instance: InstanceProcess, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (instance.child.exitCode !== null) throw new Error(`${instance.name} exited (${instance.child.exitCode}):\n${instance.output()}`);
    try {
      const response = await fetch(`${instance.url}/ping`);
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${instance.name} was not ready within ${timeoutMs} ms:\n${instance.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Direct children of a process (agent processes of a runtime instance), from /proc. */
export function childPids(pid: number): number[] {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return text ? text.split(/\s+/).map(Number) : [];
  } catch {
    return [];
  }
}
