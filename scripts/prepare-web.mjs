// Builds the web UI once (before `npm start`) when packages/web/dist is missing, so a fresh clone's
// `npm install && npm start` serves the chat app without a separate build step.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const web = path.join(root, 'packages', 'web');
if (existsSync(path.join(web, 'vite.config.ts')) && !existsSync(path.join(web, 'dist', 'index.html'))) {
  console.log('[gatehouse] building the web UI (first start)…');
  const result = spawnSync('npm', ['run', 'build', '-w', '@gatehouse/web'], { stdio: 'inherit', cwd: root });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
