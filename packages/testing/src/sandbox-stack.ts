import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createJwtAuthorizer } from '@gatehouse/auth';
import { closeServer, createAppServer, createLogger, listen, parseConfig, EmbeddedStore, type HttpComponent, type Platform } from '@gatehouse/core';
import { createSandbox, type SandboxService, type SigV4Key } from '@gatehouse/sandbox';
// The auth package's real OIDC test issuer (discovery + JWKS on loopback), so web identities are verified
// exactly as `gatehouse up` wires it: createJwtAuthorizer with allowedAudience ['sts'].
import { startTestIssuer } from './test-issuer.ts';

export const ADMIN_KEY_ID = 'AKIAGATEHOUSETESTADMIN';
export const ADMIN_SECRET = 'test-admin-secret-0123456789abcdefghij';

export interface TestStack {
  readonly baseUrl: string;
  readonly sandbox: SandboxService;
  readonly dataDir: string;
  /** A token for audience `sts` from the test issuer, expiring in `expiresInSeconds`. */
  readonly signToken: (claims: Record<string, unknown>, expiresInSeconds?: number) => Promise<string>;
  readonly close: () => Promise<void>;
}

/** A real one-port server with the sandbox mounted; web identities come from the auth test issuer. */
export async function startStack(options: { dataDir?: string; config?: Record<string, unknown>; clock?: () => number; logs?: NodeJS.WritableStream } = {}): Promise<TestStack> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'gatehouse-tools-'));
  const components: HttpComponent[] = [];
  const server = createAppServer(components);
  const port = await listen(server, 0);
  const baseUrl = `http://127.0.0.1:${port}`;
  const issuer = await startTestIssuer();
  const webIdentity = createJwtAuthorizer({ discoveryUrl: issuer.discoveryUrl, allowedAudience: ['sts'] });
  const platform: Platform = {
    config: parseConfig(options.config ?? {}),
    dataDir,
    baseUrl,
    logger: options.logs ? createLogger({ level: 'info', destination: options.logs }) : createLogger({ level: process.env.TEST_LOG ?? 'silent' }),
    clock: options.clock ?? Date.now,
    store: new EmbeddedStore(),
  };
  const adminKey: SigV4Key = { secretAccessKey: ADMIN_SECRET, principal: { subject: 'admin', arn: 'arn:aws:iam::000000000000:user/admin', permissions: ['*'] } };
  const sandbox = await createSandbox(platform, {
    lookupAccessKey: async (id) => (id === ADMIN_KEY_ID ? adminKey : undefined),
    verifyWebIdentity: (token) => webIdentity.verify(token),
  });
  components.push(sandbox);
  return {
    baseUrl,
    sandbox,
    dataDir,
    signToken: async (claims, expiresInSeconds = 300) => issuer.sign({ aud: 'sts', ...claims, exp: Math.floor(Date.now() / 1000) + expiresInSeconds }),
    async close() {
      await sandbox.close();
      await closeServer(server);
      await issuer.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function adminCredentials() {
  return { accessKeyId: ADMIN_KEY_ID, secretAccessKey: ADMIN_SECRET };
}
