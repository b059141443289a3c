import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IsolationConfig, Logger, ResolvedIsolationConfig } from '@gatehouse/core';
import { RuntimeError } from './runtime-error.ts';
import type { SandboxPlan } from './agent-sandbox.ts';

const SANDBOX_SCRIPT = fileURLToPath(new URL('./agent-sandbox.ts', import.meta.url));
/** The unprivileged user agents run as inside their namespaces (Debian's `nobody`). */
const AGENT_USER = { uid: 65534, gid: 65534 } as const;
const UNSHARE_FLAGS = ['--net', '--mount', '--pid', '--fork', '--kill-child', '--mount-proc'] as const;
const TMP_SIZE_MIB = 256;
/**
 * The sandbox launcher's compile cache (Node's, NODE_COMPILE_CACHE) inside the data dir: private to the runtime
 * (0700, hidden from agents with the rest of the data dir) and kept across restarts. A hit skips stripping the
 * launcher's TypeScript, which loads a WebAssembly compiler at every start otherwise (see docs/benchmarks.md).
 */
export const LAUNCHER_COMPILE_CACHE = 'launcher-compile-cache';
/** Files named by these variables stay readable when they sit in a hidden directory (Gatehouse's local CA in its data dir). */
const EXPOSED_FILES = ['NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE'] as const;
/** Gatehouse's own installation (the project's node, the reference agent, node_modules), read-only inside. */
const INSTALL_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** What the host allows, probed once per process. */
export interface IsolationSupport {
  readonly available: boolean;
  /** Through an unprivileged user namespace (not root): the agent keeps the caller's uid outside. */
  readonly userNamespace: boolean;
  /** Why namespaces are not available (or how they are), for the start-up log. */
  readonly reason: string;
}

let probed: IsolationSupport | undefined;

/** Tries `unshare` with the flags sessions use (as root, then through a user namespace). */
export function probeIsolation(): IsolationSupport {
  if (probed) return probed;
  if (process.platform !== 'linux') return (probed = { available: false, userNamespace: false, reason: `network namespaces are Linux-only (this is ${process.platform})` });
  let failure = '';
  for (const userNamespace of [false, true]) {
    if (!userNamespace && process.getuid?.() !== 0) continue;
    const args = [...(userNamespace ? ['--user', '--map-root-user'] : []), ...UNSHARE_FLAGS, '--', 'ip', 'link', 'set', 'lo', 'up'];
    const result = spawnSync('unshare', args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 5000 });
    if (result.status === 0 && spawnSync('setpriv', ['--version'], { stdio: 'ignore' }).status === 0) {
      return (probed = { available: true, userNamespace, reason: userNamespace ? 'unprivileged user namespaces' : 'running as root' });
    }
    failure = result.error ? `${result.error.message} (install util-linux and iproute2)` : result.stderr.trim().split('\n').at(-1) ?? `exit ${String(result.status)}`;
  }
  return (probed = { available: false, userNamespace: false, reason: `unshare could not create namespaces: ${failure || 'not root and user namespaces unavailable'}` });
}

export interface PreparedSandbox {
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly socketPath: string;
}

export interface IsolationOptions {
  readonly dataDir: string;
  /** Gatehouse's public URL: its port is always reachable from inside when it is a loopback URL. */
  readonly baseUrl: string;
  readonly logger: Logger;
  /** For tests: what probeIsolation would answer. */
  readonly support?: IsolationSupport;
}

/**
 * Per-session namespaces for one runtime service: a 0700 socket directory per Gatehouse process
 * (stale ones of dead processes removed at start), the egress relays shared by its sessions, and
 * the launch command of each session's sandbox.
 */
export class AgentIsolation {
  readonly support: IsolationSupport;
  readonly #options: IsolationOptions;
  readonly #egress = new Map<number, Server>();
  #directory: string | undefined;
  #closed = false;

  constructor(options: IsolationOptions) {
    this.#options = options;
    this.support = options.support ?? probeIsolation();
    // Directories of Gatehouse processes killed earlier go at start, not at the first session.
    if (this.support.available && existsSync(socketRoot())) removeStale(socketRoot(), options.logger);
  }

  /** The mode a runtime gets; `namespace` where the host cannot do it is a configuration error naming the cause. */
  modeFor(runtimeName: string, config: IsolationConfig): 'namespace' | 'none' {
    if (config.mode === 'none') return 'none';
    if (this.support.available) return 'namespace';
    if (config.mode === 'namespace') {
      throw new RuntimeError('ValidationException', `Runtime ${runtimeName} asks for isolation.mode "namespace", but ${this.support.reason}; run Gatehouse as root on Linux, enable user namespaces, or set isolation.mode to "auto".`);
    }
    return 'none';
  }

  /** The sandbox launch of one session: its socket, the egress ports it may reach, what stays hidden. */
  async prepare(options: { readonly command: readonly string[]; readonly cwd: string | undefined; readonly config: ResolvedIsolationConfig; readonly env: Readonly<Record<string, string>> }): Promise<PreparedSandbox> {
    const directory = this.#ensureDirectory();
    const outside = await this.#egressPorts([...options.config.egress, ...loopbackEndpoints(options.env)]);
    const egress = outside.map((port) => ({ port: insidePort(port, options.config.agentPort), socket: `${port}.sock` }));
    const socketPath = path.join(directory, `${randomBytes(6).toString('hex')}.sock`);
    const cwd = options.cwd === undefined ? undefined : path.resolve(options.cwd);
    const hide = [this.#options.dataDir, path.dirname(directory)].filter((dir) => !dir.startsWith('/tmp/') && existsSync(dir) && statSync(dir).isDirectory());
    const compileCache = this.#compileCacheDirectory();
    const plan: SandboxPlan = {
      socket: socketPath,
      compileCache,
      agentCompileCache: options.env.NODE_COMPILE_CACHE,
      agentPort: options.config.agentPort,
      egressDir: path.join(directory, 'egress'),
      egress,
      hide: [...new Set(hide)],
      cwd,
      expose: EXPOSED_FILES.map((name) => options.env[name]).filter((file): file is string => file !== undefined && path.isAbsolute(file) && existsSync(file)),
      exposeDirectories: programDirectories(options.command),
      command: options.command,
      user: this.support.userNamespace ? undefined : AGENT_USER,
      tmpSizeMiB: TMP_SIZE_MIB,
    };
    const userFlags = this.support.userNamespace ? ['--user', '--map-root-user'] : [];
    // setpriv's parent-death signal: if Gatehouse dies (even SIGKILL), unshare dies, --kill-child takes the sandbox, and the kernel the rest of its pid namespace.
    const command = ['setpriv', '--pdeathsig', 'KILL', '--', 'unshare', ...userFlags, ...UNSHARE_FLAGS, '--', process.execPath, '--disable-warning=ExperimentalWarning', SANDBOX_SCRIPT, JSON.stringify(plan)];
    const env: Record<string, string> = { ...rewriteMovedPorts(options.env, egress), PORT: String(options.config.agentPort), HOME: '/tmp', TMPDIR: '/tmp' };
    // The launcher's own cache, never the agent's (the sandbox hands the agent its own value back).
    if (compileCache) env.NODE_COMPILE_CACHE = compileCache;
    else delete env.NODE_COMPILE_CACHE;
    // `python3` must not resolve to root's pyenv shim that nobody cannot run: keep the PATH entries the agent's user can reach.
    if (plan.user && env.PATH !== undefined) env.PATH = env.PATH.split(':').filter(reachableByOthers).join(':');
    return { command, socketPath, env };
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#egress.values()].map((server) => new Promise((resolve) => server.close(resolve))));
    this.#egress.clear();
    if (this.#directory) rmSync(this.#directory, { recursive: true, force: true });
    this.#directory = undefined;
  }

  #ensureDirectory(): string {
    if (this.#closed) throw new RuntimeError('ServiceUnavailableException', 'The runtime is shutting down; retry on another instance.');
    if (this.#directory) return this.#directory;
    const root = socketRoot();
    mkdirSync(root, { recursive: true, mode: 0o700 });
    const directory = path.join(root, `${process.pid}-${randomBytes(4).toString('hex')}`);
    mkdirSync(path.join(directory, 'egress'), { recursive: true, mode: 0o700 });
    this.#directory = directory;
    return directory;
  }

  /** The launcher's compile cache in the data dir; none (the launcher strips its TypeScript each time) where it cannot be made. */
  #compileCacheDirectory(): string | undefined {
    const directory = path.join(this.#options.dataDir, LAUNCHER_COMPILE_CACHE);
    try {
      mkdirSync(directory, { mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return undefined;
    }
    return directory;
  }

  /** Relays `{dir}/egress/{port}.sock` → host:port, one per port, opened on first use. */
  async #egressPorts(extra: readonly string[]): Promise<number[]> {
    const targets = new Map<number, string>();
    const own = new URL(this.#options.baseUrl);
    if (['localhost', '127.0.0.1', '[::1]'].includes(own.hostname)) targets.set(Number(own.port || (own.protocol === 'https:' ? 443 : 80)), '127.0.0.1');
    for (const entry of extra) {
      const at = entry.lastIndexOf(':');
      const port = Number(entry.slice(at + 1));
      if (!targets.has(port)) targets.set(port, entry.slice(0, at));
    }
    for (const [port, host] of targets) {
      if (this.#egress.has(port)) continue;
      const server = createServer((client) => {
        const upstream = connect(port, host);
        client.pipe(upstream).pipe(client);
        for (const socket of [client, upstream]) socket.on('error', () => (client.destroy(), upstream.destroy()));
      });
      this.#egress.set(port, server);
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(path.join(this.#directory!, 'egress', `${port}.sock`), resolve));
    }
    return [...targets.keys()];
  }
}

/**
 * The loopback endpoints the agent's own environment names (the OTLP exporter, a local model server, anything
 * configured as `http://localhost:{port}…`, also inside JSON values): the runtime configured them for this agent,
 * so they are reachable inside as they are outside. Other hosts still need `isolation.egress`.
 */
export function loopbackEndpoints(env: Readonly<Record<string, string>>): string[] {
  const found = new Set<string>();
  for (const value of Object.values(env)) {
    for (const match of value.matchAll(/https?:\/\/(?:localhost|127\.0\.0\.1|\[::1\]):(\d{1,5})/g)) {
      const port = Number(match[1]);
      if (port > 0 && port < 65_536) found.add(`127.0.0.1:${port}`);
    }
  }
  return [...found];
}

/**
 * What the agent needs to run when it lives under /tmp (a checkout in a temporary directory, as CI makes):
 * Gatehouse's installation and the directory of each absolute program or script in its command. Mounted back
 * read-only only where a hidden directory covers them; hidden directories inside them stay hidden.
 */
function programDirectories(command: readonly string[]): string[] {
  const directories = new Set([INSTALL_ROOT]);
  for (const argument of command) {
    if (!path.isAbsolute(argument) || !existsSync(argument)) continue;
    directories.add(statSync(argument).isDirectory() ? argument : path.dirname(argument));
  }
  return [...directories];
}

/** Whether every directory on the way is searchable by other users (o+x), i.e. by the agent's unprivileged user. */
function reachableByOthers(directory: string): boolean {
  if (!path.isAbsolute(directory)) return false;
  try {
    for (let current = directory; ; current = path.dirname(current)) {
      if ((statSync(current).mode & 0o001) === 0) return false;
      if (current === '/') return true;
    }
  } catch {
    return false;
  }
}

/** Where a host port appears inside: the same number, unless the agent itself listens there. */
const MOVED_PORT_BASE = 61_000;
function insidePort(port: number, agentPort: number): number {
  return port === agentPort ? MOVED_PORT_BASE + (port % 4000) : port;
}

/**
 * Gatehouse on 8080 and an agent on 8080: inside, Gatehouse's relay moves to another port, and the agent's
 * loopback URLs of the old one (GATEHOUSE_GATEWAY_URL…) are rewritten to it.
 */
function rewriteMovedPorts(env: Readonly<Record<string, string>>, egress: readonly { port: number; socket: string }[]): Record<string, string> {
  const result = { ...env };
  for (const { port, socket } of egress) {
    const outside = Number.parseInt(socket, 10);
    if (outside === port) continue;
    const pattern = new RegExp(`(://(?:localhost|127\\.0\\.0\\.1|\\[::1\\])):${outside}(?![0-9])`, 'g');
    for (const [name, value] of Object.entries(result)) result[name] = value.replace(pattern, `$1:${port}`);
  }
  return result;
}

/** `/run/gatehouse` as root; elsewhere a per-user directory (XDG_RUNTIME_DIR or the temp dir). */
export function socketRoot(): string {
  if (process.getuid?.() === 0) {
    try {
      accessSync('/run', constants.W_OK);
      return '/run/gatehouse';
    } catch {
      // Fall through to a per-user directory.
    }
  }
  const base = process.env.XDG_RUNTIME_DIR ?? tmpdir();
  return path.join(base, `gatehouse-${process.getuid?.() ?? 'user'}`);
}

/** Socket directories of Gatehouse processes that no longer run (killed with SIGKILL). */
function removeStale(root: string, logger: Logger): void {
  for (const name of readdirSync(root)) {
    const pid = Number(/^(\d+)-/.exec(name)?.[1]);
    if (!pid || isAlive(pid)) continue;
    rmSync(path.join(root, name), { recursive: true, force: true });
    logger.info({ directory: path.join(root, name) }, 'removed the agent socket directory of a Gatehouse process that no longer runs');
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
