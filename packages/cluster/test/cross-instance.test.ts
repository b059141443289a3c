import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, existsSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { SignJWT, decodeJwt } from 'jose';
import { WebSocket } from 'ws';
import { once } from 'node:events';
import {
  CognitoIdentityProviderClient,
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  InitiateAuthCommand,
  GlobalSignOutCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { fromIni } from '@aws-sdk/credential-providers';
import { startRedisServer, freePort, type RedisServer } from '@gatehouse/testing/redis-server';
import { startInstance, type Instance } from './support/instance.ts';
import { alive } from './support/processes.ts';
import { parseConfig } from '@gatehouse/core';
import { identityCommands } from '@gatehouse/identity';

const here = path.dirname(fileURLToPath(import.meta.url));
const agentScript = path.join(here, 'support', 'counting-agent.mjs');
const ARN = (name: string): string => `arn:aws:bedrock-agentcore:local:000000000000:runtime/${name}`;

let redis: RedisServer;
let workDir: string;
let agentLog: string;
let a: Instance;
let b: Instance;
/** Shares only Redis with A and B: its own data dir, users and keys; trusts A's pool by discovery URL. */
let c: Instance;
let alice: string;
let bob: string;
let carol: string;
let aliceSignOut: string;
let webClientId: string;
let dataDirectory: string;

function agentLines(): { pid: number; sessionId: string; userId: string; count: number }[] {
  if (!existsSync(agentLog)) return [];
  return readFileSync(agentLog, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as never);
}

async function invoke(
  instance: Instance,
  runtime: string,
  token: string,
  sessionId: string,
  prompt = 'hello',
  extraHeaders: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown>; errorType: string | null }> {
  const response = await fetch(`${instance.url}/runtimes/${encodeURIComponent(ARN(runtime))}/invocations?qualifier=DEFAULT`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-amzn-bedrock-agentcore-runtime-session-id': sessionId, ...extraHeaders },
    body: JSON.stringify({ prompt }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, errorType: response.headers.get('x-amzn-errortype') };
}

const newSessionId = (): string => `session-${randomUUID()}`;

async function signIn(instance: Instance, username: string, password: string): Promise<{ accessToken: string }> {
  const cognito = new CognitoIdentityProviderClient({ endpoint: instance.url, region: 'local', credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' } });
  try {
    const answer = await cognito.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: webClientId, AuthParameters: { USERNAME: username, PASSWORD: password } }));
    return { accessToken: answer.AuthenticationResult!.AccessToken! };
  } finally {
    cognito.destroy();
  }
}

before(async () => {
  redis = await startRedisServer();
  workDir = realpathSync(mkdtempSync(path.join(tmpdir(), 'gatehouse-cluster-')));
  agentLog = path.join(workDir, 'agent.log');
  const dataDir = path.join(workDir, 'data');
  dataDirectory = dataDir;
  const [portA, portB] = [await freePort(), await freePort()];
  // Every instance shares the public URL (here A's), the data dir and Redis, as behind a load balancer.
  const baseUrl = `http://127.0.0.1:${portA}`;
  const runtimes = (pool: { discoveryUrl: string; webClientId: string }): unknown[] =>
    ['counting_agent', 'limited_agent', 'capped_agent'].map((name) => ({
      agentRuntimeName: name,
      agent: { command: [process.execPath, agentScript], env: { AGENT_LOG: agentLog } },
      // The agent logs to a host file the test reads: not in a namespace of its own.
      isolation: { mode: 'none' },
      authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: pool.discoveryUrl, allowedClients: [pool.webClientId] } },
      workloadIdentity: { mode: 'passthrough' },
      limits: {
        warmPoolSize: 0,
        ...(name === 'limited_agent' ? { requestsPerMinutePerPrincipal: 4 } : {}),
        ...(name === 'capped_agent' ? { maxConcurrentSessions: 2 } : {}),
      },
    }));
  a = await startInstance({ port: portA, dataDir, baseUrl, redisUrl: redis.url, runtimes });
  b = await startInstance({ port: portB, dataDir, baseUrl, redisUrl: redis.url, runtimes });
  const poolOfA = a.identity.defaultPool;
  const portC = await freePort();
  c = await startInstance({
    port: portC,
    dataDir: path.join(workDir, 'data-c'),
    baseUrl: `http://127.0.0.1:${portC}`,
    redisUrl: redis.url,
    runtimes: () => runtimes(poolOfA),
  });
  webClientId = a.identity.defaultPool.webClientId;
  assert.equal(b.identity.defaultPool.webClientId, webClientId, 'both instances serve the same pool from the shared data dir');

  const admin = new CognitoIdentityProviderClient({ endpoint: a.url, region: 'local', credentials: fromIni({ filepath: a.identity.adminCredentialsFile, profile: 'default' }) });
  const userPoolId = a.identity.defaultPool.userPoolId;
  for (const username of ['alice', 'bob', 'carol']) {
    await admin.send(new AdminCreateUserCommand({ UserPoolId: userPoolId, Username: username, MessageAction: 'SUPPRESS' }));
    await admin.send(new AdminSetUserPasswordCommand({ UserPoolId: userPoolId, Username: username, Password: 'Correct-Horse-9-battery', Permanent: true }));
  }
  admin.destroy();
  alice = (await signIn(a, 'alice', 'Correct-Horse-9-battery')).accessToken;
  bob = (await signIn(b, 'bob', 'Correct-Horse-9-battery')).accessToken;
  carol = (await signIn(a, 'carol', 'Correct-Horse-9-battery')).accessToken;
  aliceSignOut = (await signIn(a, 'alice', 'Correct-Horse-9-battery')).accessToken;
});

after(async () => {
  await Promise.allSettled([a?.close(), b?.close(), c?.close()]);
  await redis?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

test('a session created through instance A continues through instance B on the same agent process', async () => {
  const sessionId = newSessionId();
  const first = await invoke(a, 'counting_agent', alice, sessionId);
  assert.equal(first.status, 200, JSON.stringify(first.body));
  // The caller's W3C trace context survives the hop between instances (tracing itself is off here).
  const traceparent = `00-${randomUUID().replace(/-/g, '')}-${randomUUID().replace(/-/g, '').slice(0, 16)}-01`;
  const second = await invoke(b, 'counting_agent', alice, sessionId, 'hello', { traceparent });
  assert.equal(second.status, 200, JSON.stringify(second.body));
  assert.equal(second.body.traceparent, traceparent, 'the agent behind the forward gets the caller\'s trace context');
  const third = await invoke(a, 'counting_agent', alice, sessionId);
  assert.deepEqual(
    [first.body, second.body, third.body].map(({ pid, count, sessionId: id }) => ({ pid, count, sessionId: id })),
    [1, 2, 3].map((count) => ({ pid: first.body.pid, count, sessionId })),
  );
  assert.equal(second.body.userId, decodeJwt(alice).sub, 'the user id comes from the verified token on every hop');
});

test('an invocation forwarded to the instance that runs its session counts once against the rate limit', async () => {
  const sessionId = newSessionId();
  const results: { status: number; count: unknown; pid: unknown }[] = [];
  for (const instance of [a, b, a, b, b]) {
    const answer = await invoke(instance, 'limited_agent', carol, sessionId);
    results.push({ status: answer.status, count: answer.body.count, pid: answer.body.pid });
  }
  assert.deepEqual(
    results.map(({ status, count }) => ({ status, count })),
    [...[1, 2, 3, 4].map((count) => ({ status: 200, count })), { status: 429, count: undefined }],
    'four invocations through either instance are four, not six',
  );
  assert.equal(new Set(results.slice(0, 4).map(({ pid }) => pid)).size, 1, 'every call reached the one agent process on A');
});

test('a session a WebSocket moved to B is served from B afterwards, also through A, and A ends its stale process', async () => {
  const sessionId = newSessionId();
  const onA = await invoke(a, 'counting_agent', alice, sessionId);
  assert.equal(onA.body.count, 1);
  // WebSockets are not forwarded: B takes the session over with a process of its own.
  const url = `${b.url.replace('http', 'ws')}/runtimes/${encodeURIComponent(ARN('counting_agent'))}/ws?X-Amzn-Bedrock-AgentCore-Runtime-Session-Id=${sessionId}`;
  const socket = new WebSocket(url, { headers: { authorization: `Bearer ${alice}` } });
  await once(socket, 'open');
  socket.send('{"prompt":"over the socket"}');
  const [frame] = (await once(socket, 'message')) as [Buffer];
  const onB = JSON.parse(frame.toString()) as { pid: number; count: number };
  socket.close();
  assert.notEqual(onB.pid, onA.body.pid);
  // Back on A over HTTP: the conversation continues on B's process, not on A's stale one.
  const again = await invoke(a, 'counting_agent', alice, sessionId);
  assert.equal(again.status, 200, JSON.stringify(again.body));
  assert.deepEqual({ pid: again.body.pid, count: again.body.count }, { pid: onB.pid, count: onB.count + 1 });
  const stale = onA.body.pid as number;
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && alive(stale)) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(alive(stale), false, 'A ended the process the session left behind');
});

test('maxConcurrentSessions holds across instances, a continued session does not count twice, and a stopped one frees its slot', async () => {
  const [first, second, third] = [newSessionId(), newSessionId(), newSessionId()];
  assert.equal((await invoke(a, 'capped_agent', alice, first)).status, 200);
  assert.equal((await invoke(b, 'capped_agent', alice, second)).status, 200);
  const before = agentLines().length;
  const over = await invoke(a, 'capped_agent', alice, third);
  assert.equal(over.status, 402, JSON.stringify(over.body));
  assert.equal(over.errorType, 'ServiceQuotaExceededException');
  assert.match(String(over.body.message), /across its instances/);
  assert.equal(agentLines().length, before, 'no agent started for the session over the quota');
  // Running sessions continue through either instance.
  assert.equal((await invoke(a, 'capped_agent', alice, second)).body.count, 2);
  const stop = await fetch(`${b.url}/runtimes/${encodeURIComponent(ARN('capped_agent'))}/stopruntimesession`, {
    method: 'POST',
    headers: { authorization: `Bearer ${alice}`, 'x-amzn-bedrock-agentcore-runtime-session-id': second },
  });
  assert.equal(stop.status, 200);
  assert.equal((await invoke(a, 'capped_agent', alice, third)).status, 200, 'the stopped session gave its slot back');
});

test('refuses another principal the session through the other instance, and the agent receives nothing', async () => {
  const sessionId = newSessionId();
  assert.equal((await invoke(a, 'counting_agent', alice, sessionId)).status, 200);
  const before = agentLines().length;
  const intrusion = await invoke(b, 'counting_agent', bob, sessionId, 'let me in');
  assert.equal(intrusion.status, 403);
  assert.equal(intrusion.errorType, 'AccessDeniedException');
  assert.equal(agentLines().length, before);
  const owner = await invoke(b, 'counting_agent', alice, sessionId);
  assert.equal(owner.body.count, 2, 'the owner continues undisturbed');
});

test('holds a per-principal rate limit across instances', async () => {
  const sessionOnA = newSessionId();
  const sessionOnB = newSessionId();
  const results: number[] = [];
  for (let round = 0; round < 3; round++) {
    results.push((await invoke(a, 'limited_agent', alice, sessionOnA)).status);
    results.push((await invoke(b, 'limited_agent', alice, sessionOnB)).status);
  }
  assert.deepEqual(results, [200, 200, 200, 200, 429, 429], 'requestsPerMinutePerPrincipal is 4 in total, not 4 per instance');
  const throttled = await invoke(b, 'limited_agent', alice, sessionOnB);
  assert.equal(throttled.errorType, 'ThrottlingException');
  assert.equal(agentLines().filter((line) => line.sessionId === sessionOnA || line.sessionId === sessionOnB).length, 4);
  // Another principal has a budget of its own.
  assert.equal((await invoke(b, 'limited_agent', bob, newSessionId())).status, 200);
});

test('refuses on instance B a token revoked through instance A, and the agent receives nothing', async () => {
  const sessionId = newSessionId();
  assert.equal((await invoke(b, 'counting_agent', aliceSignOut, sessionId)).status, 200);
  const cognito = new CognitoIdentityProviderClient({ endpoint: a.url, region: 'local', credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' } });
  await cognito.send(new GlobalSignOutCommand({ AccessToken: aliceSignOut }));
  cognito.destroy();
  const before = agentLines().length;
  for (const instance of [b, a]) {
    const refused = await invoke(instance, 'counting_agent', aliceSignOut, sessionId);
    // Gatehouse answers an invalid or revoked bearer token with AgentCore's 403 AccessDeniedException.
    assert.equal(refused.status, 403, `${instance.url}: ${JSON.stringify(refused.body)}`);
    assert.equal(refused.errorType, 'AccessDeniedException');
    assert.match(String(refused.body.message), /revoked/);
  }
  assert.equal(agentLines().length, before);
});

test('an instance with a data dir of its own refuses a token revoked through A: the revocation travels through Redis, also when made during an outage', async () => {
  const cognito = new CognitoIdentityProviderClient({ endpoint: a.url, region: 'local', maxAttempts: 1, credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' } });
  try {
    const first = (await signIn(a, 'alice', 'Correct-Horse-9-battery')).accessToken;
    const sessionId = newSessionId();
    assert.equal((await invoke(c, 'counting_agent', first, sessionId)).status, 200, 'C trusts A\'s pool');
    await cognito.send(new GlobalSignOutCommand({ AccessToken: first }));
    const before = agentLines().length;
    const refused = await invoke(c, 'counting_agent', first, sessionId);
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.match(String(refused.body.message), /revoked/);
    assert.equal(agentLines().length, before, 'the agent on C received nothing');

    // Signed out while Redis is down: A records it, says it is not yet shared, and publishes it when Redis returns.
    const second = (await signIn(a, 'alice', 'Correct-Horse-9-battery')).accessToken;
    assert.equal((await invoke(c, 'counting_agent', second, sessionId)).status, 200);
    await redis.kill();
    await assert.rejects(cognito.send(new GlobalSignOutCommand({ AccessToken: second })), (error: Error) => error.name === 'InternalErrorException' && /not yet be shared/.test(error.message));
    await redis.restart();
    // A was told "not yet shared": the pending revocation goes out on A's next publishing pass (every second).
    const deadline = Date.now() + 10_000;
    let status = 503;
    while (Date.now() < deadline && status !== 403) {
      status = (await invoke(c, 'counting_agent', second, sessionId)).status;
      if (status !== 403) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(status, 403, 'soon after Redis is back C refuses the token signed out during the outage');
  } finally {
    cognito.destroy();
  }
});

test('fails closed with 503 while Redis is down, then serves again when it returns', async () => {
  const sessionId = newSessionId();
  assert.equal((await invoke(a, 'counting_agent', bob, sessionId)).status, 200);
  await redis.kill();
  const before = agentLines().length;
  for (const instance of [a, b]) {
    const refused = await invoke(instance, 'counting_agent', bob, newSessionId());
    assert.equal(refused.status, 503, JSON.stringify(refused.body));
    assert.equal(refused.errorType, 'ServiceUnavailableException');
  }
  assert.equal(agentLines().length, before, 'nothing reached an agent while shared state was unknown');
  await redis.restart();
  const deadline = Date.now() + 10_000;
  let status = 0;
  while (Date.now() < deadline && status !== 200) {
    status = (await invoke(b, 'counting_agent', bob, newSessionId())).status;
    if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(status, 200, 'served again after Redis returned, with no restart');
});

test('after a signing-key rotation no request fails: tokens signed before it and with the new key verify on every instance', async () => {
  const sessionId = newSessionId();
  const before = await signIn(a, 'bob', 'Correct-Horse-9-battery');
  // Both instances have the old key cached.
  assert.equal((await invoke(a, 'counting_agent', before.accessToken, sessionId)).status, 200);
  assert.equal((await invoke(b, 'counting_agent', before.accessToken, sessionId)).status, 200);
  const printed: string[] = [];
  const code = await identityCommands.keys(['rotate'], {
    config: parseConfig({}),
    dataDir: dataDirectory,
    baseUrl: a.url,
    stdout: (line) => printed.push(line),
    stderr: (line) => printed.push(line),
  });
  assert.equal(code, 0, printed.join('\n'));
  const after = await signIn(b, 'bob', 'Correct-Horse-9-battery');
  const kid = (token: string): unknown => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid;
  assert.notEqual(kid(after.accessToken), kid(before.accessToken), 'new tokens are signed with the new key');
  for (const instance of [a, b]) {
    const result = await invoke(instance, 'counting_agent', before.accessToken, sessionId);
    assert.equal(result.status, 200, `${instance.url}: ${JSON.stringify(result.body)}`);
  }
  // Both instances loaded the JWKS seconds ago; the new key is still accepted on its first use.
  for (const instance of [a, b]) {
    const result = await invoke(instance, 'counting_agent', after.accessToken, newSessionId());
    assert.equal(result.status, 200, `${instance.url} accepts the new key at once: ${JSON.stringify(result.body)}`);
  }
});

test('with the issuer unreachable, tokens signed by cached keys keep verifying and unknown keys fail closed', async () => {
  // Warm B's key cache, then take A (which serves the issuer's discovery and JWKS) away entirely.
  const sessionId = newSessionId();
  assert.equal((await invoke(b, 'counting_agent', bob, sessionId)).status, 200);
  const claims = decodeJwt(bob);
  await a.close();
  assert.equal((await invoke(b, 'counting_agent', bob, sessionId)).status, 200, 'cached key still verifies');
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const forged = await new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: 'kid-the-issuer-never-published' })
    .sign(privateKey);
  const before = agentLines().length;
  const refused = await invoke(b, 'counting_agent', forged, newSessionId());
  assert.equal(refused.status, 403, JSON.stringify(refused.body));
  assert.equal(refused.errorType, 'AccessDeniedException');
  assert.match(String(refused.body.message), /kid/);
  assert.equal(agentLines().length, before);
});
