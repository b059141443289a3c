import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fakeWebDist, runGatehouse } from './run-gatehouse.ts';

const work = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-deploy-cdk-'));
after(() => rmSync(work, { recursive: true, force: true }));
const webDist = fakeWebDist();
// Credentials as the SDK's default chain would find them; nothing contacts AWS (the CDK CLI below is a stand-in).
const credentials = { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'example-secret', HOME: work };
const systemPath = ['/usr/local/bin', '/usr/bin', '/bin'].filter((dir) => !existsSync(path.join(dir, 'cdk'))).join(path.delimiter);

test('gatehouse deploy deploy without the CDK CLI says how to install it, before synthesizing anything', async () => {
  const outDir = path.join(work, 'no-cli-out');
  const result = await runGatehouse(['deploy', 'deploy', '--out', outDir, '--web-dist', webDist], { cwd: work, env: { ...credentials, PATH: systemPath } });
  assert.equal(result.code, 69, result.stderr);
  assert.match(result.stderr, /AWS CDK CLI, which was not found: install it with `npm install -D aws-cdk`/);
  assert.equal(existsSync(outDir), false);
});

test('gatehouse deploy diff synthesizes, then hands the assembly to the CDK CLI and returns its exit code', async () => {
  const bin = path.join(work, 'bin');
  mkdirSync(bin);
  const record = path.join(work, 'cdk-args.json');
  // A stand-in for the CDK CLI: records how it was called and what it found in the assembly.
  writeFileSync(
    path.join(bin, 'cdk'),
    `#!/bin/sh\nprintf '%s\\n' "$@" > ${JSON.stringify(record)}\nls "$3" | grep -c 'template.json' >> ${JSON.stringify(record)}\nexit 3\n`,
  );
  chmodSync(path.join(bin, 'cdk'), 0o755);
  const outDir = path.join(work, 'diff-out');
  const result = await runGatehouse(['deploy', 'diff', '--out', outDir, '--web-dist', webDist], { cwd: work, env: { ...credentials, PATH: `${bin}${path.delimiter}${systemPath}` } });
  assert.equal(result.code, 3, result.stderr);
  assert.deepEqual(readFileSync(record, 'utf8').trim().split('\n'), ['diff', '--app', outDir, '--all', '8']);
});
