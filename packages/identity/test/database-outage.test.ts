import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { CognitoIdentityProviderClient, InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { startTestPostgres } from '@gatehouse/core/test-postgres';
import { startIdentity } from '@gatehouse/testing/start-identity';

test('PostgreSQL restarted mid-run: sign-in, token and revocation checks fail closed with typed 503s, then recover without a restart', async () => {
  const server = await startTestPostgres();
  const running = await startIdentity({ database: server.url });
  after(async () => {
    await running.close();
    await server.dispose();
  });
  const clientId = running.identity.defaultPool.webClientId;
  const password = running.identity.firstRun!.password;
  const cognito = new CognitoIdentityProviderClient({ endpoint: running.baseUrl, region: 'local', credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' }, maxAttempts: 1 });
  const signIn = () => cognito.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId, AuthParameters: { USERNAME: 'admin', PASSWORD: password } }));
  const tokens = (await signIn()).AuthenticationResult!;
  const claims = JSON.parse(Buffer.from(tokens.AccessToken!.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
  assert.equal(await running.identity.isRevoked(claims), false);

  await server.stop();
  // Cognito API: a typed 503 the SDKs treat as retryable, naming the cause, no stack
  const refused = (await signIn().then(() => assert.fail('sign-in must be refused while the database is down'), (error: unknown) => error)) as { name: string; message: string; $metadata: { httpStatusCode: number } };
  assert.equal(refused.$metadata.httpStatusCode, 503);
  assert.equal(refused.name, 'ServiceUnavailableException');
  assert.match(refused.message, /identity database is unavailable; retry shortly/);
  // OAuth token endpoint: 503 temporarily_unavailable
  const form = new URLSearchParams({ grant_type: 'refresh_token', client_id: clientId, refresh_token: tokens.RefreshToken! });
  const oauth = await fetch(`${running.baseUrl}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
  assert.equal(oauth.status, 503);
  assert.equal(((await oauth.json()) as { error: string }).error, 'temporarily_unavailable');
  // a runtime's or gateway's revocation check: refused as an unavailable issuer (503), never "not revoked"
  await assert.rejects(running.identity.isRevoked(claims), (error: unknown) => (error as { status?: number; code?: string }).status === 503 && (error as { code?: string }).code === 'issuer_unavailable');

  await server.start();
  const deadline = Date.now() + 15_000;
  let again: Awaited<ReturnType<typeof signIn>> | undefined;
  while (!again && Date.now() < deadline) again = await signIn().catch(() => undefined);
  assert.ok(again?.AuthenticationResult?.AccessToken, 'sign-in works again once PostgreSQL is back');
  assert.equal(await running.identity.isRevoked(claims), false);
  cognito.destroy();
});
