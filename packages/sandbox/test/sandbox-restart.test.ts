import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { S3Client, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { STSClient, AssumeRoleCommand } from '@aws-sdk/client-sts';
import { createAccountRegistry } from '@gatehouse/tools';
import { adminCredentials, startStack, type TestStack } from '@gatehouse/testing/sandbox-stack';

const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-sandbox-restart-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

async function s3For(stack: TestStack, role: string) {
  const sts = new STSClient({ endpoint: stack.sandbox.stsEndpoint, region: 'local', credentials: adminCredentials() });
  const { Credentials } = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::333333333333:role/${role}`, RoleSessionName: 'restart' }));
  return new S3Client({
    endpoint: stack.sandbox.s3Endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: Credentials!.AccessKeyId!, secretAccessKey: Credentials!.SecretAccessKey!, sessionToken: Credentials!.SessionToken! },
  });
}

test('seeds once: objects, registry edits and issued credentials survive a restart; config accounts are added', async () => {
  const first = await startStack({ dataDir });
  const writer = await s3For(first, 'GatehouseOpsReadWrite');
  await writer.send(new PutObjectCommand({ Bucket: 'dev-scratch', Key: 'kept.txt', Body: 'still here' }));
  const registry = await createAccountRegistry({ backend: 'sqlite' }, dataDir);
  await registry.remove('222222222222');
  await registry.close?.();
  const issuedKey = first.sandbox.observed.sts.at(-1)?.outcome === 'issued' ? (await writer.config.credentials()).accessKeyId : undefined;
  await first.close();

  const second = await startStack({
    dataDir,
    config: { tools: { accounts: [{ accountId: '444444444444', name: 'Analytics', environment: 'prod' }] } },
  });
  try {
    const reader = await s3For(second, 'GatehouseOpsReadOnly');
    const listing = await reader.send(new ListObjectsV2Command({ Bucket: 'dev-scratch' }));
    assert.deepEqual(listing.Contents?.map((object) => object.Key).sort(), ['kept.txt', 'notes/readme.txt']);
    const reopened = await createAccountRegistry({ backend: 'sqlite' }, dataDir);
    assert.deepEqual((await reopened.list()).map((account) => account.name), ['Analytics', 'Development', 'Production']);
    await reopened.close?.();
    assert.ok(issuedKey && (await second.sandbox.lookupTemporaryKey(issuedKey)));
    assert.ok(second.sandbox.accounts.some((account) => account.accountId === '444444444444'));
  } finally {
    await second.close();
  }
});
