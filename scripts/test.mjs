// `npm test`: installs whatever the machine lacks, then runs lint, type-check and every test.
// Written for any Node >= 18 on purpose: on a fresh clone this first step runs on the system Node,
// before node_modules (and the project's own Node 24) exist.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = (command, args, options = {}) => {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: root, ...options });
  if (result.status !== 0) process.exit(result.status ?? 1);
};
const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

if (!existsSync(path.join(root, 'node_modules', '.bin', 'node')) || !existsSync(path.join(root, 'node_modules', '.package-lock.json'))) {
  console.log('[test] installing npm dependencies (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

const systemNeeds = [
  { command: 'chromium', file: '/usr/bin/chromium', pkg: 'chromium' },
  { command: 'redis-server', pkg: 'redis-server' },
  // The FastAPI example agent (isolation tests, bench) runs on Debian's Python, not a pyenv one on PATH.
  { probe: ['/usr/bin/python3', '-c', 'import fastapi, uvicorn'], pkg: 'python3-fastapi' },
  { probe: ['/usr/bin/python3', '-c', 'import uvicorn'], pkg: 'python3-uvicorn' },
  { probe: ['/usr/bin/python3', '-c', 'import websockets'], pkg: 'python3-websockets' },
  // Per-session namespaces: `unshare`/`setpriv` (util-linux) and `ip` to bring the namespace's loopback up.
  { command: 'ip', pkg: 'iproute2' },
  // the storage tests initdb a throwaway PostgreSQL; Debian puts its binaries under a versioned directory
  { pkg: 'postgresql', check: () => existsSync('/usr/lib/postgresql') && readdirSync('/usr/lib/postgresql').some((version) => existsSync(path.join('/usr/lib/postgresql', version, 'bin', 'initdb'))) },
];
const probes = (need) => spawnSync(need.probe[0], need.probe.slice(1), { stdio: 'ignore' }).status === 0;
const satisfied = (need) => (need.check ? need.check() : need.probe ? probes(need) : need.file ? existsSync(need.file) : has(need.command));
const missing = systemNeeds.filter((need) => !satisfied(need));
if (missing.length > 0) {
  const packages = missing.map((need) => need.pkg);
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && has('apt-get')) {
    console.log(`[test] installing Debian packages: ${packages.join(' ')}`);
    run('apt-get', ['update', '-qq']);
    run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } else {
    console.error(`[test] missing system packages. Run:\n  sudo apt-get install -y ${packages.join(' ')}`);
    process.exit(1);
  }
}

const bin = path.join(root, 'node_modules', '.bin');
run('npm', ['run', 'check'], { env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` } });
