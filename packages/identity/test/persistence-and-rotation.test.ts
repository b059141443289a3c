import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';
import { CognitoIdentityProviderClient, InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { parseConfig, type CommandContext } from '@gatehouse/core';
import { identityCommands } from '../src/index.ts';
import { startIdentity } from '@gatehouse/testing/start-identity';

function commandContext(dataDir: string, baseUrl: string): CommandContext & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { config: parseConfig({}), dataDir, baseUrl, stdout: (line) => out.push(line), stderr: (line) => err.push(line), out, err };
}

async function signIn(baseUrl: string, clientId: string, username: string, password: string): Promise<{ AccessToken: string; IdToken: string }> {
  const cognito = new CognitoIdentityProviderClient({ endpoint: baseUrl, region: 'local', credentials: { accessKeyId: 'AKIAUNUSED00000000000', secretAccessKey: 'unused' } });
  try {
    const result = await cognito.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId, AuthParameters: { USERNAME: username, PASSWORD: password } }));
    return { AccessToken: result.AuthenticationResult!.AccessToken!, IdToken: result.AuthenticationResult!.IdToken! };
  } finally {
    cognito.destroy();
  }
}

test('a restart keeps pool and client ids, users, keys and the admin key; the first-run password is shown only once', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-identity-restart-'));
  try {
    const first = await startIdentity({ dataDir });
    const created = commandContext(dataDir, first.baseUrl);
    assert.equal(await identityCommands.users(['create', 'erin', '--password', 'Erin-Password-1', '--email', 'erin@example.test', '--group', 'ops-readonly'], created), 0);
    const before = await signIn(first.baseUrl, first.identity.defaultPool.webClientId, 'erin', 'Erin-Password-1');
    const credentials = readFileSync(first.identity.adminCredentialsFile, 'utf8');
    const poolBefore = first.identity.pool('default');
    assert.ok(first.identity.firstRun);
    await first.stop();

    const second = await startIdentity({ dataDir, port: first.port });
    try {
      assert.equal(second.identity.firstRun, undefined);
      assert.deepEqual(second.identity.pool('default'), poolBefore);
      assert.equal(readFileSync(second.identity.adminCredentialsFile, 'utf8'), credentials);
      const issuer = second.identity.defaultPool.issuer;
      const jwks = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));
      const { payload } = await jwtVerify(before.AccessToken, jwks, { issuer });
      assert.deepEqual(payload['cognito:groups'], ['ops-readonly']);
      const after = await signIn(second.baseUrl, second.identity.defaultPool.webClientId, 'erin', 'Erin-Password-1');
      assert.equal(decodeProtectedHeader(after.AccessToken).kid, decodeProtectedHeader(before.AccessToken).kid);
      const database = statSync(path.join(dataDir, 'identity.db'));
      assert.equal(database.mode & 0o077, 0);
      assert.equal(statSync(path.join(dataDir, 'store-sealing.key')).mode & 0o777, 0o600);
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('after keys rotate, old tokens still verify and new tokens use the new keys', async () => {
  const running = await startIdentity();
  try {
    const context = commandContext(running.dataDir, running.baseUrl);
    assert.equal(await identityCommands.users(['create', 'frank', '--password', 'Frank-Password-1'], context), 0);
    const clientId = running.identity.defaultPool.webClientId;
    const old = await signIn(running.baseUrl, clientId, 'frank', 'Frank-Password-1');
    assert.equal(await identityCommands.keys(['rotate'], context), 0);
    const fresh = await signIn(running.baseUrl, clientId, 'frank', 'Frank-Password-1');
    assert.notEqual(decodeProtectedHeader(fresh.AccessToken).kid, decodeProtectedHeader(old.AccessToken).kid);
    assert.notEqual(decodeProtectedHeader(fresh.IdToken).kid, decodeProtectedHeader(old.IdToken).kid);
    const issuer = running.identity.defaultPool.issuer;
    const document = (await (await fetch(`${issuer}/.well-known/jwks.json`)).json()) as { keys: { kid: string; alg: string; use: string; kty: string }[] };
    assert.equal(document.keys.length, 4);
    assert.ok(document.keys.every((key) => key.alg === 'RS256' && key.use === 'sig' && key.kty === 'RSA'));
    const jwks = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));
    for (const token of [old.AccessToken, old.IdToken, fresh.AccessToken, fresh.IdToken]) await jwtVerify(token, jwks, { issuer });
  } finally {
    await running.close();
  }
});

test('CLI verbs list users and clients without secrets, and refuse bad input with a usage message', async () => {
  const running = await startIdentity();
  try {
    const context = commandContext(running.dataDir, running.baseUrl);
    assert.equal(await identityCommands.users(['create', 'gina'], context), 0);
    const password = /password \(shown once\): (\S+)/.exec(context.out.join('\n'))![1]!;
    await signIn(running.baseUrl, running.identity.defaultPool.webClientId, 'gina', password);
    assert.equal(await identityCommands.users(['add-to-group', 'gina', 'ops-readonly'], context), 0);
    context.out.length = 0;
    assert.equal(await identityCommands.users(['list', '--json'], context), 0);
    const users = JSON.parse(context.out.join('\n')) as { username: string; groups: string }[];
    assert.deepEqual(users.map((user) => [user.username, user.groups]), [['admin', 'ops-readwrite'], ['gina', 'ops-readonly']]);
    assert.equal(await identityCommands.users(['disable', 'gina'], context), 0);
    await assert.rejects(signIn(running.baseUrl, running.identity.defaultPool.webClientId, 'gina', password), (error: Error) => error.name === 'NotAuthorizedException');
    context.out.length = 0;
    assert.equal(await identityCommands.clients(['create', 'backend', '--secret', '--callback', 'https://app.example.test/cb'], context), 0);
    const created = JSON.parse(context.out.join('\n')) as { clientId: string; clientSecret: string };
    assert.equal(created.clientSecret.length, 51);
    context.out.length = 0;
    assert.equal(await identityCommands.clients(['list'], context), 0);
    const listing = context.out.join('\n');
    assert.match(listing, new RegExp(created.clientId));
    assert.ok(!listing.includes(created.clientSecret));
    assert.ok(!listing.includes(running.identity.serviceClient('runtime').clientSecret));
    assert.equal(await identityCommands.users(['frobnicate'], context), 2);
    assert.equal(await identityCommands.users(['add-to-group', 'gina', 'no-such-group'], context), 2);
    assert.equal(await identityCommands.users(['delete', 'gina'], context), 0);
    assert.equal(await identityCommands.users(['delete', 'gina'], context), 2);
  } finally {
    await running.close();
  }
});
