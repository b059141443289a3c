import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

test('the agent process is listening without having loaded a database engine, the YAML config, the AWS SDK or undici', () => {
  // Every module the process loads until main.ts has resolved (the server listens), through a load hook.
  const script = `
    import { registerHooks } from 'node:module';
    const seen = [];
    registerHooks({ load(url, context, next) { seen.push(url); return next(url, context); } });
    await import(${JSON.stringify(MAIN)});
    process.stdout.write('\\n' + JSON.stringify({ seen, undici: process.moduleLoadList.some((name) => name.includes('undici')) }) + '\\n');
    process.exit(0);
  `;
  const output = execFileSync(process.execPath, ['--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', PORT: '0' },
  });
  assert.match(output, /"agent listening"/);
  const report = output.split('\n').find((line) => line.startsWith('{"seen"'));
  assert.ok(report, output.slice(0, 500));
  const { seen, undici } = JSON.parse(report) as { seen: string[]; undici: boolean };
  assert.ok(seen.some((url) => url.endsWith('/agent/src/agent-server.ts')), 'the load hook saw the modules');
  for (const heavy of [/\/node_modules\/pg\//, /\/node_modules\/yaml\//, /\/node_modules\/@aws-sdk\//, /\/core\/src\/sql\/(?:postgres|sqlite|open-sql)/, /\/core\/src\/config\/config\.ts$/]) {
    assert.deepEqual(seen.filter((url) => heavy.test(url)), [], `nothing matching ${heavy} before the first request`);
  }
  assert.equal(undici, false, "node:http is not imported as an ES module (that loads Node's bundled undici)");
});
