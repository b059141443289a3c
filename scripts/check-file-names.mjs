// Enforces kebab-case file names for source files (CONVENTIONS.md: "kebab-case file names, enforced by the linter").
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts', '*.tsx', '*.mjs', '*.js'], { encoding: 'utf8' })
  .split('\n').filter(Boolean);
const kebab = /^[a-z0-9]+(?:-[a-z0-9]+)*(?:\.[a-z0-9]+)*$/;
const bad = files.filter((file) => !kebab.test(path.basename(file)));
if (bad.length > 0) {
  console.error(`File names must be kebab-case:\n${bad.map((f) => `  ${f}`).join('\n')}`);
  process.exit(1);
}
