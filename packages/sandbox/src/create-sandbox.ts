import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { S3Client, CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { refuseUnsafeStorageNames } from './storage-names.ts';
import { openPrivateDatabase, type HttpComponent, type Platform } from '@gatehouse/core';
import { loadSealingKey } from '@gatehouse/cluster';
import { SandboxCredentialStore } from './sandbox-credential-store.ts';
import { MultipartUploadStore } from './multipart-upload-store.ts';
import { createSandboxSts, type StsObservation } from './sandbox-sts.ts';
import { createSandboxS3, storedBucketName, type S3Observation } from './sandbox-s3.ts';
import { SANDBOX_ACCOUNTS } from './sandbox-accounts.ts';
import { createAccountRegistry, parseAccount, READ_ONLY_ROLE } from '@gatehouse/tools';
import type { SigV4Key, WebIdentityPrincipal } from './sandbox-key.ts';

export interface SandboxDeps {
  lookupAccessKey(accessKeyId: string): Promise<SigV4Key | undefined>;
  verifyWebIdentity(token: string): Promise<WebIdentityPrincipal>;
}

/** What the sandbox saw, for tests and `gatehouse` diagnostics (kept in memory, newest last, bounded). */
export interface SandboxObservations {
  readonly sts: StsObservation[];
  readonly s3: S3Observation[];
}

export interface SandboxService extends HttpComponent {
  lookupTemporaryKey(accessKeyId: string): Promise<SigV4Key | undefined>;
  readonly stsEndpoint: string;
  readonly s3Endpoint: string;
  readonly accounts: readonly { accountId: string; name: string }[];
  readonly observed: SandboxObservations;
  /**
   * Reads one object of a sandbox account's bucket for Gatehouse itself (the control plane fetching a runtime's
   * code zip), straight from storage: no caller credentials, the same key checks as the S3 front, at most
   * `maxBytes` (larger → refused before the body is read).
   */
  readObject(accountId: string, bucket: string, key: string, maxBytes: number): Promise<Buffer>;
  close(): Promise<void>;
}

interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

const OBSERVATION_LIMIT = 1000;

function push<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > OBSERVATION_LIMIT) list.splice(0, list.length - OBSERVATION_LIMIT);
}

/** A real s3rver on a loopback port, its data under `{dataDir}/sandbox-s3`. */
async function startUpstream(dataDir: string): Promise<{ s3rver: S3rverInstance; port: number; directory: string }> {
  const directory = path.join(dataDir, 'sandbox-s3');
  mkdirSync(directory, { recursive: true });
  const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;
  const s3rver = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, vhostBuckets: false, resetOnClose: false });
  const upstream = await s3rver.run();
  return { s3rver, port: upstream.port, directory };
}

/** A client of the s3rver itself (Gatehouse's own reads and the first-run seeding; no caller credentials). */
const upstreamClient = (port: number, extra: { maxAttempts?: number } = {}): S3Client =>
  new S3Client({ endpoint: `http://127.0.0.1:${port}`, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, ...extra });

/** The sample accounts' buckets and objects, and their registry rows where missing: on the first run only. */
async function seedSampleAccounts(port: number, registry: Awaited<ReturnType<typeof createAccountRegistry>>): Promise<void> {
  const seedClient = upstreamClient(port);
  try {
    for (const account of SANDBOX_ACCOUNTS) {
      for (const [bucket, objects] of Object.entries(account.buckets)) {
        const Bucket = storedBucketName(account.accountId, bucket);
        await seedClient.send(new CreateBucketCommand({ Bucket }));
        for (const [Key, Body] of Object.entries(objects)) {
          await seedClient.send(new PutObjectCommand({ Bucket, Key, Body, ContentType: Key.endsWith('.json') ? 'application/json' : Key.endsWith('.svg') ? 'image/svg+xml' : 'text/plain' }));
        }
      }
      if (!(await registry.get(account.accountId))) {
        await registry.put(parseAccount({ accountId: account.accountId, name: account.name, environment: account.environment, roleName: READ_ONLY_ROLE }));
      }
    }
  } finally {
    seedClient.destroy();
  }
}

/** Sample data on the first run; the accounts declared in the config on every start (they are declarative). */
async function seedRegistry(platform: Platform, port: number, seeded: boolean): Promise<void> {
  const { config, dataDir } = platform;
  const registry = await createAccountRegistry(config.tools.registry, dataDir);
  try {
    if (!seeded) await seedSampleAccounts(port, registry);
    for (const account of config.tools.accounts) await registry.put(parseAccount(account));
  } finally {
    await registry.close?.();
  }
}

/** One object for Gatehouse itself: the same key checks as the S3 front, at most `maxBytes`. */
async function readObjectFrom(reader: S3Client, request: { accountId: string; bucket: string; key: string; maxBytes: number }): Promise<Buffer> {
  const { accountId, bucket, key, maxBytes } = request;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new Error('the bucket name is not valid');
  refuseUnsafeStorageNames([{ kind: 'key', field: 'key', value: key }]);
  let answer;
  try {
    answer = await reader.send(new GetObjectCommand({ Bucket: storedBucketName(accountId, bucket), Key: key }));
  } catch (error) {
    const name = (error as { name?: string }).name;
    throw new Error(name === 'NoSuchKey' || name === 'NoSuchBucket' ? `${name}: upload the zip first (aws s3 cp … --endpoint-url)` : 'the sandbox S3 did not answer', { cause: error });
  }
  if ((answer.ContentLength ?? 0) > maxBytes) {
    answer.Body?.transformToWebStream().cancel().catch(() => undefined);
    throw new Error(`the object is ${answer.ContentLength} bytes; at most ${maxBytes} are accepted`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of answer.Body as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > maxBytes) throw new Error(`the object is over ${maxBytes} bytes; at most that is accepted`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/** A temporary key issued by the sandbox STS, as a SigV4 key naming its assumed-role session. */
async function temporaryKey(store: SandboxCredentialStore, accessKeyId: string): Promise<SigV4Key | undefined> {
  const credential = await store.find(accessKeyId);
  if (!credential) return undefined;
  return {
    secretAccessKey: credential.secretAccessKey,
    sessionToken: credential.sessionToken,
    expiresAt: credential.expiresAt,
    principal: {
      subject: credential.user.sub,
      arn: `arn:aws:sts::${credential.accountId}:assumed-role/${credential.roleName}/${credential.sessionName}`,
      permissions: [],
    },
  };
}

function sandboxAccounts(platform: Platform): Map<string, { name: string; externalId?: string | undefined }> {
  const accounts = new Map<string, { name: string; externalId?: string | undefined }>();
  for (const seed of SANDBOX_ACCOUNTS) accounts.set(seed.accountId, { name: seed.name });
  for (const account of platform.config.tools.accounts) accounts.set(account.accountId, { name: account.name, externalId: account.externalId });
  return accounts;
}

/**
 * Starts the local sandbox accounts: a real s3rver on a loopback port (data under `{dataDir}/sandbox-s3`),
 * the STS query API at `{base}/sts` and a SigV4-verifying S3 front at `{base}/s3`.
 * Sample buckets and registry rows are seeded on the first run only.
 */
export async function createSandbox(platform: Platform, deps: SandboxDeps): Promise<SandboxService> {
  const { config, dataDir, logger, clock } = platform;
  const log = logger.child({ component: 'sandbox' });
  const store = await SandboxCredentialStore.open({ file: path.join(dataDir, 'sandbox.db'), database: config.database, sealingKey: loadSealingKey(dataDir) });
  const meta = openPrivateDatabase(path.join(dataDir, 'sandbox.db'));
  meta.exec('CREATE TABLE IF NOT EXISTS sandbox_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)');
  const seeded = meta.prepare("SELECT value FROM sandbox_meta WHERE name = 'seeded'").get() !== undefined;
  const { s3rver, port, directory } = await startUpstream(dataDir);
  const accounts = sandboxAccounts(platform);
  try {
    await seedRegistry(platform, port, seeded);
    if (!seeded) meta.prepare("INSERT OR REPLACE INTO sandbox_meta (name, value) VALUES ('seeded', ?)").run(new Date(clock()).toISOString());
  } catch (error) {
    await s3rver.close();
    meta.close();
    await store.close();
    throw error;
  }

  const observed: SandboxObservations = { sts: [], s3: [] };
  const uploads = new MultipartUploadStore(path.join(dataDir, 'sandbox.db'));
  const sts = createSandboxSts({
    store,
    bridgeAccountId: config.accountId,
    accounts,
    lookupAccessKey: (id) => deps.lookupAccessKey(id),
    verifyWebIdentity: (token) => deps.verifyWebIdentity(token),
    now: clock,
    logger: log,
    observe: (entry) => push(observed.sts, entry),
  });
  const s3 = createSandboxS3({
    store,
    centralAccountId: config.accountId,
    lookupAccessKey: (id) => deps.lookupAccessKey(id),
    upstreamPort: port,
    now: clock,
    logger: log,
    observe: (entry) => push(observed.s3, entry),
    uploads,
    // s3rver keeps an upload's parts in {bucket}/._S3rver_uploads/{uploadId}; the id is checked hex by then.
    discardUpload: (storedBucket, uploadId) => rm(path.join(directory, storedBucket, '._S3rver_uploads', uploadId), { recursive: true, force: true }),
  });
  await store.purge(Math.floor(clock() / 1000));
  const reader = upstreamClient(port, { maxAttempts: 1 });

  let closed = false;
  return {
    name: 'sandbox',
    stsEndpoint: `${platform.baseUrl}/sts`,
    s3Endpoint: `${platform.baseUrl}/s3`,
    accounts: [...accounts].map(([accountId, account]) => ({ accountId, name: account.name })),
    observed,
    async readObject(accountId, bucket, key, maxBytes) {
      if (!accounts.has(accountId)) throw new Error(`${accountId} is not a sandbox account`);
      return readObjectFrom(reader, { accountId, bucket, key, maxBytes });
    },
    lookupTemporaryKey: (accessKeyId) => temporaryKey(store, accessKeyId),
    async handle(request: IncomingMessage, response: ServerResponse, url: URL) {
      if (url.pathname === '/sts' || url.pathname === '/sts/') {
        await sts.handle(request, response);
        return true;
      }
      if (url.pathname === '/s3' || url.pathname.startsWith('/s3/')) {
        await s3.handle(request, response);
        return true;
      }
      return false;
    },
    async close() {
      if (closed) return;
      closed = true;
      s3.close();
      reader.destroy();
      await s3rver.close();
      meta.close();
      uploads.close();
      await store.close();
    },
  };
}
