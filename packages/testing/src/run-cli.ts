import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSseText } from '@gatehouse/core';

export const binPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'cli', 'bin', 'gatehouse.mjs');

export interface RunningCli {
  readonly child: ChildProcess;
  readonly url: string;
  readonly output: () => string;
  readonly password: string | undefined;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `gatehouse up` (or another serve command) as a real child process and waits for its banner. */
export async function startCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<RunningCli> {
  const child = spawn(process.execPath, [binPath, ...args], {
    env: { ...process.env, GATEHOUSE_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gatehouse did not start in 60 s:\n${text}`)), 60_000);
    const check = (): void => {
      const match = /Gatehouse is running at (\S+)/.exec(text);
      if (match && /data directory/.test(text)) {
        clearTimeout(timer);
        // The first-run block follows the banner in the same write.
        setTimeout(() => resolve(match[1]!), 50);
      }
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gatehouse exited with ${code}:\n${text}`));
    });
  });
  const password = /password: (\S+)/.exec(text)?.[1];
  return {
    child,
    url,
    output: () => text,
    password,
    stop(signal = 'SIGTERM') {
      // A child killed by a signal has exitCode null and signalCode set: it is gone all the same.
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
      return new Promise((resolve) => {
        child.once('exit', (code) => resolve(code));
        child.kill(signal);
      });
    },
  };
}

/** Runs a CLI verb to completion. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [binPath, ...args], { env: { ...process.env, GATEHOUSE_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Reads an SSE response into the list of `{event, data}` records. */
export async function readSse(response: Response): Promise<{ event: string; data: Record<string, unknown> }[]> {
  return parseSse(await response.text());
}

/** Parses an SSE body into the list of `{event, data}` records (multi-line data joined). */
export function parseSse(text: string): { event: string; data: Record<string, unknown> }[] {
  return parseSseText(text).map(({ event, data }) => ({ event: event ?? 'message', data: JSON.parse(data) as Record<string, unknown> }));
}
