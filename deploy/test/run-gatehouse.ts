import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const binPath = fileURLToPath(new URL('../../packages/cli/bin/gatehouse.mjs', import.meta.url));

/** Whether this machine can start a process in a network namespace of its own (no interfaces but loopback). */
export function canIsolateNetwork(): boolean {
  return spawnSync('unshare', ['--net', 'true'], { stdio: 'ignore' }).status === 0;
}

/** Runs the real `gatehouse` CLI in a child process; `isolated`: inside `unshare --net` (no network at all). */
export function runGatehouse(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; isolated?: boolean } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const [command, prefix] = options.isolated ? ['unshare', ['--net', process.execPath]] : [process.execPath, []];
    const child = spawn(command, [...prefix, binPath, ...args], {
      cwd: options.cwd ?? process.cwd(),
      env: { ...process.env, GATEHOUSE_LOG_LEVEL: 'warn', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A stand-in web build (the real one is built by the test runner; these tests need only its shape). */
export function fakeWebDist(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-web-'));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>Gatehouse</title><div id="root"></div>');
  return dir;
}
