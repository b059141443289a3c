import { readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { probeIsolation, socketRoot } from '../../src/agent-isolation.ts';

export const FASTAPI_AGENT_DIR = fileURLToPath(new URL('../../../../examples/fastapi-agent/', import.meta.url));
export const PYTHON = '/usr/bin/python3';

/** The uid an isolated agent sees: nobody when Gatehouse runs as root; in a user namespace, its mapped root. */
export function agentUid(): number {
  return probeIsolation().userNamespace ? 0 : 65534;
}

/** A runtime entry for the harness: the FastAPI example, unchanged, isolated per session. */
export function fastapiRuntime(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    agentRuntimeName: name,
    agent: { command: [PYTHON, 'main.py'], cwd: FASTAPI_AGENT_DIR },
    isolation: { mode: 'namespace' },
    limits: { warmPoolSize: 0, startTimeoutSeconds: 20 },
    ...extra,
  };
}

/** Host pids of every process in the network namespace named like `net:[4026532…]` (none once it is gone). */
export function namespaceMembers(netns: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/net`) === netns) pids.push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return pids;
}

/** Agent sockets of Gatehouse processes with this pid (the runtime's per-process socket directory). */
export function agentSockets(pid = process.pid): string[] {
  const root = socketRoot();
  const sockets: string[] = [];
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  for (const name of names.filter((entry) => entry.startsWith(`${pid}-`))) {
    for (const file of readdirSync(path.join(root, name))) if (file.endsWith('.sock')) sockets.push(path.join(root, name, file));
  }
  return sockets;
}

/** Socket directories (any state) left by the Gatehouse process with this pid. */
export function socketDirectories(pid: number): string[] {
  try {
    return readdirSync(socketRoot()).filter((name) => name.startsWith(`${pid}-`));
  } catch {
    return [];
  }
}

export async function eventually(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
