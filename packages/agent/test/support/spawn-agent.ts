import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { parseSseText } from '@gatehouse/core';
import { agentEntryPath } from '../../src/index.ts';

export interface SpawnedAgent {
  readonly child: ChildProcess;
  readonly baseUrl: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts `src/main.ts` the way the runtime does (PORT in the environment) and waits for its listening log line. */
export async function spawnAgent(env: Record<string, string>): Promise<SpawnedAgent> {
  const child = spawn(process.execPath, [agentEntryPath], { env: { ...process.env, PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent did not start:\n${text}`)), 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const match = /"port":(\d+)[^\n]*"msg":"agent listening"/.exec(text);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`agent exited with ${String(code)}:\n${text}`));
    });
  });
  return {
    child,
    baseUrl: `http://127.0.0.1:${port}`,
    output: () => text,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Parses an SSE body into `{ event, data }` pairs. */
export function parseSse(body: string): Array<{ event: string; data: unknown }> {
  return parseSseText(body).map(({ event, data }) => ({ event: event ?? 'message', data: JSON.parse(data) as unknown }));
}
