import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import {
  CognitoIdentityProviderClient,
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { fromIni } from '@aws-sdk/credential-providers';
import { startRedisServer, freePort, type RedisServer } from '@gatehouse/testing/redis-server';

const here = path.dirname(fileURLToPath(import.meta.url));
const ARN = encodeURIComponent('arn:aws:bedrock-agentcore:local:000000000000:runtime/counting_agent');
const PASSWORD = 'Correct-Horse-9-battery';

interface Child {
  readonly process: ChildProcess;
  readonly url: string;
  readonly webClientId: string;
  readonly userPoolId: string;
  readonly adminCredentialsFile: string;
}

let redis: RedisServer;
let workDir: string;
const children: ChildProcess[] = [];

async function startChild(port: number, baseUrl: string): Promise<Child> {
  const settings = { port, dataDir: path.join(workDir, 'data'), baseUrl, redisUrl: redis.url, agentLog: path.join(workDir, 'agent.log') };
  const child = spawn(process.execPath, [path.join(here, 'support', 'instance-main.ts'), JSON.stringify(settings)], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`instance on ${port} did not start: ${output}`)), 30_000);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const ready = /^ready .+$/m.exec(output);
      if (ready) {
        clearTimeout(timer);
        resolve(ready[0]);
      }
    });
    child.once('exit', (code) => reject(new Error(`instance on ${port} exited (${code}): ${output}`)));
  });
  const [, url, webClientId, userPoolId, adminCredentialsFile] = line.split(' ') as [string, string, string, string, string];
  return { process: child, url, webClientId, userPoolId, adminCredentialsFile };
}

async function invoke(url: string, token: string, sessionId: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}/runtimes/${ARN}/invocations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-amzn-bedrock-agentcore-runtime-session-id': sessionId },
    body: JSON.stringify({ prompt: 'hi' }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function signIn(url: string, clientId: string, username: string): Promise<string> {
  const cognito = new CognitoIdentityProviderClient({ endpoint: url, region: 'local', credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' } });
  try {
    const answer = await cognito.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId, AuthParameters: { USERNAME: username, PASSWORD } }));
    return answer.AuthenticationResult!.AccessToken!;
  } finally {
    cognito.destroy();
  }
}

before(async () => {
  redis = await startRedisServer();
  workDir = realpathSync(mkdtempSync(path.join(tmpdir(), 'gatehouse-crash-')));
});

/** SIGTERM, then SIGKILL after 5 s; never waits more than 8 s in all. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
  let giveUp: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise((resolve) => (giveUp = setTimeout(resolve, 8000)))]);
  clearTimeout(kill);
  clearTimeout(giveUp);
}

after(async () => {
  await Promise.all(children.map((child) => stopChild(child)));
  await redis.stop();
  rmSync(workDir, { recursive: true, force: true });
});

test('kill -9 of an instance loses no acknowledged write, and another instance takes over its sessions', async () => {
  const [portA, portB] = [await freePort(), await freePort()];
  // B is the shared public URL (the issuer) here and stays up; A is the one that dies.
  const b = await startChild(portB, `http://127.0.0.1:${portB}`);
  const a = await startChild(portA, b.url);

  const admin = new CognitoIdentityProviderClient({ endpoint: a.url, region: 'local', credentials: fromIni({ filepath: a.adminCredentialsFile, profile: 'default' }) });
  await admin.send(new AdminCreateUserCommand({ UserPoolId: a.userPoolId, Username: 'carol', MessageAction: 'SUPPRESS' }));
  await admin.send(new AdminSetUserPasswordCommand({ UserPoolId: a.userPoolId, Username: 'carol', Password: PASSWORD, Permanent: true }));
  const carol = await signIn(a.url, a.webClientId, 'carol');
  const sessionId = `session-${randomUUID()}`;
  const onA = await invoke(a.url, carol, sessionId);
  assert.equal(onA.status, 200);

  // The last acknowledged write before the crash: a new user, answered 200 by A, then SIGKILL at once.
  await admin.send(new AdminCreateUserCommand({ UserPoolId: a.userPoolId, Username: 'dave', MessageAction: 'SUPPRESS' }));
  await admin.send(new AdminSetUserPasswordCommand({ UserPoolId: a.userPoolId, Username: 'dave', Password: PASSWORD, Permanent: true }));
  admin.destroy();
  const exited = once(a.process, 'exit');
  a.process.kill('SIGKILL');
  await exited;

  const dave = await signIn(b.url, b.webClientId, 'dave');
  assert.ok(dave.length > 0, 'the user acknowledged by the killed instance exists for the others');
  // Carol's session lived on A: B cannot reach it, so it takes the session over with a fresh agent.
  const onB = await invoke(b.url, carol, sessionId);
  assert.equal(onB.status, 200, JSON.stringify(onB.body));
  assert.equal(onB.body.count, 1);
  assert.notEqual(onB.body.pid, onA.body.pid);
  const again = await invoke(b.url, carol, sessionId);
  assert.deepEqual({ pid: again.body.pid, count: again.body.count }, { pid: onB.body.pid, count: 2 }, 'the session now stays on B');
  // Ownership survived the crash: the taken-over session is still carol's alone.
  const intruder = await invoke(b.url, dave, sessionId);
  assert.equal(intruder.status, 403);
});
