import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateKeyPair, SignJWT, jwtVerify, type CryptoKey } from 'jose';
import { closeServer, createAppServer, createLogger, listen, parseConfig, EmbeddedStore, type HttpComponent, type Platform } from '@gatehouse/core';
import { createSandbox, type SandboxService, type SigV4Key, type WebIdentityPrincipal } from '../src/index.ts';

export const ADMIN_KEY_ID = 'AKIAGATEHOUSETESTADMIN';
export const ADMIN_SECRET = 'test-admin-secret-0123456789abcdefghij';
export const ISSUER = 'https://issuer.test/pool';

export interface TestStack {
  readonly baseUrl: string;
  readonly sandbox: SandboxService;
  readonly dataDir: string;
  readonly signToken: (claims: Record<string, unknown>, expiresIn?: string) => Promise<string>;
  readonly close: () => Promise<void>;
}

/** A real one-port server with the sandbox mounted; web identities are JWTs signed by a test key and verified with jose. */
export async function startStack(options: { dataDir?: string; config?: Record<string, unknown> } = {}): Promise<TestStack> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'gatehouse-tools-'));
  const components: HttpComponent[] = [];
  const server = createAppServer(components);
  const port = await listen(server, 0);
  const baseUrl = `http://127.0.0.1:${port}`;
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const platform: Platform = {
    config: parseConfig(options.config ?? {}),
    dataDir,
    baseUrl,
    logger: createLogger({ level: process.env.TEST_LOG ?? 'silent' }),
    clock: Date.now,
    store: new EmbeddedStore(),
  };
  const adminKey: SigV4Key = { secretAccessKey: ADMIN_SECRET, principal: { subject: 'admin', arn: 'arn:aws:iam::000000000000:user/admin', permissions: ['*'] } };
  const sandbox = await createSandbox(platform, {
    lookupAccessKey: async (id) => (id === ADMIN_KEY_ID ? adminKey : undefined),
    verifyWebIdentity: (token) => verify(token, publicKey),
  });
  components.push(sandbox);
  return {
    baseUrl,
    sandbox,
    dataDir,
    signToken: (claims, expiresIn = '5m') => sign(claims, privateKey, expiresIn),
    async close() {
      await sandbox.close();
      await closeServer(server);
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function sign(claims: Record<string, unknown>, key: CryptoKey, expiresIn: string): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256' }).setIssuer(ISSUER).setAudience('sts').setIssuedAt().setExpirationTime(expiresIn).sign(key);
}

async function verify(token: string, key: CryptoKey): Promise<WebIdentityPrincipal> {
  const { payload } = await jwtVerify(token, key, { issuer: ISSUER, audience: 'sts', algorithms: ['RS256'] });
  const groups = payload['cognito:groups'];
  return {
    subject: String(payload.sub),
    ...(typeof payload['cognito:username'] === 'string' ? { username: payload['cognito:username'] } : {}),
    groups: Array.isArray(groups) ? groups.map(String) : [],
    issuer: ISSUER,
    claims: payload,
  };
}

export function adminCredentials() {
  return { accessKeyId: ADMIN_KEY_ID, secretAccessKey: ADMIN_SECRET };
}
