// Two `gatehouse up` processes on one Redis and one data dir behind a round-robin balancer (the public
// URL). With one killed, new sessions on the survivor still get workload access tokens: identity runs in
// every process, so minting never goes out through the public URL (it used to, and failed with 500).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CognitoIdentityProviderClient, InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { listen, closeServer } from '@gatehouse/core';
import { startRedisServer, freePort } from '@gatehouse/testing/redis-server';
import { startCli, parseSse } from '@gatehouse/testing/run-cli';

/**
 * A round-robin HTTP balancer with a passive health check (as nginx's max_fails=1): a backend that
 * refuses a connection answers 502 once and is then skipped for `failTimeoutMs`.
 */
function startBalancer(backends: readonly number[], failTimeoutMs = 30_000): { server: Server; served: Map<number, number>; paths: string[] } {
  let next = 0;
  const paths: string[] = [];
  const downUntil = new Map<number, number>();
  const served = new Map<number, number>();
  const server = createServer((request, response) => {
    paths.push(new URL(request.url ?? '/', 'http://balancer').pathname);
    const live = backends.filter((port) => (downUntil.get(port) ?? 0) <= Date.now());
    const candidates = live.length > 0 ? live : backends;
    const port = candidates[next++ % candidates.length]!;
    const upstream = httpRequest({ host: '127.0.0.1', port, method: request.method, path: request.url, headers: request.headers }, (answer) => {
      served.set(port, (served.get(port) ?? 0) + 1);
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    upstream.on('error', () => {
      downUntil.set(port, Date.now() + failTimeoutMs);
      if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain' });
      response.end('bad gateway');
    });
    request.pipe(upstream);
  });
  return { server, served, paths };
}

/** What a client of a balancer does: retry a request the balancer itself could not deliver (502). */
async function throughBalancer(send: () => Promise<Response>): Promise<Response> {
  for (let attempt = 0; attempt < 6; attempt++) {
    const response = await send();
    if (response.status !== 502) return response;
    await response.arrayBuffer();
  }
  throw new Error('the balancer answered 502 six times');
}

test('with one of two instances killed, new sessions on the survivor get workload tokens and tool answers', async () => {
  const redis = await startRedisServer();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-failover-'));
  const [portA, portB, portBalancer] = [await freePort(), await freePort(), await freePort()];
  const publicUrl = `http://127.0.0.1:${portBalancer}`;
  const balancer = startBalancer([portA, portB]);
  await listen(balancer.server, portBalancer);
  const env = { GATEHOUSE_STORE: redis.url };
  const a = await startCli(['up', '--port', String(portA), '--data-dir', dataDir, '--public-url', publicUrl], env);
  const b = await startCli(['up', '--port', String(portB), '--data-dir', dataDir, '--public-url', publicUrl], env);
  try {
    assert.ok(a.password, a.output());
    const settings = (await (await throughBalancer(() => fetch(`${publicUrl}/config.json`))).json()) as { region: string; clientId: string; runtimeArn: string };
    const cognito = new CognitoIdentityProviderClient({ endpoint: publicUrl, region: settings.region, credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' } });
    const signedIn = await cognito.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: settings.clientId, AuthParameters: { USERNAME: 'admin', PASSWORD: a.password } }));
    cognito.destroy();
    const token = signedIn.AuthenticationResult!.AccessToken!;

    assert.equal(await a.stop('SIGKILL'), null, 'instance A is gone without a goodbye');
    const before = balancer.paths.length;
    for (let index = 0; index < 3; index++) {
      const sessionId = `failover-session-${index}-${'x'.repeat(30)}`;
      const response = await throughBalancer(() =>
        fetch(`${publicUrl}/runtimes/${encodeURIComponent(settings.runtimeArn)}/invocations`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'text/event-stream', 'x-amzn-bedrock-agentcore-runtime-session-id': sessionId },
          body: JSON.stringify({ prompt: 'List S3 buckets in the Production account' }),
          signal: AbortSignal.timeout(30_000),
        }).catch((error: unknown) => {
          throw new Error(`invocation failed: ${String(error)}\n${b.output().slice(-4000)}`);
        }),
      );
      const text = await response.text();
      assert.equal(response.status, 200, `session ${index} on the survivor: ${text}`);
      const events = parseSse(text);
      const result = events.find((event) => event.event === 'tool-result');
      assert.equal(result?.data.ok, true, `the agent's workload token worked at the gateway: ${text.slice(0, 2000)}`);
    }
    assert.ok((balancer.served.get(portB) ?? 0) > 0);
    // The survivor verified tokens and minted workload tokens in-process: none of that went out through
    // the public URL (a balancer that may route it to the dead instance). Only the invocations and the
    // agents' MCP calls did.
    const identityHops = balancer.paths.slice(before).filter((pathname) => pathname === '/oauth2/token' || pathname.includes('/.well-known/') || pathname.startsWith('/identities/'));
    assert.deepEqual(identityHops, []);
    assert.ok(balancer.paths.slice(before).includes('/mcp'), 'the agents called the gateway through the public URL');
  } finally {
    await a.stop('SIGKILL');
    await b.stop('SIGTERM');
    await closeServer(balancer.server);
    await redis.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
