import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { STSClient, AssumeRoleCommand } from '@aws-sdk/client-sts';
import { adminCredentials, startStack, type TestStack } from '@gatehouse/testing/sandbox-stack';
import { temporaryDirectory } from '@gatehouse/testing/temporary-directory';

const run = promisify(execFile);

const work = temporaryDirectory('gatehouse-s3-cli-');
let stack: TestStack;
before(async () => {
  stack = await startStack();
});
after(() => stack.close());

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

/** The real AWS CLI (v1) against the sandbox S3, with only these credentials in its environment. */
async function aws(credentials: Credentials, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const config = path.join(work, 'aws-config');
  writeFileSync(config, '[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '', HOME: work, AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: path.join(work, 'no-credentials'),
    AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey, AWS_EC2_METADATA_DISABLED: 'true',
    ...(credentials.sessionToken ? { AWS_SESSION_TOKEN: credentials.sessionToken } : {}),
  };
  try {
    const { stdout, stderr } = await run('aws', ['--endpoint-url', stack.sandbox.s3Endpoint, ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { code?: number | string; stdout?: string; stderr?: string };
    if (failure.code === 'ENOENT') throw new Error('The AWS CLI is not installed: pip install awscli (v1) or see https://aws.amazon.com/cli/', { cause: error });
    return { code: Number(failure.code), stdout: failure.stdout ?? '', stderr: failure.stderr ?? '' };
  }
}

test('aws s3 ls with the admin key says the central account holds no buckets and how to reach them; nothing is forwarded to storage', async () => {
  const forwardedBefore = stack.sandbox.observed.s3.filter((entry) => entry.outcome === 'forwarded').length;
  const listing = await aws(adminCredentials(), 's3', 'ls');
  assert.notEqual(listing.code, 0);
  assert.equal(listing.stdout, '');
  assert.match(listing.stderr, /An error occurred \(AccessDenied\) when calling the ListBuckets operation: .*holds no sandbox buckets/);
  assert.match(listing.stderr, /Production 111111111111/);
  assert.match(listing.stderr, /aws sts assume-role --role-arn arn:aws:iam::111111111111:role\/GatehouseOpsReadOnly/);
  assert.equal(stack.sandbox.observed.s3.filter((entry) => entry.outcome === 'forwarded').length, forwardedBefore);

  // following the advice works: the same key assumes the role, and the role lists Production's buckets
  const sts = new STSClient({ endpoint: stack.sandbox.stsEndpoint, region: 'us-east-1', credentials: adminCredentials(), maxAttempts: 1 });
  const assumed = await sts.send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::111111111111:role/GatehouseOpsReadOnly', RoleSessionName: 'me' }));
  const role = { accessKeyId: assumed.Credentials!.AccessKeyId!, secretAccessKey: assumed.Credentials!.SecretAccessKey!, sessionToken: assumed.Credentials!.SessionToken! };
  const buckets = await aws(role, 's3', 'ls');
  assert.equal(buckets.code, 0, buckets.stderr);
  assert.deepEqual(buckets.stdout.trim().split('\n').map((line) => line.split(/\s+/).at(-1)).sort(), ['prod-app-logs', 'prod-backups', 'prod-customer-assets']);
});
