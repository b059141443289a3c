import { sign as cryptoSign, generateKeyPairSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { BenchSection } from '@gatehouse/core';
import { CognitoIdentityProviderClient, InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { startIdentity } from '@gatehouse/testing/start-identity';
import { identityCommands } from '../src/index.ts';
import { parseConfig } from '@gatehouse/core';

const ROUNDS = 5;

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

async function perSecond(count: number, concurrency: number, run: (index: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) await run(next++);
  }));
  return count / ((performance.now() - started) / 1000);
}

/**
 * Sign-in and refresh throughput over HTTP with the real Cognito SDK client, and the cost of minting a
 * token (jose over the sealed key) next to a raw node:crypto RS256 signature, in alternating rounds.
 */
export async function bench(): Promise<BenchSection[]> {
  const running = await startIdentity();
  const cognito = new CognitoIdentityProviderClient({ endpoint: running.baseUrl, region: 'local', credentials: { accessKeyId: 'AKIAUNUSED00000000000', secretAccessKey: 'unused' } });
  try {
    const quiet = { config: parseConfig({}), dataDir: running.dataDir, baseUrl: running.baseUrl, stdout: () => {}, stderr: () => {} };
    await identityCommands.users(['create', 'bench', '--password', 'Bench-Password-1'], quiet);
    const clientId = running.identity.defaultPool.webClientId;
    const signIn = () => cognito.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId, AuthParameters: { USERNAME: 'bench', PASSWORD: 'Bench-Password-1' } }));
    const refreshToken = (await signIn()).AuthenticationResult!.RefreshToken!;
    const refresh = () => cognito.send(new InitiateAuthCommand({ AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: clientId, AuthParameters: { REFRESH_TOKEN: refreshToken } }));
    const jwks = `${running.identity.defaultPool.issuer}/.well-known/jwks.json`;
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const payload = Buffer.from(`eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify({ sub: 'x', token_use: 'access', scope: 'openid' })).toString('base64url')}`);
    const signIns: number[] = [];
    const refreshes: number[] = [];
    const jwksReads: number[] = [];
    const rawSigns: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      signIns.push(await perSecond(16, 4, signIn));
      refreshes.push(await perSecond(100, 8, refresh));
      jwksReads.push(await perSecond(200, 8, async () => (await fetch(jwks)).arrayBuffer()));
      rawSigns.push(await perSecond(200, 1, async () => cryptoSign('sha256', payload, privateKey)));
    }
    const refreshRate = median(refreshes);
    // each refresh signs two tokens (access + ID)
    const overhead = (2 * refreshRate) / median(rawSigns);
    return [{
      title: 'Identity: sign-in and token issuance (HTTP, Cognito SDK client, one process)',
      rows: [
        { name: 'InitiateAuth USER_PASSWORD_AUTH (scrypt N=16384)', value: Math.round(median(signIns)), unit: 'sign-ins/s' },
        { name: 'InitiateAuth REFRESH_TOKEN_AUTH (2 RS256 tokens each)', value: Math.round(refreshRate), unit: 'refreshes/s' },
        { name: 'GET jwks.json', value: Math.round(median(jwksReads)), unit: 'req/s' },
        { name: 'raw node:crypto RS256 sign, same machine', value: Math.round(median(rawSigns)), unit: 'signatures/s' },
        { name: 'tokens signed over HTTP per raw signature', value: Number(overhead.toFixed(2)), unit: '×', note: 'HTTP + SDK + SQLite cost on top of the signature' },
      ],
      notes: [`medians of ${ROUNDS} alternating rounds; sign-ins are bounded by scrypt by design`],
    }];
  } finally {
    cognito.destroy();
    await running.close();
  }
}
