import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { S3Client, CreateMultipartUploadCommand, UploadPartCommand, ListPartsCommand, ListMultipartUploadsCommand, AbortMultipartUploadCommand, CompleteMultipartUploadCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { STSClient, AssumeRoleCommand } from '@aws-sdk/client-sts';
import { adminCredentials, startStack, type TestStack } from '@gatehouse/testing/sandbox-stack';
import { temporaryDirectory } from '@gatehouse/testing/temporary-directory';
import { awsCli } from '@gatehouse/testing/aws-cli';

const work = temporaryDirectory('gatehouse-multipart-');
let stack: TestStack;
before(async () => {
  stack = await startStack();
});
after(() => stack.close());

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken: string };

async function roleCredentials(accountId: string, role: string, groups: string): Promise<Credentials> {
  const sts = new STSClient({ endpoint: stack.sandbox.stsEndpoint, region: 'local', credentials: adminCredentials(), maxAttempts: 1 });
  const result = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${accountId}:role/${role}`, RoleSessionName: 'uploader', Tags: [{ Key: 'sub', Value: 'sub-uploader' }, { Key: 'groups', Value: groups }] }));
  return { accessKeyId: result.Credentials!.AccessKeyId!, secretAccessKey: result.Credentials!.SecretAccessKey!, sessionToken: result.Credentials!.SessionToken! };
}

/** The real AWS CLI (v1), path-style against the sandbox S3, with only these credentials in its environment; it must succeed. */
async function aws(credentials: Credentials, ...args: string[]): Promise<string> {
  const result = await awsCli({ endpoint: stack.sandbox.s3Endpoint, home: work, credentials }, args);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout;
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

for (const mebibytes of [10, 100]) {
  test(`aws s3 cp round-trips a ${mebibytes} MiB file byte for byte (multipart upload, then download)`, async () => {
    const writer = await roleCredentials('333333333333', 'GatehouseOpsReadWrite', 'ops-readwrite');
    const source = path.join(work, `source-${mebibytes}.bin`);
    const copy = path.join(work, `copy-${mebibytes}.bin`);
    writeFileSync(source, randomBytes(mebibytes * 1024 * 1024));
    const key = `uploads/file-${mebibytes}.bin`;
    await aws(writer, 's3', 'cp', source, `s3://dev-scratch/${key}`);
    const multipart = stack.sandbox.observed.s3.filter((entry) => entry.path.endsWith(key) && entry.method === 'PUT' && entry.outcome === 'forwarded');
    assert.ok(multipart.length >= 2, `uploaded in parts (${multipart.length} PUTs)`);
    await aws(writer, 's3', 'cp', `s3://dev-scratch/${key}`, copy);
    assert.equal(sha256(copy), sha256(source));
    const listing = await aws(writer, 's3api', 'list-multipart-uploads', '--bucket', 'dev-scratch', '--output', 'json');
    assert.ok(!listing.includes(key), 'the completed upload is no longer listed');
  });
}

test('ListMultipartUploads, ListParts and AbortMultipartUpload are answered for the caller\'s own uploads only', async () => {
  const writer = await roleCredentials('333333333333', 'GatehouseOpsReadWrite', 'ops-readwrite');
  const client = new S3Client({ endpoint: stack.sandbox.s3Endpoint, forcePathStyle: true, region: 'us-east-1', credentials: writer, maxAttempts: 1 });
  const created = await client.send(new CreateMultipartUploadCommand({ Bucket: 'dev-scratch', Key: 'big/abandoned.bin' }));
  const UploadId = created.UploadId!;
  const part = await client.send(new UploadPartCommand({ Bucket: 'dev-scratch', Key: 'big/abandoned.bin', UploadId, PartNumber: 1, Body: Buffer.alloc(1024, 7) }));
  const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: 'dev-scratch', Prefix: 'big/' }));
  assert.deepEqual(uploads.Uploads?.map((upload) => [upload.Key, upload.UploadId]), [['big/abandoned.bin', UploadId]]);
  const parts = await client.send(new ListPartsCommand({ Bucket: 'dev-scratch', Key: 'big/abandoned.bin', UploadId }));
  assert.deepEqual(parts.Parts?.map((listed) => [listed.PartNumber, listed.ETag, listed.Size]), [[1, part.ETag, 1024]]);

  // Another account, and another key in the same bucket, do not see or touch the upload.
  const staging = new S3Client({ endpoint: stack.sandbox.s3Endpoint, forcePathStyle: true, region: 'us-east-1', credentials: await roleCredentials('222222222222', 'GatehouseOpsReadWrite', 'ops-readwrite'), maxAttempts: 1 });
  await assert.rejects(staging.send(new AbortMultipartUploadCommand({ Bucket: 'staging-app-logs', Key: 'big/abandoned.bin', UploadId })), { name: 'NoSuchUpload' });
  await assert.rejects(client.send(new UploadPartCommand({ Bucket: 'dev-scratch', Key: 'big/other.bin', UploadId, PartNumber: 2, Body: 'x' })), { name: 'NoSuchUpload' });
  await assert.rejects(client.send(new CompleteMultipartUploadCommand({ Bucket: 'dev-scratch', Key: 'big/abandoned.bin', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"0123456789abcdef0123456789abcdef"' }] } })), { name: 'InvalidPart' });

  // A read-only role can list but not abort.
  const reader = new S3Client({ endpoint: stack.sandbox.s3Endpoint, forcePathStyle: true, region: 'us-east-1', credentials: await roleCredentials('333333333333', 'GatehouseOpsReadOnly', 'ops-readonly'), maxAttempts: 1 });
  await assert.rejects(reader.send(new AbortMultipartUploadCommand({ Bucket: 'dev-scratch', Key: 'big/abandoned.bin', UploadId })), { name: 'AccessDenied' });
  await assert.rejects(reader.send(new CreateMultipartUploadCommand({ Bucket: 'dev-scratch', Key: 'big/sneaky.bin' })), { name: 'AccessDenied' });

  await client.send(new AbortMultipartUploadCommand({ Bucket: 'dev-scratch', Key: 'big/abandoned.bin', UploadId }));
  const after = await client.send(new ListMultipartUploadsCommand({ Bucket: 'dev-scratch', Prefix: 'big/' }));
  assert.equal(after.Uploads?.length ?? 0, 0);
  await assert.rejects(client.send(new ListPartsCommand({ Bucket: 'dev-scratch', Key: 'big/abandoned.bin', UploadId })), { name: 'NoSuchUpload' });
  await assert.rejects(client.send(new GetObjectCommand({ Bucket: 'dev-scratch', Key: 'big/abandoned.bin' })), { name: 'NoSuchKey' });
});
