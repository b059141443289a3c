/**
 * Runs as process 1 of one session's namespaces (network, mount, pid), started by `unshare` (see
 * agent-isolation.ts) with the plan as its only argument. It prepares the session's world, then
 * starts the agent and relays traffic until the agent exits:
 *   - loopback up; nothing else exists in this network namespace, so there is no route out;
 *   - the runtime's Unix socket (bound before anything is hidden) → 127.0.0.1:{agentPort};
 *   - 127.0.0.1:{port} for each allowed egress → the runtime's egress Unix socket for it;
 *   - an empty tmpfs on /tmp and over every hidden directory (Gatehouse's data dir, the socket dir);
 *     the agent's directory is mounted back when it sits inside one of them;
 *   - the agent runs as an unprivileged user (no capabilities, no new privileges).
 * When this process dies the kernel kills everything else in the pid namespace, agent included.
 */
import { spawn, spawnSync } from 'node:child_process';
import { flushCompileCache } from 'node:module';
import { existsSync, fstatSync, mkdirSync, openSync, readdirSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import path from 'node:path';

export interface SandboxPlan {
  /** Unix socket the runtime connects to; relayed to the agent's port. */
  readonly socket: string;
  readonly agentPort: number;
  /** Directory holding the runtime's egress sockets, reached through an fd once hidden. */
  readonly egressDir: string;
  /** 127.0.0.1:{port} inside → `{egressDir}/{socket}` (a relay to a host port outside). */
  readonly egress: readonly { readonly port: number; readonly socket: string }[];
  /** Directories covered with an empty tmpfs (besides /tmp). */
  readonly hide: readonly string[];
  readonly cwd?: string | undefined;
  /** Files inside hidden directories the agent still needs (a CA certificate), mounted back read-only. */
  readonly expose: readonly string[];
  /** Directories the agent needs to run (Gatehouse's installation, its program's directory), mounted back read-only where hidden. */
  readonly exposeDirectories?: readonly string[];
  readonly command: readonly string[];
  /** Drop to this uid/gid (as root); absent in a user namespace, where "root" is already the caller. */
  readonly user?: { readonly uid: number; readonly gid: number } | undefined;
  readonly tmpSizeMiB: number;
  /** This launcher's own compile cache (NODE_COMPILE_CACHE), written before the data dir holding it is hidden; not the agent's. */
  readonly compileCache?: string | undefined;
  /** The agent's own NODE_COMPILE_CACHE, if its environment set one. */
  readonly agentCompileCache?: string | undefined;
}

function fail(message: string): never {
  process.stderr.write(`gatehouse sandbox: ${message}\n`);
  process.exit(125);
}

function run(file: string, args: readonly string[], extraFd?: number): void {
  const result = spawnSync(file, args, { stdio: extraFd === undefined ? ['ignore', 'ignore', 'pipe'] : ['ignore', 'ignore', 'pipe', extraFd], encoding: 'utf8' });
  if (result.status !== 0) fail(`${file} ${args.join(' ')} failed: ${result.error?.message ?? result.stderr.trim()}`);
}

function relay(client: Socket, upstream: Socket): void {
  client.pipe(upstream).pipe(client);
  const close = (): void => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close).on('close', close);
  upstream.on('error', close).on('close', close);
}

function inside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** The entries of a directory, each opened before anything is hidden (sockets and the like are skipped). */
function entryFds(directory: string): (readonly [string, number, boolean])[] {
  const entries: (readonly [string, number, boolean])[] = [];
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    if (!entry.isDirectory() && !entry.isFile()) continue;
    const target = path.join(directory, entry.name);
    entries.push([target, openSync(target, 'r'), entry.isDirectory()] as const);
  }
  return entries;
}

/** Binds an fd opened before hiding back at its path, read-only. */
function bindReadOnly(target: string, fd: number): void {
  run('mount', ['--no-canonicalize', '--bind', '/proc/self/fd/3', target], fd);
  run('mount', ['-o', 'remount,bind,ro', target]);
}

const hideMount = (directory: string): void => run('mount', ['-t', 'tmpfs', '-o', 'mode=0755,nosuid,nodev,size=1m', 'tmpfs', directory]);

/**
 * Covers /tmp and the hidden directories; mounts back, read-only, what the agent needs to run that sat in one of
 * them (hidden directories inside those stay hidden), then the agent's own directory.
 */
function hideDirectories(plan: SandboxPlan): void {
  const hidden = ['/tmp', ...plan.hide];
  const covered = (target: string): boolean => hidden.some((directory) => inside(target, directory));
  const cwdFd = plan.cwd !== undefined && covered(plan.cwd) ? openSync(plan.cwd, 'r') : undefined;
  const fileFds = plan.expose.filter(covered).map((file) => [file, openSync(file, 'r')] as const);
  const directoryFds = (plan.exposeDirectories ?? []).filter((directory) => covered(directory) && existsSync(directory)).map((directory) => [directory, openSync(directory, 'r')] as const);
  // A directory others may not enter (mktemp -d makes 0700 ones) is rebuilt as a 0755 tmpfs holding its entries.
  const closed = new Map(directoryFds.filter(([, fd]) => (fstatSync(fd).mode & 0o001) === 0).map(([directory]) => [directory, entryFds(directory)] as const));
  run('mount', ['-t', 'tmpfs', '-o', `mode=1777,nosuid,nodev,size=${plan.tmpSizeMiB}m`, 'tmpfs', '/tmp']);
  for (const directory of plan.hide) hideMount(directory);
  for (const [directory, fd] of directoryFds) {
    mkdirSync(directory, { recursive: true });
    const entries = closed.get(directory);
    if (entries === undefined) {
      bindReadOnly(directory, fd);
      continue;
    }
    run('mount', ['-t', 'tmpfs', '-o', 'mode=0755,nosuid,nodev,size=1m', 'tmpfs', directory]);
    for (const [entry, entryFd, isDirectory] of entries) {
      if (isDirectory) mkdirSync(entry);
      else writeFileSync(entry, '');
      bindReadOnly(entry, entryFd);
    }
  }
  // A data dir inside a checkout that was mounted back is hidden again.
  for (const directory of plan.hide) if (directoryFds.some(([exposed]) => inside(directory, exposed))) hideMount(directory);
  if (cwdFd !== undefined) {
    mkdirSync(plan.cwd!, { recursive: true });
    run('mount', ['--no-canonicalize', '--bind', '/proc/self/fd/3', plan.cwd!], cwdFd);
  }
  for (const [file, fd] of fileFds) {
    mkdirSync(path.dirname(file), { recursive: true });
    if (!existsSync(file)) writeFileSync(file, '');
    bindReadOnly(file, fd);
  }
}

function listenEgress(plan: SandboxPlan, egressFd: number): Promise<unknown> {
  return Promise.all(
    plan.egress.map(
      ({ port, socket }) =>
        new Promise((resolve, reject) => {
          const server = createServer((client) => relay(client, connect(`/proc/self/fd/${egressFd}/${socket}`)));
          server.once('error', reject).listen(port, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
}

/** The agent's environment: this launcher's own compile cache is not handed on (the agent could not reach it anyway). */
function agentEnv(plan: SandboxPlan): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_COMPILE_CACHE;
  if (plan.agentCompileCache !== undefined) env.NODE_COMPILE_CACHE = plan.agentCompileCache;
  return env;
}

async function main(): Promise<void> {
  const plan = JSON.parse(process.argv[2] ?? '') as SandboxPlan;
  // Written now: once the data dir is hidden, nothing written at exit would land.
  if (plan.compileCache !== undefined) flushCompileCache();
  run('ip', ['link', 'set', 'lo', 'up']);
  const front = createServer((client) => relay(client, connect(plan.agentPort, '127.0.0.1')));
  await new Promise<void>((resolve, reject) => front.once('error', reject).listen(plan.socket, resolve));
  const egressFd = openSync(plan.egressDir, 'r');
  hideDirectories(plan);
  await listenEgress(plan, egressFd).catch((error: unknown) => fail(`could not open an egress port: ${error instanceof Error ? error.message : String(error)}`));
  const user = plan.user;
  const command = user
    ? ['setpriv', '--reuid', String(user.uid), '--regid', String(user.gid), '--clear-groups', '--inh-caps=-all', '--no-new-privs', '--', ...plan.command]
    : plan.command;
  const agent = spawn(command[0]!, command.slice(1), { cwd: plan.cwd, stdio: ['ignore', 'inherit', 'inherit'], env: agentEnv(plan) });
  agent.on('error', (error: NodeJS.ErrnoException) => fail(`could not start ${JSON.stringify(plan.command[0])} (${error.code ?? error.message})`));
  agent.on('exit', (code, signal) => process.exit(code ?? 128 + (signal === 'SIGKILL' ? 9 : 15)));
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => agent.kill(signal));
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
