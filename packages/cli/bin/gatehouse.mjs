#!/usr/bin/env node
// Entry for `npx gatehouse` / `npm start`. Gatehouse runs on Node 24 (type stripping, node:sqlite);
// when started by an older system Node, re-run with the project's own Node from node_modules.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  let dir = here;
  let local;
  while (dir !== path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', 'node', 'bin', 'node');
    if (existsSync(candidate)) { local = candidate; break; }
    dir = path.dirname(dir);
  }
  if (!local) {
    console.error(`gatehouse needs Node 24 (found ${process.version}). Run \`npm install\` in the repository first; it brings Node 24.`);
    process.exit(1);
  }
  const result = spawnSync(local, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name !== 'ExperimentalWarning') console.error(warning);
});
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2));
