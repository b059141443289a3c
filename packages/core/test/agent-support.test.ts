import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CORE = fileURLToPath(new URL('..', import.meta.url));

/** What a fresh Node process loads to import `specifier` (every module URL through the load hook), and whether undici came along. */
function loadedBy(specifier: string): { seen: string[]; undici: boolean } {
  const script = `
    import { registerHooks } from 'node:module';
    const seen = [];
    registerHooks({ load(url, context, next) { seen.push(url); return next(url, context); } });
    await import(${JSON.stringify(specifier)});
    process.stdout.write(JSON.stringify({ seen, undici: process.moduleLoadList.some((name) => name.includes('undici')) }));
  `;
  const output = execFileSync(process.execPath, ['--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script], { cwd: CORE, encoding: 'utf8' });
  return JSON.parse(output) as { seen: string[]; undici: boolean };
}

const HEAVY = [/\/node_modules\/pg\//, /\/node_modules\/yaml\//, /\/src\/sql\/(?:postgres|sqlite|open-sql)/, /\/src\/config\/config\.ts$/, /\/src\/config\/gateway-config\.ts$/];

test("an agent's import of core (agent-support) loads no database engine, YAML config, server schema or undici", () => {
  const index = loadedBy('@gatehouse/core');
  for (const heavy of HEAVY) assert.ok(index.seen.some((url) => heavy.test(url)), `the index loads ${heavy} (the check can see it)`);

  const support = loadedBy('@gatehouse/core/agent-support');
  assert.ok(support.seen.some((url) => url.endsWith('/src/logger.ts')), 'the load hook saw the modules');
  for (const heavy of HEAVY) assert.deepEqual(support.seen.filter((url) => heavy.test(url)), [], `agent-support loads nothing matching ${heavy}`);
  assert.equal(support.undici, false, "no ES module import of node:http (it loads Node's bundled undici)");
  assert.ok(support.seen.length < index.seen.length, `agent-support ${support.seen.length} modules, the index ${index.seen.length}`);
});
