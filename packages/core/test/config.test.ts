import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, parseConfig, ConfigError } from '@gatehouse/core';

test('an empty configuration gets the documented defaults and is frozen', () => {
  const config = parseConfig({});
  assert.equal(config.region, 'local');
  assert.equal(config.accountId, '000000000000');
  assert.equal(config.store, 'embedded');
  assert.deepEqual(config.model, { provider: 'offline' });
  assert.ok(Object.isFrozen(config.tools));
});

test('an unknown field is refused with its path', () => {
  assert.throws(
    () => parseConfig({ runtimes: [{ agentRuntimeName: 'a', agent: { url: 'http://127.0.0.1:1' }, colour: 'red' }] }),
    (error: unknown) => error instanceof ConfigError && /runtimes\[0\]: unknown field\(s\) "colour"/.test(error.message),
  );
});

test('a non-loopback http discoveryUrl is refused, naming the field', () => {
  assert.throws(
    () =>
      parseConfig({
        runtimes: [
          {
            agentRuntimeName: 'a',
            agent: { url: 'http://127.0.0.1:1' },
            authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: 'http://idp.example.com/p/.well-known/openid-configuration' } },
          },
        ],
      }),
    /runtimes\[0\]\.authorizerConfiguration\.customJWTAuthorizer\.discoveryUrl: must be an https URL/,
  );
});

test('a config file that is not YAML names the file; environment overrides the port', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gh-config-'));
  const bad = path.join(dir, 'bad.yaml');
  writeFileSync(bad, 'runtimes: [\n');
  assert.throws(() => loadConfig({ file: bad }), (error: unknown) => error instanceof ConfigError && error.message.includes(bad));
  const good = path.join(dir, 'good.yaml');
  writeFileSync(good, 'port: 9000\n');
  assert.equal(loadConfig({ file: good, env: { GATEHOUSE_PORT: '9100' } }).config.port, 9100);
  assert.throws(() => loadConfig({ file: path.join(dir, 'missing.yaml'), required: true }), /file not found/);
});

test('GATEHOUSE_HTTPS turns local HTTPS on or off over the file; a value that is not true/false/1/0 is refused naming https', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gh-config-https-'));
  const file = path.join(dir, 'gatehouse.yaml');
  writeFileSync(file, 'https: true\n');
  assert.equal(loadConfig({ file, env: {} }).config.https, true);
  assert.equal(loadConfig({ file, env: { GATEHOUSE_HTTPS: 'false' } }).config.https, false);
  assert.equal(loadConfig({ file, env: { GATEHOUSE_HTTPS: '0' } }).config.https, false);
  assert.equal(loadConfig({ env: { GATEHOUSE_HTTPS: '1' } }).config.https, true);
  assert.equal(loadConfig({ env: {} }).config.https, false);
  assert.throws(() => loadConfig({ file, env: { GATEHOUSE_HTTPS: 'yes' } }), (error: unknown) => error instanceof ConfigError && /https:/.test(error.message));
});
