import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { closeServer, createAppServer, listen } from '@gatehouse/core';
import { createWebComponent } from '../src/web-component.ts';

test('the UI server sends the page policy as a header, falls back to index.html for app routes, and never serves files outside dist', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'gh-dist-'));
  const dist = path.join(root, 'dist');
  mkdirSync(path.join(dist, 'assets'), { recursive: true });
  writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>app</title>');
  writeFileSync(path.join(dist, 'assets', 'app-1.js'), 'console.log(1)');
  writeFileSync(path.join(root, 'secret.txt'), 'not for the web');
  const settings = { region: 'local', userPoolId: 'local_x', clientId: 'c', issuer: 'i', authority: 'i', runtimeArn: 'a', gatewayUrl: 'g', acceptedClients: 'pool' as const };
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
