import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { WebSocket } from 'ws';
import { CognitoIdentityProviderClient, InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { runCli, startCli, readSse } from '@gatehouse/testing/run-cli';

const SESSION = (suffix: string): string => `https-session-${suffix}-${'x'.repeat(40)}`;

/** GET over HTTPS trusting exactly `ca`: the status, or the TLS error code. */
function getTrusting(url: string, ca: string): Promise<string> {
  return new Promise((resolve) => {
    const call = httpsRequest(url, { ca, agent: false }, (response) => {
      response.resume();
      resolve(String(response.statusCode));
    });
    call.on('error', (error: NodeJS.ErrnoException) => resolve(`error ${error.code ?? error.message}`));
    call.end();
  });
}

/** A clear-text HTTP request to the port: whether anything HTTP came back. */
function plainHttp(port: number): Promise<string> {
  return new Promise((resolve) => {
    const call = httpRequest({ host: '127.0.0.1', port, path: '/ping', agent: false }, (response) => {
      response.resume();
      resolve(`answered ${response.statusCode}`);
    });
    call.on('error', (error: NodeJS.ErrnoException) => resolve(`error ${error.code ?? error.message}`));
    call.end();
  });
}

test('gatehouse up --https: the banner names the local CA; clients trusting it get discovery, sign-in, an agent whose tool call crosses HTTPS, and wss; a restart keeps the CA', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gh-https-'));
  const caFile = path.join(dataDir, 'tls', 'ca.pem');
  let cli = await startCli(['up', '--https', '--port', '0', '--data-dir', dataDir]);
  try {
    assert.match(cli.url, /^https:\/\/localhost:\d+$/);
    assert.ok(cli.output().includes(`local CA          ${caFile}`), cli.output());
    const caPem = readFileSync(caFile, 'utf8');
    const port = Number(new URL(cli.url).port);
    assert.equal(await getTrusting(`${cli.url}/ping`, caPem), '200');
    assert.equal(await getTrusting(`https://127.0.0.1:${port}/ping`, caPem), '200');
    assert.equal(await getTrusting(`${cli.url}/ping`, getCACertificates('bundled').join('\n')), 'error SELF_SIGNED_CERT_IN_CHAIN');
    assert.match(await plainHttp(port), /^error /, 'nothing is served in clear text');

    // From here on this test process trusts the CA, as a developer's machine would.
    setDefaultCACertificates([...getCACertificates('default'), caPem]);
    const settings = (await (await fetch(`${cli.url}/config.json`)).json()) as Record<string, string>;
    assert.equal(settings.issuer, `${cli.url}/${settings.userPoolId}`);
    assert.equal(settings.gatewayUrl, `${cli.url}/mcp`);
    const discovery = (await (await fetch(`${settings.issuer}/.well-known/openid-configuration`)).json()) as Record<string, string>;
    assert.equal(discovery.authorization_endpoint, `${cli.url}/oauth2/authorize`);

    const cognito = new CognitoIdentityProviderClient({ endpoint: cli.url, region: settings.region!, credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' } });
    const signedIn = await cognito.send(
      new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: settings.clientId!, AuthParameters: { USERNAME: 'admin', PASSWORD: cli.password! } }),
    );
    cognito.destroy();
    const token = signedIn.AuthenticationResult!.AccessToken!;

    // The agent (a child process) calls the gateway at the https public URL, and the gateway asks identity for
    // its token over this listener: a tool result means both trust the local CA.
    const invoke = await fetch(`${cli.url}/runtimes/${encodeURIComponent(settings.runtimeArn!)}/invocations?qualifier=DEFAULT`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'text/event-stream', 'x-amzn-bedrock-agentcore-runtime-session-id': SESSION('sse') },
      body: JSON.stringify({ prompt: 'List S3 buckets in the Production account' }),
    });
    assert.equal(invoke.status, 200, await invoke.clone().text());
    const events = await readSse(invoke);
    const result = events.find((event) => event.event === 'tool-result');
    assert.equal(result?.data.ok, true, JSON.stringify(events));

    const protocol = 'base64UrlBearerAuthorization';
    const socket = new WebSocket(
      `wss://localhost:${port}/runtimes/${encodeURIComponent(settings.runtimeArn!)}/ws?X-Amzn-Bedrock-AgentCore-Runtime-Session-Id=${SESSION('wss')}`,
      [`${protocol}.${Buffer.from(token).toString('base64url')}`, protocol],
      { ca: caPem },
    );
    await once(socket, 'open');
    const frames: Record<string, unknown>[] = [];
    const done = new Promise<void>((resolve) => {
      socket.on('message', (data: Buffer) => {
        const frame = JSON.parse(data.toString()) as Record<string, unknown>;
        frames.push(frame);
        if (frame.type === 'message' || frame.type === 'error') resolve();
      });
    });
    socket.send(JSON.stringify({ prompt: 'hello over wss' }));
    await done;
    socket.close();
    assert.equal(frames.at(-1)!.type, 'message', JSON.stringify(frames));

    // Verbs on the same data dir trust the CA too: doctor checks the running server over HTTPS.
    const doctor = await runCli(['doctor', '--url', cli.url, '--data-dir', dataDir]);
    assert.ok(`${doctor.stdout}${doctor.stderr}`.includes(`issuer ${settings.issuer}: discovery and JWKS OK`), doctor.stdout + doctor.stderr);

    const serverPem = readFileSync(path.join(dataDir, 'tls', 'server.pem'), 'utf8');
    assert.equal(await cli.stop(), 0);
    cli = await startCli(['up', '--https', '--port', '0', '--data-dir', dataDir]);
    assert.equal(readFileSync(caFile, 'utf8'), caPem, 'the CA a developer trusted stays');
    assert.equal(readFileSync(path.join(dataDir, 'tls', 'server.pem'), 'utf8'), serverPem);
    assert.equal(await getTrusting(`${cli.url}/ping`, caPem), '200');
    assert.doesNotMatch(cli.output(), /BEGIN [A-Z ]*PRIVATE KEY/, 'no key in the output');
  } finally {
    await cli.stop();
  }
});

test('https: true in gatehouse.yaml serves HTTPS too, and a plain http:// public URL beside it is refused with the fix', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gh-https-'));
  const configFile = path.join(dataDir, 'gatehouse.yaml');
  writeFileSync(configFile, 'https: true\n');
  const cli = await startCli(['up', '--port', '0', '--data-dir', dataDir, '--config', configFile]);
  try {
    assert.match(cli.url, /^https:\/\/localhost:\d+$/);
    assert.equal(await getTrusting(`${cli.url}/ping`, readFileSync(path.join(dataDir, 'tls', 'ca.pem'), 'utf8')), '200');
  } finally {
    await cli.stop();
  }
  const refused = await runCli(['up', '--https', '--port', '0', '--data-dir', dataDir, '--public-url', 'http://localhost:9999']);
  assert.equal(refused.code, 78, refused.stderr);
  assert.match(refused.stderr, /publicUrl: must start with https:\/\/ when https is on/);
});
