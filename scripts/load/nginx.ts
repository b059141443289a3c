import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';

export interface NginxUpstreams {
  readonly identity: readonly number[];
  readonly runtime: readonly number[];
  readonly gateway: readonly number[];
}

export interface RunningNginx {
  readonly port: number;
  readonly url: string;
  /** Replaces the upstreams and reloads (SIGHUP) without dropping the listener. */
  reload(upstreams: NginxUpstreams): Promise<void>;
  stop(): Promise<void>;
}

function upstream(name: string, ports: readonly number[]): string {
  const servers = ports.map((port) => `    server 127.0.0.1:${port} max_fails=0;`).join('\n');
  // keepalive: reuse connections to the instances instead of one TCP handshake per request.
  return `  upstream ${name} {\n${servers}\n    keepalive 64;\n  }`;
}

/** A plain round-robin load balancer in front of the instances, as a team would run it. */
function renderConfig(prefix: string, port: number, upstreams: NginxUpstreams): string {
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  const proxy = `proxy_http_version 1.1;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 300s;`;
  return `${user}worker_processes 1;
daemon off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${prefix}/tmp/client;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
  client_max_body_size 10m;
  keepalive_requests 100000;
  map $http_upgrade $connection_upgrade { default upgrade; '' ''; }
${upstream('identity', upstreams.identity)}
${upstream('runtime', upstreams.runtime)}
${upstream('gateway', upstreams.gateway)}
  server {
    listen 127.0.0.1:${port} reuseport;
    location /runtimes/ {
      proxy_pass http://runtime;
      ${proxy}
    }
    location = /mcp {
      proxy_pass http://gateway;
      ${proxy}
    }
    location /gateways/ {
      proxy_pass http://gateway;
      ${proxy}
    }
    location /.well-known/oauth-protected-resource {
      proxy_pass http://gateway;
      ${proxy}
    }
    location / {
      proxy_pass http://identity;
      ${proxy}
    }
  }
}
`;
}

async function waitForPort(port: number, child: ChildProcess, errorLog: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${existsSync(errorLog) ? readFileSync(errorLog, 'utf8') : ''}`);
    try {
      await fetch(`http://127.0.0.1:${port}/__nginx_probe`);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`nginx did not listen on ${port}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Runs Debian's nginx with a generated config under `prefix` (a temp dir), in the foreground. */
export async function startNginx(prefix: string, port: number, upstreams: NginxUpstreams): Promise<RunningNginx> {
  mkdirSync(path.join(prefix, 'tmp'), { recursive: true });
  const configFile = path.join(prefix, 'nginx.conf');
  writeFileSync(configFile, renderConfig(prefix, port, upstreams));
  const child = spawn('/usr/sbin/nginx', ['-p', prefix, '-c', configFile, '-e', path.join(prefix, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    await waitForPort(port, child, path.join(prefix, 'error.log'));
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message} ${stderr}`, { cause: error });
  }
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    async reload(next) {
      writeFileSync(configFile, renderConfig(prefix, port, next));
      child.kill('SIGHUP');
      // Old workers finish their requests; new ones pick up the upstreams. Give the master a moment.
      await new Promise((resolve) => setTimeout(resolve, 500));
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
