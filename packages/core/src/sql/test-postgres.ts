import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from '../free-port.ts';
import type { SqlEngine } from './sql-database.ts';

/** A throwaway PostgreSQL server for tests and benchmarks (see `startTestPostgres`). */
export interface TestPostgres {
  /** `postgres://gatehouse:…@127.0.0.1:PORT/gatehouse`: the superuser on a database made for the caller. */
  readonly url: string;
  readonly port: number;
  readonly password: string;
  /** A new empty database owned by the superuser; its URL (one per test keeps tests apart). */
  createDatabase(name?: string): Promise<string>;
  /** Runs SQL as the superuser on the `postgres` database (CREATE ROLE, REVOKE…). */
  admin(sql: string): Promise<void>;
  /** Stops the server (fast shutdown: open connections are cut); `start` brings it back on the same port and data. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and removes its files. */
  dispose(): Promise<void>;
}

const SUPERUSER = 'gatehouse';

/** The newest Debian PostgreSQL, or PG_BIN when set; undefined when PostgreSQL is not installed. */
export function postgresBinDir(): string | undefined {
  if (process.env.PG_BIN && existsSync(path.join(process.env.PG_BIN, 'initdb'))) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((version) => existsSync(path.join(root, version, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : path.join(root, versions[0], 'bin');
}

/** PostgreSQL refuses to run as root: as root, its programs run as the `postgres` user the Debian package creates. */
function asServerUser(binary: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [binary, args];
  return ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', binary, ...args]];
}

function serverUserIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const entry = spawnSync('getent', ['passwd', 'postgres'], { encoding: 'utf8' }).stdout.split(':');
  if (entry.length < 4) throw new Error('running as root needs the postgres user (Debian package postgresql) to start PostgreSQL');
  return { uid: Number(entry[2]), gid: Number(entry[3]) };
}

async function waitReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`postgres exited with ${child.exitCode}: ${log()}`);
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      await client.end();
      return;
    } catch (error) {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline) throw new Error(`postgres did not accept connections within 30 s: ${(error as Error).message}; ${log()}`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/**
 * initdb's a PostgreSQL into a temp dir and starts it on a free loopback port (password authentication;
 * fsync off unless `durable`, for benchmarks: a test server, not a durable one). Call `dispose` when done; the files also go at process exit.
 */
export async function startTestPostgres(options: { readonly durable?: boolean } = {}): Promise<TestPostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL is not installed (Debian: apt-get install postgresql); `npm test` installs it');
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-pg-'));
  const ids = serverUserIds();
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  writeFileSync(path.join(dir, 'pwfile'), password);
  if (ids) for (const entry of [dir, path.join(dir, 'pwfile')]) chownSync(entry, ids.uid, ids.gid);
  const data = path.join(dir, 'data');
  const [initdb, initArgs] = asServerUser(path.join(bin, 'initdb'), ['-D', data, '-U', SUPERUSER, `--pwfile=${path.join(dir, 'pwfile')}`, '-A', 'scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const init = spawnSync(initdb, initArgs, { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  const port = await freePort();
  const base = `postgres://${SUPERUSER}:${password}@127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let output = '';
  const start = async (): Promise<void> => {
    const [postgres, args] = asServerUser(path.join(bin, 'postgres'), ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', `fsync=${options.durable ? 'on' : 'off'}`, '-c', 'max_connections=200']);
    output = '';
    const started = spawn(postgres, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    started.stdout.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
    started.stderr.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
    // a test file's process may end while the server runs; the exit hook stops it
    started.unref();
    for (const stream of [started.stdout, started.stderr]) (stream as unknown as { unref?: () => void }).unref?.();
    child = started;
    await waitReady(`${base}/postgres`, started, () => output);
  };
  const stop = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.ref();
    running.kill('SIGINT');
    await exited;
  };
  const onExit = (): void => {
    if (child && child.exitCode === null) child.kill('SIGQUIT');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  await start();
  const admin = async (sql: string): Promise<void> => {
    const client = new pg.Client({ connectionString: `${base}/postgres` });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  let databases = 0;
  const createDatabase = async (name = `test_${process.pid}_${++databases}`): Promise<string> => {
    await admin(`CREATE DATABASE "${name}"`);
    return `${base}/${name}`;
  };
  const url = await createDatabase('gatehouse');
  return {
    url, port, password, createDatabase, admin, stop, start,
    dispose: async () => {
      await stop();
      process.removeListener('exit', onExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Both engines, for tests that run once per engine. */
export const TEST_ENGINES: readonly SqlEngine[] = ['sqlite', 'postgres'];

let shared: Promise<TestPostgres> | undefined;
/** One server per process (a test file), started on first use and stopped when the process exits. */
export function sharedTestPostgres(): Promise<TestPostgres> {
  shared ??= startTestPostgres();
  return shared;
}

/** The config's `database` for an empty store on `engine`: `embedded` (SQLite in the caller's fresh data dir) or a new PostgreSQL database. */
export async function freshDatabase(engine: SqlEngine): Promise<string> {
  return engine === 'sqlite' ? 'embedded' : (await sharedTestPostgres()).createDatabase();
}
