import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Writable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import {
  CognitoIdentityProviderClient, AdminCreateUserCommand, AdminSetUserPasswordCommand, InitiateAuthCommand, NotAuthorizedException, UsernameExistsException,
} from '@aws-sdk/client-cognito-identity-provider';
import { decodeJwt } from 'jose';
import { createLogger, openDatabase } from '@gatehouse/core';
import { startIdentity, type RunningIdentity } from '@gatehouse/testing/start-identity';

const poolConfig = (caseSensitive?: boolean): unknown => ({
  identity: {
    userPools: [{
      poolName: 'default',
      ...(caseSensitive === undefined ? {} : { usernameConfiguration: { caseSensitive } }),
      clients: [{ clientName: 'web', clientId: 'matchingweb', explicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH'] }],
    }],
  },
});

function clients(running: RunningIdentity): { admin: CognitoIdentityProviderClient; anonymous: CognitoIdentityProviderClient; close(): void } {
  const admin = new CognitoIdentityProviderClient({ endpoint: running.baseUrl, region: 'local', credentials: running.adminKey });
  const anonymous = new CognitoIdentityProviderClient({ endpoint: running.baseUrl, region: 'local', credentials: { accessKeyId: 'AKIAUNUSED00000000000', secretAccessKey: 'unused' } });
  return { admin, anonymous, close: () => { admin.destroy(); anonymous.destroy(); } };
}

async function create(admin: CognitoIdentityProviderClient, running: RunningIdentity, username: string, password: string): Promise<void> {
  const UserPoolId = running.identity.defaultPool.userPoolId;
  await admin.send(new AdminCreateUserCommand({ UserPoolId, Username: username, MessageAction: 'SUPPRESS' }));
  await admin.send(new AdminSetUserPasswordCommand({ UserPoolId, Username: username, Password: password, Permanent: true }));
}

async function signIn(anonymous: CognitoIdentityProviderClient, username: string, password: string): Promise<Record<string, unknown>> {
  const result = await anonymous.send(new InitiateAuthCommand({ ClientId: 'matchingweb', AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: username, PASSWORD: password } }));
  return decodeJwt(result.AuthenticationResult!.AccessToken!);
}

test('a case-sensitive pool keeps Bob and bob apart but still folds character width', async () => {
  const running = await startIdentity({ config: poolConfig(true) });
  const { admin, anonymous, close } = clients(running);
  try {
    await create(admin, running, 'bob', 'Lower-Bob-Pass-1');
    await create(admin, running, 'Bob', 'Upper-Bob-Pass-1');
    await assert.rejects(admin.send(new AdminCreateUserCommand({ UserPoolId: running.identity.defaultPool.userPoolId, Username: '\uff42\uff4f\uff42', MessageAction: 'SUPPRESS' })), UsernameExistsException);
    assert.equal((await signIn(anonymous, 'bob', 'Lower-Bob-Pass-1')).username, 'bob');
    assert.equal((await signIn(anonymous, 'Bob', 'Upper-Bob-Pass-1')).username, 'Bob');
    await assert.rejects(signIn(anonymous, 'BOB', 'Upper-Bob-Pass-1'), NotAuthorizedException);
  } finally {
    close();
    await running.close();
  }
});

test('usernameConfiguration.caseSensitive cannot change once the pool exists', async () => {
  const first = await startIdentity({ config: poolConfig(false) });
  await first.stop();
  try {
    await assert.rejects(startIdentity({ dataDir: first.dataDir, config: poolConfig(true) }), /caseSensitive: false; it cannot be changed/);
    const again = await startIdentity({ dataDir: first.dataDir, config: poolConfig(false) });
    await again.stop();
  } finally {
    rmSync(first.dataDir, { recursive: true, force: true });
  }
});

test('users stored before usernames were folded keep working; a clash is reported, not merged', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-identity-migrate-'));
  const first = await startIdentity({ dataDir, config: poolConfig() });
  const clients1 = clients(first);
  await create(clients1.admin, first, 'Carol', 'Carol-Pass-1');
  clients1.close();
  const adminPassword = first.identity.firstRun!.password;
  await first.stop();

  // Make the data dir look like one written by the previous release: no keys, no case setting, and an `ADMIN`
  // that the old case-sensitive matching let an operator create beside `admin`.
  const database = openDatabase(path.join(dataDir, 'identity.db'));
  try {
    database.exec("UPDATE users SET username_key = NULL; UPDATE pools SET settings = json_remove(settings, '$.caseSensitive')");
    database
      .prepare("INSERT INTO users (pool_id, username, sub, password_hash, srp_salt, srp_verifier, status, enabled, attributes, created_at, updated_at) SELECT pool_id, 'ADMIN', ?, password_hash, srp_salt, srp_verifier, status, enabled, '{}', created_at + 1, updated_at FROM users WHERE username = 'admin'")
      .run(randomUUID());
  } finally {
    database.close();
  }

  let logged = '';
  const destination = new Writable({ write(chunk: Buffer, _encoding, done) { logged += chunk.toString(); done(); } });
  const second = await startIdentity({ dataDir, port: first.port, config: poolConfig(), logger: createLogger({ level: 'warn', destination }) });
  const { admin, anonymous, close } = clients(second);
  try {
    const warnings = logged.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(warnings.map((entry) => [entry.username, entry.clashesWith]), [['ADMIN', 'admin']]);
    // the existing rows now match in any case; the older of the clashing pair keeps the folded name
    assert.equal((await signIn(anonymous, 'carol', 'Carol-Pass-1')).username, 'Carol');
    assert.equal((await signIn(anonymous, 'Admin', adminPassword)).username, 'admin');
    // the newer one is not merged into it: it signs in by its exact name, as itself
    const upper = await signIn(anonymous, 'ADMIN', adminPassword);
    assert.equal(upper.username, 'ADMIN');
    assert.notEqual(upper.sub, (await signIn(anonymous, 'admin', adminPassword)).sub);
    // and the folded name stays taken
    await assert.rejects(admin.send(new AdminCreateUserCommand({ UserPoolId: second.identity.defaultPool.userPoolId, Username: 'aDmIn', MessageAction: 'SUPPRESS' })), UsernameExistsException);
  } finally {
    close();
    await second.close();
  }
});
