// A React developer's first hour, in Chromium: a new app on its own origin, registered with
// `gatehouse clients create --callback-url`, signs in and gets a tool answer from the default runtime
// with no config file edited and no restart; an app client the operator refuses is told exactly that.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { closeServer, listen } from '@gatehouse/core';
import { runCli, startCli } from '@gatehouse/testing/run-cli';

/** The app: one page that signs in with the Cognito API and invokes the runtime, as the seeds' browser code does. */
const APP_PAGE = `<!doctype html><title>my app</title><pre id="out">working</pre><script type="module">
const settings = JSON.parse(decodeURIComponent(location.hash.slice(1)));
const out = document.getElementById('out');
try {
  const auth = await fetch(settings.gatehouse + '/', {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth' },
    body: JSON.stringify({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: settings.clientId, AuthParameters: { USERNAME: settings.username, PASSWORD: settings.password } }),
  });
  const signedIn = await auth.json();
  if (!auth.ok) throw new Error('sign-in: ' + signedIn.message);
  const response = await fetch(settings.gatehouse + '/runtimes/' + encodeURIComponent(settings.runtimeArn) + '/invocations?qualifier=DEFAULT', {
    method: 'POST',
    headers: {
      authorization: 'Bearer ' + signedIn.AuthenticationResult.AccessToken,
      'content-type': 'application/json',
      accept: 'text/event-stream',
      'x-amzn-bedrock-agentcore-runtime-session-id': settings.sessionId,
    },
    body: JSON.stringify({ prompt: 'List S3 buckets in the Production account' }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error('runtime ' + response.status + ': ' + JSON.parse(text).message);
  const result = text.split('\\n\\n').map((block) => block.split('\\n')).find((lines) => lines.includes('event: tool-result'));
  out.textContent = 'TOOL ' + result.find((line) => line.startsWith('data: ')).slice(6);
} catch (error) {
  out.textContent = 'ERROR ' + error.message;
}
</script>`;

test('a new app on its own origin, registered by `gatehouse clients create`, gets a tool answer from the default runtime; a refused client is told so', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-new-app-'));
  const app = createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end(APP_PAGE));
  const appOrigin = `http://127.0.0.1:${await listen(app, 0)}`;
  const cli = await startCli(['up', '--port', '0', '--data-dir', dataDir]);
  let browser: Browser | undefined;
  try {
    assert.ok(cli.password);
    const created = await runCli(['clients', 'create', 'my-react-app', '--callback-url', `${appOrigin}/`, '--data-dir', dataDir]);
    assert.equal(created.code, 0, created.stderr);
    const summary = JSON.parse(created.stdout) as {
      clientId: string; issuer: string; runtimeArn: string; gatewayUrl: string;
      accepted: Record<string, { clientAllowed: boolean; origins: Record<string, boolean> }>;
    };
    // What the app needs, and whether its origin may call the default runtime and gateway.
    assert.equal(summary.issuer, `${cli.url}/${summary.issuer.split('/').pop()}`);
    assert.match(summary.runtimeArn, /:runtime\/ops_agent$/);
    assert.equal(summary.gatewayUrl, `${cli.url}/mcp`);
    assert.deepEqual(summary.accepted['runtime:ops_agent'], { clientAllowed: true, origins: { [appOrigin]: true } });
    assert.deepEqual(summary.accepted['gateway:default'], { clientAllowed: true, origins: { [appOrigin]: true } });

    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    const page = await browser.newPage();
    const open = async (sessionId: string): Promise<string> => {
      const settings = { gatehouse: cli.url, clientId: summary.clientId, runtimeArn: summary.runtimeArn, username: 'admin', password: cli.password, sessionId };
      // A new query each time: a change of hash alone would not load the page again.
      await page.goto(`${appOrigin}/?session=${sessionId}#${encodeURIComponent(JSON.stringify(settings))}`);
      await page.waitForFunction(() => document.getElementById('out')?.textContent !== 'working', undefined, { timeout: 60_000 });
      return (await page.textContent('#out')) ?? '';
    };
    const answer = await open(`new-app-session-one-${'a'.repeat(24)}`);
    assert.match(answer, /^TOOL /, answer);
    const result = JSON.parse(answer.slice(5)) as { ok: boolean; name: string };
    assert.equal(result.ok, true, answer);
    assert.match(answer, /111111111111-prod-app-logs|prod/i, 'the Production buckets came back');

    // The operator refuses this client, live: the app is told which client and how to allow it.
    const denied = await runCli(['perimeter', 'deny-client', 'runtime:ops_agent', summary.clientId, '--data-dir', dataDir]);
    assert.equal(denied.code, 0, denied.stderr);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const refusal = await open(`new-app-session-two-${'b'.repeat(24)}`);
    assert.match(refusal, /^ERROR runtime 403: .*client "[^"]+" is not allowed.*allow-client runtime:ops_agent/, refusal);
    assert.ok(refusal.includes(summary.clientId), 'names the client');

    // And allowed again, still without a restart.
    assert.equal((await runCli(['perimeter', 'reset-client', 'runtime:ops_agent', summary.clientId, '--data-dir', dataDir])).code, 0);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    assert.match(await open(`new-app-session-three-${'c'.repeat(24)}`), /^TOOL /);
  } finally {
    await browser?.close();
    await cli.stop();
    await closeServer(app);
    rmSync(dataDir, { recursive: true, force: true });
  }
});
