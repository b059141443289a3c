import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { S3Client, paginateListObjectsV2, DeleteObjectsCommand, ListBucketsCommand, ListObjectsV2Command, GetObjectCommand, PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { STSClient, AssumeRoleCommand } from '@aws-sdk/client-sts';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import { adminCredentials, startStack, type TestStack } from '@gatehouse/testing/sandbox-stack';

let stack: TestStack;
/** Moves the sandbox's injected clock forward (the SDK clients follow with systemClockOffset). */
let clockOffset = 0;
before(async () => {
  stack = await startStack({ clock: () => Date.now() + clockOffset });
});
after(async () => {
  await stack.close();
});

async function roleCredentials(accountId: string, role: string, groups: string) {
  const sts = new STSClient({ endpoint: stack.sandbox.stsEndpoint, region: 'local', credentials: adminCredentials() });
  const result = await sts.send(new AssumeRoleCommand({
    RoleArn: `arn:aws:iam::${accountId}:role/${role}`,
    RoleSessionName: 'tester',
    Tags: [{ Key: 'sub', Value: 'sub-tester' }, { Key: 'groups', Value: groups }],
  }));
  return { accessKeyId: result.Credentials!.AccessKeyId!, secretAccessKey: result.Credentials!.SecretAccessKey!, sessionToken: result.Credentials!.SessionToken! };
}

function s3(credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) {
  return new S3Client({ endpoint: stack.sandbox.s3Endpoint, forcePathStyle: true, region: 'us-east-1', credentials, maxAttempts: 1 });
}

test('each account lists only its own seeded buckets', async () => {
  const production = await s3(await roleCredentials('111111111111', 'GatehouseOpsReadOnly', 'ops-readonly')).send(new ListBucketsCommand({}));
  assert.deepEqual(production.Buckets?.map((bucket) => bucket.Name).sort(), ['prod-app-logs', 'prod-backups', 'prod-customer-assets']);
  const staging = await s3(await roleCredentials('222222222222', 'GatehouseOpsReadOnly', 'ops-readonly')).send(new ListBucketsCommand({}));
  assert.deepEqual(staging.Buckets?.map((bucket) => bucket.Name).sort(), ['staging-app-logs', 'staging-build-artifacts']);
});

test('lists and reads objects under the bucket name the account knows', async () => {
  const client = s3(await roleCredentials('111111111111', 'GatehouseOpsReadOnly', 'ops-readonly'));
  const listing = await client.send(new ListObjectsV2Command({ Bucket: 'prod-customer-assets', Prefix: 'invoices/' }));
  assert.equal(listing.Name, 'prod-customer-assets');
  assert.deepEqual(listing.Contents?.map((object) => object.Key), ['invoices/INV-1001.txt']);
  const object = await client.send(new GetObjectCommand({ Bucket: 'prod-customer-assets', Key: 'invoices/INV-1001.txt' }));
  assert.match(await object.Body!.transformToString(), /Invoice INV-1001/);
});

test('another account cannot reach a bucket of Production', async () => {
  const client = s3(await roleCredentials('333333333333', 'GatehouseOpsReadOnly', 'ops-readonly'));
  await assert.rejects(client.send(new ListObjectsV2Command({ Bucket: 'prod-customer-assets' })), { name: 'NoSuchBucket' });
});

test('the read-only role cannot put, and the refused request never reaches the store', async () => {
  const client = s3(await roleCredentials('222222222222', 'GatehouseOpsReadOnly', 'ops-readonly'));
  const forwardedBefore = stack.sandbox.observed.s3.filter((entry) => entry.outcome === 'forwarded').length;
  const error = await client.send(new PutObjectCommand({ Bucket: 'staging-app-logs', Key: 'evil.txt', Body: 'x' })).catch((caught: unknown) => caught);
  assert.ok(error instanceof S3ServiceException);
  assert.equal(error.name, 'AccessDenied');
  assert.equal(error.$metadata.httpStatusCode, 403);
  assert.match(error.message, /s3:PutObject/);
  assert.equal(stack.sandbox.observed.s3.filter((entry) => entry.outcome === 'forwarded').length, forwardedBefore);
  const listing = await client.send(new ListObjectsV2Command({ Bucket: 'staging-app-logs' }));
  assert.ok(!listing.Contents?.some((object) => object.Key === 'evil.txt'));
});

test('the read-write role puts an object that the read-only role then reads', async () => {
  const writer = s3(await roleCredentials('333333333333', 'GatehouseOpsReadWrite', 'ops-readwrite'));
  await writer.send(new PutObjectCommand({ Bucket: 'dev-scratch', Key: 'notes/hello world.txt', Body: 'hello from the test', ContentType: 'text/plain' }));
  const reader = s3(await roleCredentials('333333333333', 'GatehouseOpsReadOnly', 'ops-readonly'));
  const object = await reader.send(new GetObjectCommand({ Bucket: 'dev-scratch', Key: 'notes/hello world.txt' }));
  assert.equal(await object.Body!.transformToString(), 'hello from the test');
});

test('refuses a forged signature and a missing session token, forwarding nothing', async () => {
  const real = await roleCredentials('111111111111', 'GatehouseOpsReadOnly', 'ops-readonly');
  const forwardedBefore = stack.sandbox.observed.s3.filter((entry) => entry.outcome === 'forwarded').length;
  await assert.rejects(s3({ ...real, secretAccessKey: 'forged' }).send(new ListBucketsCommand({})), { name: 'SignatureDoesNotMatch' });
  await assert.rejects(s3({ accessKeyId: real.accessKeyId, secretAccessKey: real.secretAccessKey }).send(new ListBucketsCommand({})), { name: 'InvalidToken' });
  const anonymous = await fetch(`${stack.sandbox.s3Endpoint}/prod-customer-assets`);
  assert.equal(anonymous.status, 403);
  assert.match(await anonymous.text(), /<Code>AccessDenied<\/Code>/);
  assert.equal(stack.sandbox.observed.s3.filter((entry) => entry.outcome === 'forwarded').length, forwardedBefore);
});

test('paginates ListObjectsV2 one key per page with continuation tokens', async () => {
  const client = s3(await roleCredentials('111111111111', 'GatehouseOpsReadOnly', 'ops-readonly'));
  const pages: string[][] = [];
  for await (const page of paginateListObjectsV2({ client, pageSize: 1 }, { Bucket: 'prod-customer-assets' })) {
    pages.push((page.Contents ?? []).map((object) => object.Key!));
  }
  assert.deepEqual(pages, [['invoices/INV-1001.txt'], ['logos/example-corp.svg']]);
  await assert.rejects(client.send(new ListObjectsV2Command({ Bucket: 'prod-customer-assets', ContinuationToken: 'forged' })), { name: 'InvalidRequest' });
});

test('a key with dot segments cannot climb into another account\'s bucket (nothing forwarded)', async () => {
  const writer = s3(await roleCredentials('333333333333', 'GatehouseOpsReadWrite', 'ops-readwrite'));
  const forwardedBefore = stack.sandbox.observed.s3.filter((entry) => entry.outcome === 'forwarded').length;
  for (const Key of ['../111111111111-prod-backups/planted.txt', 'a/../../111111111111-prod-backups/planted.txt', './x']) {
    await assert.rejects(writer.send(new PutObjectCommand({ Bucket: 'dev-scratch', Key, Body: 'planted' })), { name: 'InvalidRequest' });
  }
  await assert.rejects(writer.send(new DeleteObjectsCommand({ Bucket: 'dev-scratch', Delete: { Objects: [{ Key: '../111111111111-prod-backups/db/2026-11-23.manifest.json' }] } })), { name: 'InvalidRequest' });
  assert.equal(stack.sandbox.observed.s3.filter((entry) => entry.outcome === 'forwarded').length, forwardedBefore);
  const production = s3(await roleCredentials('111111111111', 'GatehouseOpsReadOnly', 'ops-readonly'));
  const listing = await production.send(new ListObjectsV2Command({ Bucket: 'prod-backups' }));
  assert.deepEqual(listing.Contents?.map((object) => object.Key), ['db/2026-11-23.manifest.json']);
});

test('expired sandbox credentials are refused with ExpiredToken and nothing is forwarded', async (context) => {
  const sts = new STSClient({ endpoint: stack.sandbox.stsEndpoint, region: 'local', credentials: adminCredentials() });
  const result = await sts.send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::111111111111:role/GatehouseOpsReadOnly', RoleSessionName: 'short', DurationSeconds: 900 }));
  const credentials = { accessKeyId: result.Credentials!.AccessKeyId!, secretAccessKey: result.Credentials!.SecretAccessKey!, sessionToken: result.Credentials!.SessionToken! };
  context.after(() => {
    clockOffset = 0;
  });
  clockOffset = 901_000;
  const later = new S3Client({ endpoint: stack.sandbox.s3Endpoint, forcePathStyle: true, region: 'us-east-1', credentials, maxAttempts: 1, systemClockOffset: clockOffset });
  const forwardedBefore = stack.sandbox.observed.s3.filter((entry) => entry.outcome === 'forwarded').length;
  await assert.rejects(later.send(new ListBucketsCommand({})), { name: 'ExpiredToken' });
  assert.equal(stack.sandbox.observed.s3.filter((entry) => entry.outcome === 'forwarded').length, forwardedBefore);
});

/** A presigned GET as @aws-sdk/s3-request-presigner builds it: UNSIGNED-PAYLOAD, only host signed. */
async function presignedPath(credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }, path: string, options: { expiresIn?: number; signingDate?: Date } = {}): Promise<string> {
  const endpoint = new URL(stack.sandbox.s3Endpoint);
  const signer = new SignatureV4({ credentials, region: 'eu-west-1', service: 's3', sha256: Sha256, uriEscapePath: false });
  const presigned = await signer.presign(
    { method: 'GET', protocol: 'http:', hostname: endpoint.hostname, path, query: { 'x-id': 'GetObject' }, headers: { host: endpoint.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } },
    { expiresIn: options.expiresIn ?? 900, ...(options.signingDate ? { signingDate: options.signingDate } : {}) },
  );
  const query = Object.entries(presigned.query ?? {}).map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`).join('&');
  return `${path}?${query}`;
}

test('a presigned GetObject URL from a sandbox session reads the object; tampered or expired ones forward nothing', async () => {
  const credentials = await roleCredentials('111111111111', 'GatehouseOpsReadOnly', 'ops-readonly');
  const object = '/s3/prod-customer-assets/invoices/INV-1001.txt';
  const base = new URL(stack.sandbox.s3Endpoint).origin;
  const response = await fetch(`${base}${await presignedPath(credentials, object)}`);
  assert.equal(response.status, 200);
  assert.match(await response.text(), /Invoice INV-1001/);
  assert.equal(stack.sandbox.observed.s3.at(-1)?.outcome, 'forwarded');

  const forwardedBefore = stack.sandbox.observed.s3.filter((entry) => entry.outcome === 'forwarded').length;
  const refusals: Array<[string, string]> = [
    [(await presignedPath(credentials, object)).replace('INV-1001', 'INV-1002'), 'SignatureDoesNotMatch'],
    [await presignedPath(credentials, object, { expiresIn: 60, signingDate: new Date(Date.now() - 120_000) }), 'AccessDenied'],
    [await presignedPath({ accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey }, object), 'InvalidToken'],
  ];
  for (const [path, code] of refusals) {
    const refused = await fetch(`${base}${path}`);
    assert.equal(refused.status, code === 'InvalidToken' ? 400 : 403, code);
    assert.match(await refused.text(), new RegExp(`<Code>${code}</Code>`));
  }
  assert.equal(stack.sandbox.observed.s3.filter((entry) => entry.outcome === 'forwarded').length, forwardedBefore);
});

test('refuses a body that does not match its signed hash with XAmzContentSHA256Mismatch, forwarding nothing', async () => {
  const credentials = await roleCredentials('333333333333', 'GatehouseOpsReadWrite', 'ops-readwrite');
  const endpoint = new URL(stack.sandbox.s3Endpoint);
  const signer = new SignatureV4({ credentials, region: 'us-east-1', service: 's3', sha256: Sha256, uriEscapePath: false });
  const path = '/s3/dev-scratch/swapped.txt';
  const signedBody = 'the body that was signed';
  const hash = Buffer.from(await (async () => {
    const digest = new Sha256();
    digest.update(signedBody);
    return digest.digest();
  })()).toString('hex');
  const signed = await signer.sign({ method: 'PUT', protocol: 'http:', hostname: endpoint.hostname, path, headers: { host: endpoint.host, 'x-amz-content-sha256': hash }, body: signedBody });
  const forwardedBefore = stack.sandbox.observed.s3.filter((entry) => entry.outcome === 'forwarded').length;
  const response = await fetch(`${endpoint.origin}${path}`, { method: 'PUT', headers: signed.headers as Record<string, string>, body: 'a different body' });
  assert.equal(response.status, 400);
  assert.match(await response.text(), /<Code>XAmzContentSHA256Mismatch<\/Code>/);
  assert.equal(stack.sandbox.observed.s3.filter((entry) => entry.outcome === 'forwarded').length, forwardedBefore);
});
