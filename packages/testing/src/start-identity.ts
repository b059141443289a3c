import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer } from 'node:net';
import { createAppServer, createLogger, EmbeddedStore, listen, closeServer, parseConfig, type Logger, type Platform } from '@gatehouse/core';
import { createIdentity, type IdentityService } from '@gatehouse/identity';

export interface RunningIdentity {
  readonly identity: IdentityService;
  readonly baseUrl: string;
  readonly port: number;
  readonly dataDir: string;
  readonly platform: Platform;
  readonly adminKey: { accessKeyId: string; secretAccessKey: string };
  stop(): Promise<void>;
  /** Stops and removes the data dir. */
  close(): Promise<void>;
}

/** A port that was free a moment ago, so the issuer URL can be known before the identity starts. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 0;
}

export function readAdminKey(file: string): { accessKeyId: string; secretAccessKey: string } {
  const text = readFileSync(file, 'utf8');
  return {
    accessKeyId: /aws_access_key_id = (\S+)/.exec(text)![1]!,
    secretAccessKey: /aws_secret_access_key = (\S+)/.exec(text)![1]!,
  };
}

/** `database`: a postgres:// URL (merged into `config`); SQLite in the data dir when absent. */
export async function startIdentity(
  options: { dataDir?: string; config?: unknown; port?: number; now?: () => number; logger?: Logger; database?: string } = {},
): Promise<RunningIdentity> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'gatehouse-identity-'));
  const port = options.port ?? (await freePort());
  const baseUrl = `http://127.0.0.1:${port}`;
  const clock = options.now ?? Date.now;
  const platform: Platform = {
    config: parseConfig(options.database ? { ...(options.config as object | undefined), database: options.database } : (options.config ?? {})), dataDir, baseUrl, logger: options.logger ?? createLogger({ level: 'silent' }), clock, store: new EmbeddedStore(clock),
  };
  const identity = await createIdentity(platform);
  const server = createAppServer([identity]);
  await listen(server, port);
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await closeServer(server);
    await identity.close();
    await platform.store.close();
  };
  return {
    identity, baseUrl, port, dataDir, platform, adminKey: readAdminKey(identity.adminCredentialsFile), stop,
    async close() {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
