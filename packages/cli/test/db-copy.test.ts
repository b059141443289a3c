import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { CognitoIdentityProviderClient, InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { sharedTestPostgres } from '@gatehouse/core/test-postgres';
import { startIdentity } from '@gatehouse/testing/start-identity';
import { runCli } from '@gatehouse/testing/run-cli';

const kidOf = (token: string): string => (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;

async function signIn(baseUrl: string, clientId: string, password: string): Promise<string> {
  const cognito = new CognitoIdentityProviderClient({ endpoint: baseUrl, region: 'local', credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' }, maxAttempts: 1 });
  const result = await cognito.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId, AuthParameters: { USERNAME: 'admin', PASSWORD: password } }));
  cognito.destroy();
  return result.AuthenticationResult!.AccessToken!;
}

test('gatehouse db copy moves a laptop data dir into PostgreSQL: the same users, pool, clients and signing keys serve from a fresh data dir', async () => {
  const key = randomBytes(32).toString('hex');
  process.env.GATEHOUSE_STORE_KEY = key;
  const laptopDir = mkdtempSync(path.join(tmpdir(), 'gh-laptop-'));
  const serverDir = mkdtempSync(path.join(tmpdir(), 'gh-server-'));
  const url = await (await sharedTestPostgres()).createDatabase('db_copy');
  try {
    const laptop = await startIdentity({ dataDir: laptopDir });
    const password = laptop.identity.firstRun!.password;
    const before = await signIn(laptop.baseUrl, laptop.identity.defaultPool.webClientId, password);
    const pool = laptop.identity.defaultPool;
    await laptop.stop();

    const copied = await runCli(['db', 'copy', '--to', url, '--data-dir', laptopDir], { GATEHOUSE_STORE_KEY: key });
    assert.equal(copied.code, 0, copied.stderr);
    assert.match(copied.stdout, /identity\t\d+ rows copied/);

    const server = await startIdentity({ dataDir: serverDir, database: url });
    try {
      assert.equal(server.identity.firstRun, undefined, 'the admin came along');
      assert.equal(server.identity.defaultPool.userPoolId, pool.userPoolId);
      const after = await signIn(server.baseUrl, server.identity.defaultPool.webClientId, password);
      assert.equal(kidOf(after), kidOf(before), 'the same signing key, sealed again with the shared key');
    } finally {
      await server.stop();
    }
    const again = await runCli(['db', 'copy', '--to', url, '--data-dir', laptopDir], { GATEHOUSE_STORE_KEY: key });
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already has .* rows: copy into an empty database/);
  } finally {
    rmSync(laptopDir, { recursive: true, force: true });
    rmSync(serverDir, { recursive: true, force: true });
  }
});
