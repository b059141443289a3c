import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { closeServer, createAppServer, listen } from '@gatehouse/core';
import { createWebComponent } from '../src/web-component.ts';
import { ensureWebUi } from '../src/build-web-ui.ts';
import { startCli } from '@gatehouse/testing/run-cli';

test('the UI server sends the page policy as a header, falls back to index.html for app routes, and never serves files outside dist', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'gh-dist-'));
  const dist = path.join(root, 'dist');
  mkdirSync(path.join(dist, 'assets'), { recursive: true });
  writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>app</title>');
  writeFileSync(path.join(dist, 'assets', 'app-1.js'), 'console.log(1)');
  writeFileSync(path.join(root, 'secret.txt'), 'not for the web');
  const settings = { region: 'local', userPoolId: 'local_x', clientId: 'c', issuer: 'i', authority: 'i', runtimeArn: 'a', gatewayUrl: 'g', runtimeProtocol: 'HTTP' as const, acceptedClients: 'pool' as const };
  const server = createAppServer([createWebComponent(() => settings, { distDirectory: dist })]);
  const base = `http://127.0.0.1:${await listen(server, 0)}`;
  try {
    const page = await fetch(`${base}/conversations/42`, { headers: { accept: 'text/html' } });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>app<\/title>/);
    assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    const asset = await fetch(`${base}/assets/app-1.js`);
    assert.equal(asset.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
    const escape = await fetch(`${base}/..%2Fsecret.txt`);
    assert.notEqual(await escape.text(), 'not for the web');
    const config = await fetch(`${base}/config.json`);
    assert.deepEqual(await config.json(), settings);
    assert.equal(config.headers.get('cache-control'), 'no-store');
    const api = await fetch(`${base}/oauth2/unknown`, { headers: { accept: 'application/json' } });
    assert.equal(api.status, 404, 'a non-HTML request that matches nothing is not answered with the app');
  } finally {
    await closeServer(server);
  }
});

test('gatehouse up on a checkout whose web UI was never built builds it and serves HTML at /', async () => {
  const dist = path.join(mkdtempSync(path.join(tmpdir(), 'gh-fresh-')), 'dist');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gh-fresh-data-'));
  assert.equal(existsSync(dist), false);
  const cli = await startCli(['up', '--port', '0', '--data-dir', dataDir], { GATEHOUSE_WEB_DIST: dist });
  try {
    const page = await fetch(`${cli.url}/`, { headers: { accept: 'text/html' } });
    assert.equal(page.status, 200, cli.output());
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const html = await page.text();
    assert.match(html, /<script type="module"[^>]+src="\/assets\//, 'the built app, not a placeholder');
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    assert.equal((await fetch(`${cli.url}${script}`)).status, 200, 'its assets are served too');
    assert.ok(existsSync(path.join(dist, 'index.html')), 'the build landed where the server reads it');
    assert.deepEqual(readdirSync(path.dirname(dist)).filter((name) => name.includes('building')), [], 'no staging directory is left behind');
  } finally {
    await cli.stop();
  }
});

test('without a built UI and nothing to build it with, / explains how to build it and the APIs still answer', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'gh-nobuild-'));
  const lines: string[] = [];
  assert.equal(await ensureWebUi(path.join(root, 'dist'), (line) => lines.push(line), path.join(root, 'no-sources')), 'unavailable');
  assert.match(lines.join('\n'), /npm run build -w @gatehouse\/web/);
  const settings = { region: 'local', userPoolId: 'local_x', clientId: 'c', issuer: 'i', authority: 'i', runtimeArn: 'a', gatewayUrl: 'g', runtimeProtocol: 'HTTP' as const, acceptedClients: 'pool' as const };
  const server = createAppServer([createWebComponent(() => settings, { distDirectory: path.join(root, 'dist') })]);
  const base = `http://127.0.0.1:${await listen(server, 0)}`;
  try {
    const page = await fetch(`${base}/`, { headers: { accept: 'text/html' } });
    assert.equal(page.status, 503);
    assert.match(await page.text(), /npm run build -w @gatehouse\/web/);
    assert.equal((await fetch(`${base}/config.json`)).status, 200);
  } finally {
    await closeServer(server);
  }
});
