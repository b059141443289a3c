// Runs every test file with Node's own test runner (on the project's Node 24, which strips types).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const webPackage = path.join(root, 'packages', 'web', 'package.json');
if (existsSync(path.join(root, 'packages', 'web', 'vite.config.ts')) && existsSync(webPackage)) {
  const build = spawnSync('npm', ['run', 'build', '-w', '@gatehouse/web'], { stdio: 'inherit', cwd: root });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

const files = [];
const walk = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full);
    else if (entry.name.endsWith('.test.ts')) files.push(path.relative(root, full));
  }
};
walk(path.join(root, 'packages'));
if (existsSync(path.join(root, 'examples'))) walk(path.join(root, 'examples'));
if (existsSync(path.join(root, 'deploy'))) walk(path.join(root, 'deploy'));
const filter = process.argv.slice(2);
const selected = filter.length > 0 ? files.filter((file) => filter.some((f) => file.includes(f))) : files;
if (selected.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=180000', ...selected.sort()], {
  stdio: 'inherit',
  cwd: root,
  env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --disable-warning=ExperimentalWarning`.trim() },
});
process.exit(result.status ?? 1);
