import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import type { Pool } from 'undici';
import { CallTimeoutError, freePort, redactText, type Logger, type ResolvedIsolationConfig } from '@gatehouse/core';
import type { AgentIsolation } from './agent-isolation.ts';
import { createAgentPool } from './agent-pool.ts';
import { fixedPortHint, listeningPorts } from './fixed-port.ts';
import { RuntimeError } from './runtime-error.ts';

export type PingStatus = 'Healthy' | 'HealthyBusy';

/**
 * Where one session's requests go: a process Gatehouse spawned (the local analogue of AgentCore's
 * microVM per session) or an already-running agent named by URL.
 */
export interface AgentEndpoint {
  readonly host: string;
  readonly port: number;
  /** Set when the agent runs in its own namespaces: requests go over this Unix socket (bridged to its port), not host:port. */
  readonly socketPath: string | undefined;
  /** Keep-alive connections to this agent only (GET /ping, WebSocket probes): reused across a session's requests. */
  readonly agent: Agent;
  /** The invocation hop's keep-alive pool (undici), reused by every request of the agent's sessions. */
  readonly pool: Pool;
  readonly pid: number | undefined;
  /** True once the process has exited (never for URL agents). */
  readonly exited: boolean;
  readonly exitCode: number | null;
  /** Called once when a spawned process exits for any reason. */
  onExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void;
  ping(timeoutMs: number): Promise<PingStatus>;
  stop(): Promise<void>;
}

/** Host settings an agent may need to run and reach the network; credentials are not among them. */
const HOST_ENV = [
  'PATH', 'HOME', 'USER', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'SYSTEMROOT', 'NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE',
  'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy',
];
const STDERR_LINES = 12;

/** Where node:http connects for this endpoint: its Unix socket, else host and port. */
export function agentAddress(endpoint: Pick<AgentEndpoint, 'host' | 'port' | 'socketPath'>): { socketPath: string } | { host: string; port: number } {
  return endpoint.socketPath === undefined ? { host: endpoint.host, port: endpoint.port } : { socketPath: endpoint.socketPath };
}

/**
 * How an agent shows it is up: `ping` — GET /ping answers 200 (the HTTP, A2A and AG-UI contracts); `listening` —
 * any HTTP answer (MCP servers, whose contract is only `/mcp`, need not serve /ping).
 */
export type Readiness = 'ping' | 'listening';

/** GET /ping; accepts both `time_of_last_update` forms (Unix seconds or ISO date) since both SDKs exist. */
export function ping(endpoint: AgentEndpoint, timeoutMs: number, readiness: Readiness = 'ping'): Promise<PingStatus> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ ...agentAddress(endpoint), path: '/ping', method: 'GET', agent: endpoint.agent, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        if (response.statusCode !== 200) {
          // An MCP server without /ping (404, 405…) is up all the same: it answered HTTP.
          if (readiness === 'listening') return resolve('Healthy');
          return reject(new Error(`GET /ping answered ${response.statusCode}`));
        }
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { status?: unknown };
          resolve(body.status === 'HealthyBusy' ? 'HealthyBusy' : 'Healthy');
        } catch {
          // A 200 without JSON still means the server is up; treat it as Healthy.
          resolve('Healthy');
        }
      });
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new CallTimeoutError('GET /ping timed out', { timeoutMs })));
    request.on('error', reject);
    request.end();
  });
}

export interface SpawnOptions {
  readonly command: readonly string[];
  readonly cwd?: string | undefined;
  readonly env: Readonly<Record<string, string>>;
  readonly startTimeoutMs: number;
  readonly logger: Logger;
  /** RLIMIT_DATA for the process in MiB (0: none); applied on Linux only. */
  readonly memoryLimitMiB?: number;
  /** Per-session namespaces (absent: isolation is off and the agent must honour PORT). */
  readonly isolation?: { readonly sandbox: AgentIsolation; readonly config: ResolvedIsolationConfig } | undefined;
  /** Why isolation is off, for the error when an agent binds a fixed port anyway. */
  readonly isolationOff?: string | undefined;
  /** What counts as up (default: GET /ping answers 200). */
  readonly readiness?: Readiness | undefined;
}

/**
 * The command, wrapped so the kernel caps the agent's data segment (heap and private writable
 * mappings, RLIMIT_DATA, enforced for mmap since Linux 4.7): `exec` keeps the pid, so signals and
 * exit codes are the agent's own. Not RLIMIT_AS: V8 reserves gigabytes of address space it never
 * uses, so an address-space cap stops Node from starting. Other systems do not enforce RLIMIT_DATA
 * for mmap (macOS) or have no ulimit (Windows): there the command runs as given.
 */
export function memoryLimitedCommand(command: readonly string[], memoryLimitMiB: number | undefined, platform: NodeJS.Platform = process.platform): readonly string[] {
  if (!memoryLimitMiB || platform !== 'linux') return command;
  return ['/bin/sh', '-c', 'ulimit -d "$0" && exec "$@"', String(memoryLimitMiB * 1024), ...command];
}

class SpawnedAgent implements AgentEndpoint {
  readonly host = '127.0.0.1';
  readonly port: number;
  readonly socketPath: string | undefined;
  readonly agent = new Agent({ keepAlive: true, maxFreeSockets: 64 });
  readonly pool: Pool;
  readonly child: ChildProcess;
  readonly stderrTail: string[] = [];
  exited = false;
  exitCode: number | null = null;
  readonly #exitListeners: ((code: number | null, signal: NodeJS.Signals | null) => void)[] = [];
  readonly exitPromise: Promise<void>;

  readonly #readiness: Readiness;

  constructor(address: { port: number; socketPath: string | undefined }, child: ChildProcess, logger: Logger, readiness: Readiness = 'ping') {
    this.#readiness = readiness;
    this.port = address.port;
    this.socketPath = address.socketPath;
    this.child = child;
    this.pool = createAgentPool(agentAddress(this));
    let partial = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        this.stderrTail.push(redactText(line).slice(0, 500));
        if (this.stderrTail.length > STDERR_LINES) this.stderrTail.shift();
        logger.debug({ pid: child.pid, line: redactText(line).slice(0, 2000) }, 'agent stderr');
      }
    });
    child.stdout?.on('data', () => {
      // Drained so a chatty agent never blocks on a full pipe; its stdout is its own business.
    });
    this.exitPromise = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        if (partial) this.stderrTail.push(redactText(partial).slice(0, 500));
        this.exited = true;
        this.exitCode = code;
        this.agent.destroy();
        void this.pool.destroy().catch(() => undefined);
        // The sandbox cannot remove its socket when it is killed; its directory is this process's own.
        if (this.socketPath) rmSync(this.socketPath, { force: true });
        for (const listener of this.#exitListeners) listener(code, signal);
        resolve();
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  onExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void {
    this.#exitListeners.push(listener);
  }

  ping(timeoutMs: number): Promise<PingStatus> {
    return ping(this, timeoutMs, this.#readiness);
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    this.#signal('SIGTERM');
    // SIGKILL of unshare takes the whole sandbox with it (--kill-child, then the pid namespace).
    const killer = setTimeout(() => this.#signal('SIGKILL'), 2000);
    await this.exitPromise;
    clearTimeout(killer);
  }

  /** A sandbox is its own process group: unshare blocks SIGTERM, so the group gets it (sandbox and agent). */
  #signal(signal: NodeJS.Signals): void {
    try {
      if (this.socketPath && this.child.pid !== undefined) process.kill(-this.child.pid, signal);
      else this.child.kill(signal);
    } catch {
      this.child.kill(signal);
    }
  }
}

/** Starts the agent (in its own namespaces when isolation is on) and waits until GET /ping answers; 424 with the reason otherwise. */
export async function spawnAgent(options: SpawnOptions): Promise<AgentEndpoint> {
  const env: Record<string, string> = {};
  // The agent gets only what it needs, never Gatehouse's own credentials (DESIGN invariant 1).
  for (const name of HOST_ENV) if (process.env[name] !== undefined) env[name] = process.env[name];
  Object.assign(env, options.env);
  const limited = memoryLimitedCommand(options.command, options.memoryLimitMiB);
  let command = limited;
  let address: { port: number; socketPath: string | undefined };
  if (options.isolation) {
    const sandbox = await options.isolation.sandbox.prepare({ command: limited, cwd: options.cwd, config: options.isolation.config, env });
    Object.assign(env, sandbox.env);
    command = sandbox.command;
    address = { port: options.isolation.config.agentPort, socketPath: sandbox.socketPath };
  } else {
    address = { port: await freePort(), socketPath: undefined };
    env.PORT = String(address.port);
  }
  const [file, ...args] = command;
  const child = spawn(file!, args, { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: address.socketPath !== undefined });
  const spawned = new SpawnedAgent(address, child, options.logger, options.readiness);
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  try {
    await waitUntilReady(spawned, { spawnError, file: file!, wrapped: limited !== options.command, options });
  } catch (error) {
    await spawned.stop();
    throw error;
  }
  return spawned;
}

interface ReadyWait {
  readonly spawnError: Promise<Error>;
  readonly file: string;
  readonly wrapped: boolean;
  readonly options: SpawnOptions;
}

/** Polls GET /ping with a short, growing delay (fast cold starts matter; see bench) until it answers or fails. */
async function waitUntilReady(spawned: SpawnedAgent, wait: ReadyWait): Promise<void> {
  const { options, file } = wait;
  const deadline = Date.now() + options.startTimeoutMs;
  const started = Date.now();
  let delay = 5;
  for (;;) {
    if (spawned.exited) {
      throw new RuntimeError('RuntimeClientError', `Runtime initialization failed: the agent process exited with code ${spawned.exitCode ?? 'null'} before GET /ping answered.${fixedPortHint(spawned.stderrTail, options.isolationOff)}${tail(spawned)}`);
    }
    const failure = await Promise.race([wait.spawnError, new Promise<undefined>((resolve) => setImmediate(resolve, undefined))]);
    if (failure) {
      const reason = (failure as NodeJS.ErrnoException).code ?? failure.message;
      if (wait.wrapped || options.isolation) {
        throw new RuntimeError('RuntimeClientError', `Runtime initialization failed: could not start ${file} (${reason}), which ${options.isolation ? 'isolates the agent (util-linux)' : "sets the agent's memory limit; install a POSIX shell there or set limits.maxAgentMemoryMiB to 0"}.`);
      }
      throw new RuntimeError('RuntimeClientError', `Runtime initialization failed: could not start ${JSON.stringify(file)} (${reason})`);
    }
    try {
      await spawned.ping(Math.max(100, Math.min(2000, deadline - Date.now())));
      return;
    } catch {
      // Not listening yet.
    }
    if (!options.isolation && Date.now() - started > 250) checkFixedPort(spawned, options.isolationOff);
    if (Date.now() >= deadline) {
      throw new RuntimeError('RuntimeClientError', `Runtime initialization time exceeded: GET /ping did not answer within ${options.startTimeoutMs / 1000} s.${tail(spawned)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    // Capped low: a slow poll wastes up to its delay after the agent listens (measured in the bench).
    delay = Math.min(delay * 2, 10);
  }
}

/** Without isolation, an agent listening on some port other than PORT will never answer: say so now, not at the timeout. */
function checkFixedPort(spawned: SpawnedAgent, isolationOff: string | undefined): void {
  const ports = spawned.pid === undefined ? [] : listeningPorts(spawned.pid);
  if (ports.length === 0 || ports.includes(spawned.port)) return;
  throw new RuntimeError(
    'RuntimeClientError',
    `Runtime initialization failed: the agent listens on port ${ports.join(', ')} instead of PORT=${spawned.port}. Agent isolation is off (${isolationOff ?? 'isolation.mode is "none"'}), so agents share the host's ports and must listen on the PORT Gatehouse sets; run Gatehouse where network namespaces are available (Linux as root) to serve agents that bind a fixed port.${tail(spawned)}`,
  );
}

function tail(spawned: SpawnedAgent): string {
  return spawned.stderrTail.length > 0 ? ` Last lines of its stderr: ${spawned.stderrTail.join(' | ')}` : '';
}

class UrlAgent implements AgentEndpoint {
  readonly host: string;
  readonly port: number;
  readonly socketPath = undefined;
  readonly agent = new Agent({ keepAlive: true, maxFreeSockets: 64 });
  readonly pool: Pool;
  readonly pid = undefined;
  readonly exited = false;
  readonly exitCode = null;

  constructor(url: URL) {
    this.host = url.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    this.pool = createAgentPool({ host: this.host, port: this.port });
  }
  onExit(): void {
    // An external agent is not ours to watch.
  }
  ping(timeoutMs: number): Promise<PingStatus> {
    return ping(this, timeoutMs);
  }
  async stop(): Promise<void> {
    // Sessions of an external agent share it; ending a session only forgets the binding.
  }
  /** The runtime stops serving this agent: its connections close. */
  destroy(): void {
    this.agent.destroy();
    void this.pool.destroy().catch(() => undefined);
  }
}

/** An agent that already runs (agent.url): every session of the runtime goes to it. */
export function urlAgent(url: string): AgentEndpoint & { destroy(): void } {
  return new UrlAgent(new URL(url));
}
