import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, Socket } from 'node:net';
import { once } from 'node:events';

/** A real Debian `redis-server` on a loopback port, with no persistence, that a test can kill and bring back. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** SIGKILL, as an outage: no goodbye to clients. */
  kill(): Promise<void>;
  /** Starts it again on the same port (after `kill`). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A free loopback port below the kernel's ephemeral range (32768+), so that while a test has Redis
 * down, no outgoing connection of a busy machine can take the port before Redis comes back on it.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const server = createServer();
    const free = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (free) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      return port;
    }
  }
  throw new Error('no free loopback port found in 20000–31999');
}

function launch(port: number, password: string | undefined): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--loglevel', 'warning', '--databases', '1'];
  if (password) args.push('--requirepass', password);
  const child = spawn('/usr/bin/redis-server', args, {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server did not start on ${port}: ${output}`));
    }, 10_000);
    const probe = async (): Promise<void> => {
      // --loglevel warning hides "Ready to accept connections"; probe the port instead.
      for (;;) {
        if (child.exitCode !== null) return;
        try {
          await new Promise<void>((ok, fail) => {
            const socket = new Socket();
            socket.once('error', fail);
            socket.connect(port, '127.0.0.1', () => {
              socket.write('PING\r\n');
              socket.once('data', (data) => {
                socket.destroy();
                // With requirepass the reply is NOAUTH, which still proves the server is up.
                if (/^(\+PONG|-NOAUTH)/.test(data.toString())) ok();
                else fail(new Error(data.toString()));
              });
            });
          });
          clearTimeout(timer);
          resolve(child);
          return;
        } catch {
          await new Promise((wait) => setTimeout(wait, 25));
        }
      }
    };
    child.stdout?.on('data', (data: Buffer) => (output += data.toString()));
    child.stderr?.on('data', (data: Buffer) => (output += data.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}) on ${port}: ${output}`));
    });
    void probe();
  });
}

async function killChild(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

export async function startRedisServer(options: { password?: string } = {}): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined = await launch(port, options.password);
  return {
    port,
    url: options.password ? `redis://:${options.password}@127.0.0.1:${port}` : `redis://127.0.0.1:${port}`,
    async kill() {
      await killChild(child, 'SIGKILL');
      child = undefined;
    },
    async restart() {
      await killChild(child, 'SIGKILL');
      for (let attempt = 1; ; attempt++) {
        try {
          child = await launch(port, options.password);
          return;
        } catch (error) {
          if (attempt >= 5) throw error;
          await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
        }
      }
    },
    async stop() {
      await killChild(child, 'SIGTERM');
      child = undefined;
    },
  };
}
