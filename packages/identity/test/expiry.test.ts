import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { CognitoIdentityProviderClient, InitiateAuthCommand, GetUserCommand, NotAuthorizedException, RespondToAuthChallengeCommand } from '@aws-sdk/client-cognito-identity-provider';
import { parseConfig } from '@gatehouse/core';
import { freePort, startIdentity } from '@gatehouse/testing/start-identity';
import { login } from './support/hosted-login.ts';
import { identityCommands } from '../src/index.ts';

test('expired codes, access tokens, refresh tokens and challenge sessions are refused (injected clock)', async () => {
  let now = Date.UTC(2026, 0, 1, 12, 0, 0);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const config = {
    identity: {
      userPools: [{ poolName: 'default', clients: [{
        clientName: 'web', explicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'], callbackUrls: [`${base}/cb`],
        accessTokenValidity: 10, idTokenValidity: 10, refreshTokenValidity: 2, tokenValidityUnits: { accessToken: 'minutes', idToken: 'minutes', refreshToken: 'hours' },
      }] }],
    },
  };
  const running = await startIdentity({ port, config, now: () => now });
  const cognito = new CognitoIdentityProviderClient({ endpoint: base, region: 'local', credentials: { accessKeyId: 'AKIAUNUSED00000000000', secretAccessKey: 'unused' } });
  try {
    const quiet = { config: parseConfig(config), dataDir: running.dataDir, baseUrl: base, stdout: () => {}, stderr: () => {} };
    await identityCommands.users(['create', 'kim', '--password', 'Kim-Password-1'], quiet);
    await identityCommands.users(['create', 'lee', '--password', 'Lee-Temporary-1', '--temporary'], quiet);
    const clientId = running.identity.defaultPool.webClientId;
    const signIn = await cognito.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId, AuthParameters: { USERNAME: 'kim', PASSWORD: 'Kim-Password-1' } }));
    assert.equal(signIn.AuthenticationResult!.ExpiresIn, 600);
    const challenge = await cognito.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId, AuthParameters: { USERNAME: 'lee', PASSWORD: 'Lee-Temporary-1' } }));
    const verifier = randomBytes(32).toString('base64url');
    const authorize = `${base}/oauth2/authorize?${new URLSearchParams({
      response_type: 'code', client_id: clientId, redirect_uri: `${base}/cb`, scope: 'openid', code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
    })}`;
    const code = new URL((await login(authorize, 'kim', 'Kim-Password-1')).location!).searchParams.get('code')!;

    now += 5 * 60_000 + 1000;
    const redeemed = await fetch(`${base}/oauth2/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: clientId, code, redirect_uri: `${base}/cb`, code_verifier: verifier }),
    });
    assert.equal(redeemed.status, 400);
    assert.equal(((await redeemed.json()) as { error: string }).error, 'invalid_grant');
    await assert.rejects(
      cognito.send(new RespondToAuthChallengeCommand({
        ChallengeName: 'NEW_PASSWORD_REQUIRED', ClientId: clientId, Session: challenge.Session!, ChallengeResponses: { USERNAME: 'lee', NEW_PASSWORD: 'Lee-Chosen-Pass-2' },
      })),
      NotAuthorizedException,
    );
    const stillValid = await cognito.send(new GetUserCommand({ AccessToken: signIn.AuthenticationResult!.AccessToken! }));
    assert.equal(stillValid.Username, 'kim');

    now += 5 * 60_000;
    await assert.rejects(cognito.send(new GetUserCommand({ AccessToken: signIn.AuthenticationResult!.AccessToken! })), NotAuthorizedException);
    const refreshed = await cognito.send(new InitiateAuthCommand({ AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: clientId, AuthParameters: { REFRESH_TOKEN: signIn.AuthenticationResult!.RefreshToken! } }));
    assert.ok(refreshed.AuthenticationResult!.AccessToken);

    now += 2 * 3600_000;
    await assert.rejects(
      cognito.send(new InitiateAuthCommand({ AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: clientId, AuthParameters: { REFRESH_TOKEN: signIn.AuthenticationResult!.RefreshToken! } })),
      NotAuthorizedException,
    );
  } finally {
    cognito.destroy();
    await running.close();
  }
});
