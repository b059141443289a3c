import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { CognitoIdentityProviderClient, GlobalSignOutCommand, InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { BedrockAgentCoreControlClient, CreateWorkloadIdentityCommand, ListWorkloadIdentitiesCommand } from '@aws-sdk/client-bedrock-agentcore-control';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { closeServer, createLogger, listen } from '@gatehouse/core';
import { sharedTestPostgres } from '@gatehouse/core/test-postgres';
import { startGatehouse, type RunningGatehouse } from '@gatehouse/cli';
import { startRedisServer, type RedisServer } from '@gatehouse/testing/redis-server';
import { readSse, runCli } from '@gatehouse/testing/run-cli';

// Two `gatehouse up` instances with SEPARATE data dirs that share only PostgreSQL, Redis and the sealing key,
// behind a round-robin balancer: what a multi-machine deployment looks like without a shared filesystem.

const SEALING_KEY = randomBytes(32).toString('hex');
const SESSION = (suffix: string): string => `two-instances-${suffix}-${'x'.repeat(40)}`;

let redis: RedisServer;
let databaseUrl: string;
let balancer: Server;
let balancerUrl: string;
const targets: string[] = [];
const served: string[] = [];
const instances: RunningGatehouse[] = [];
const dataDirs: string[] = [];

/** Round-robin HTTP proxy: each request goes to the next instance; records which one served it. */
function startBalancer(): Server {
  let next = 0;
  return createServer((incoming, outgoing) => {
    const target = new URL(targets[next++ % targets.length]!);
    served.push(target.port);
    const upstream = httpRequest({ host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers }, (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(outgoing);
    });
    upstream.on('error', () => outgoing.destroy());
    incoming.pipe(upstream);
  });
}

async function startInstance(name: string): Promise<RunningGatehouse> {
  const dataDir = mkdtempSync(path.join(tmpdir(), `gh-two-${name}-`));
  dataDirs.push(dataDir);
  const gatehouse = await startGatehouse({
    dataDir, port: 0, publicUrl: balancerUrl, logger: createLogger({ level: 'silent' }),
    config: { store: redis.url, database: databaseUrl },
    env: { ...process.env, GATEHOUSE_STORE_KEY: SEALING_KEY },
  });
  instances.push(gatehouse);
  return gatehouse;
}

async function signIn(url: string, clientId: string, password: string): Promise<{ access: string; cognito: CognitoIdentityProviderClient }> {
  const cognito = new CognitoIdentityProviderClient({ endpoint: url, region: 'local', credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' }, maxAttempts: 1 });
  const result = await cognito.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId, AuthParameters: { USERNAME: 'admin', PASSWORD: password } }));
  assert.ok(result.AuthenticationResult?.AccessToken);
  return { access: result.AuthenticationResult.AccessToken, cognito };
}

async function invoke(url: string, runtimeArn: string, token: string, session: string): Promise<Response> {
  return fetch(`${url}/runtimes/${encodeURIComponent(runtimeArn)}/invocations?qualifier=DEFAULT`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'text/event-stream', 'x-amzn-bedrock-agentcore-runtime-session-id': session },
    body: JSON.stringify({ prompt: 'List S3 buckets in the Production account' }),
  });
}

const kidOf = (token: string): string => (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;

before(async () => {
  // the sandbox reads the sealing key from the process environment; in production each machine sets it
  process.env.GATEHOUSE_STORE_KEY = SEALING_KEY;
  redis = await startRedisServer();
  databaseUrl = await (await sharedTestPostgres()).createDatabase('two_instances');
  balancer = startBalancer();
  const port = await listen(balancer, 0);
  balancerUrl = `http://127.0.0.1:${port}`;
});

after(async () => {
  for (const instance of instances) await instance.close().catch(() => undefined);
  await closeServer(balancer).catch(() => undefined);
  await redis.stop();
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

test('separate data dirs, one PostgreSQL + Redis: sign in at A, invoke and call tools at B, rotate keys at A, sign out at B', async () => {
  const a = await startInstance('a');
  const b = await startInstance('b');
  // each instance's own address (their `url` is the public one: the balancer)
  const [A, B] = [a, b].map((instance) => `http://127.0.0.1:${instance.port}`) as [string, string];
  targets.push(A, B);
  assert.ok(a.firstRun, 'the first instance bootstraps the admin');
  assert.equal(b.firstRun, undefined, 'the second finds the admin in the shared database: one admin, one password');
  assert.equal(b.identity.defaultPool.userPoolId, a.identity.defaultPool.userPoolId, 'one pool, not one per data dir');
  assert.ok(!existsSync(path.join(b.dataDir, 'identity.db')) && !existsSync(path.join(b.dataDir, 'audit.db')), `no identity or audit file in a data dir: ${readdirSync(b.dataDir).join(', ')}`);
  const settings = (await (await fetch(`${A}/config.json`)).json()) as Record<string, string>;

  // sign in at A; invoke at B (the offline agent calls the gateway's tools through the balancer, token exchange included)
  const { access, cognito } = await signIn(A, settings.clientId!, a.firstRun.password);
  const invoked = await invoke(B, settings.runtimeArn!, access, SESSION('1'));
  assert.equal(invoked.status, 200, await invoked.clone().text());
  const events = await readSse(invoked);
  assert.equal(events.find((event) => event.event === 'tool-result')?.data.ok, true, JSON.stringify(events));

  // call tools at B directly, over MCP
  const mcp = new Client({ name: 'two-instances', version: '1.0.0' });
  await mcp.connect(new StreamableHTTPClientTransport(new URL(`${B}/mcp`), { requestInit: { headers: { authorization: `Bearer ${access}` } } }));
  const tools = await mcp.listTools();
  assert.ok(tools.tools.length > 0);
  await mcp.close();

  // audit rows of both instances land in the one database
  const audit = await runCli(['audit', '--data-dir', a.dataDir, '--json', '--limit', '100'], { GATEHOUSE_DATABASE_URL: databaseUrl, GATEHOUSE_STORE_KEY: SEALING_KEY });
  assert.equal(audit.code, 0, audit.stderr);
  assert.match(audit.stdout, /call_aws/);

  // rotate keys through A's data dir; a token minted at A with the new key verifies at B
  const rotated = await runCli(['keys', 'rotate', '--data-dir', a.dataDir], { GATEHOUSE_DATABASE_URL: databaseUrl, GATEHOUSE_STORE_KEY: SEALING_KEY });
  assert.equal(rotated.code, 0, rotated.stderr);
  const fresh = await signIn(A, settings.clientId!, a.firstRun.password);
  assert.notEqual(kidOf(fresh.access), kidOf(access), 'new tokens use the new key');
  const afterRotation = await invoke(B, settings.runtimeArn!, fresh.access, SESSION('2'));
  assert.equal(afterRotation.status, 200, await afterRotation.clone().text());
  await afterRotation.body?.cancel();
  const oldStillValid = await invoke(A, settings.runtimeArn!, access, SESSION('3'));
  assert.equal(oldStillValid.status, 200, 'tokens signed before the rotation keep verifying');
  await oldStillValid.body?.cancel();

  // sign out at B; A refuses the signed-out tokens at once
  const atB = new CognitoIdentityProviderClient({ endpoint: B, region: 'local', credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' }, maxAttempts: 1 });
  await atB.send(new GlobalSignOutCommand({ AccessToken: access }));
  for (const token of [access, fresh.access]) {
    const refused = await invoke(A, settings.runtimeArn!, token, SESSION('4'));
    assert.equal(refused.status, 403, await refused.clone().text());
    assert.match(await refused.text(), /revoked/);
  }
  cognito.destroy();
  fresh.cognito.destroy();
  atB.destroy();
});

test('through the balancer: every request may land on either instance and still sees one identity', async () => {
  const settings = (await (await fetch(`${balancerUrl}/config.json`)).json()) as Record<string, string>;
  const password = instances[0]!.firstRun!.password;
  served.length = 0;
  const { access, cognito } = await signIn(balancerUrl, settings.clientId!, password);
  for (let index = 0; index < 4; index++) {
    const answer = await invoke(balancerUrl, settings.runtimeArn!, access, SESSION(`lb-${index}`));
    assert.equal(answer.status, 200, await answer.clone().text());
    await answer.body?.cancel();
  }
  assert.equal(new Set(served).size, 2, 'both instances served requests');
  await cognito.send(new GlobalSignOutCommand({ AccessToken: access }));
  for (let index = 0; index < 2; index++) {
    const refused = await invoke(balancerUrl, settings.runtimeArn!, access, SESSION('lb-out'));
    assert.equal(refused.status, 403, await refused.clone().text());
    await refused.body?.cancel();
  }
  cognito.destroy();
});

test('the control plane too: a workload identity created at A is listed at B, and its name is taken there', async () => {
  const [A, B] = instances.map((instance) => `http://127.0.0.1:${instance.port}`) as [string, string];
  const credentials = (() => {
    const text = readFileSync(instances[0]!.adminCredentialsFile, 'utf8');
    return { accessKeyId: /aws_access_key_id = (\S+)/.exec(text)![1]!, secretAccessKey: /aws_secret_access_key = (\S+)/.exec(text)![1]! };
  })();
  assert.equal(readFileSync(instances[1]!.adminCredentialsFile, 'utf8'), readFileSync(instances[0]!.adminCredentialsFile, 'utf8'), 'one admin key for both');
  const at = (url: string) => new BedrockAgentCoreControlClient({ endpoint: url, region: 'local', credentials, maxAttempts: 1 });
  const [atA, atB] = [at(A), at(B)];
  await atA.send(new CreateWorkloadIdentityCommand({ name: 'shared-workload' }));
  const listed = await atB.send(new ListWorkloadIdentitiesCommand({}));
  assert.ok(listed.workloadIdentities?.some((identity) => identity.name === 'shared-workload'), JSON.stringify(listed.workloadIdentities));
  const duplicate = await atB.send(new CreateWorkloadIdentityCommand({ name: 'shared-workload' })).catch((error: unknown) => error as { name: string });
  assert.equal((duplicate as { name: string }).name, 'ConflictException', 'the name is taken across instances');
  atA.destroy();
  atB.destroy();
});
