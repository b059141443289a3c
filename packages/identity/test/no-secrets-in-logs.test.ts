import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createAppServer, createLogger, EmbeddedStore, listen, closeServer, parseConfig } from '@gatehouse/core';
import { CognitoIdentityProviderClient, InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { createIdentity } from '../src/index.ts';

test('sign-ins, failures and an internal fault log no password, token or secret, and the client sees no stack', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-identity-logs-'));
  let logged = '';
  const destination = new Writable({ write(chunk: Buffer, _encoding, done) { logged += chunk.toString(); done(); } });
  const server = createAppServer([]);
  const port = await listen(server, 0);
  await closeServer(server);
  const baseUrl = `http://127.0.0.1:${port}`;
  const store = new EmbeddedStore();
  const identity = await createIdentity({ config: parseConfig({}), dataDir, baseUrl, logger: createLogger({ level: 'trace', destination }), clock: Date.now, store });
  const app = createAppServer([identity]);
  await listen(app, port);
  const cognito = new CognitoIdentityProviderClient({ endpoint: baseUrl, region: 'local', credentials: { accessKeyId: 'AKIAUNUSED00000000000', secretAccessKey: 'unused' } });
  try {
    const { username, password } = identity.firstRun!;
    const clientId = identity.defaultPool.webClientId;
    const result = await cognito.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId, AuthParameters: { USERNAME: username, PASSWORD: password } }));
    await cognito.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId, AuthParameters: { USERNAME: username, PASSWORD: 'Wrong-Secret-Guess-1' } })).catch(() => undefined);
    await cognito.send(new InitiateAuthCommand({ AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: clientId, AuthParameters: { REFRESH_TOKEN: result.AuthenticationResult!.RefreshToken! } }));
    // a fault inside an operation: a challenge session corrupted behind the service's back
    const session = 's'.repeat(40);
    await store.set(`identity:challenge:${session}`, `{not json ${password}`);
    const fault = await fetch(`${baseUrl}/`, {
      method: 'POST', headers: { 'x-amz-target': 'AWSCognitoIdentityProviderService.RespondToAuthChallenge', 'content-type': 'application/x-amz-json-1.1' },
      body: JSON.stringify({ ChallengeName: 'PASSWORD_VERIFIER', ClientId: clientId, Session: session, ChallengeResponses: { USERNAME: username } }),
    });
    const faultBody = await fault.text();
    assert.equal(fault.status, 500);
    assert.deepEqual(JSON.parse(faultBody), { __type: 'InternalErrorException', message: 'Internal error' });
    assert.match(logged, /cognito operation failed/);
    const secrets = [password, 'Wrong-Secret-Guess-1', result.AuthenticationResult!.AccessToken!, result.AuthenticationResult!.RefreshToken!, result.AuthenticationResult!.IdToken!,
      identity.serviceClient('runtime').clientSecret];
    for (const secret of secrets) assert.ok(!logged.includes(secret), 'a secret reached the log');
  } finally {
    cognito.destroy();
    await closeServer(app);
    await identity.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
