import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { STSClient, AssumeRoleCommand } from '@aws-sdk/client-sts';
import { adminCredentials, startStack, type TestStack } from '@gatehouse/testing/sandbox-stack';
import { temporaryDirectory } from '@gatehouse/testing/temporary-directory';
import { awsCli, type AwsCliResult } from '@gatehouse/testing/aws-cli';

const work = temporaryDirectory('gatehouse-s3-cli-');
let stack: TestStack;
before(async () => {
  stack = await startStack();
});
after(() => stack.close());

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

/** The real AWS CLI (v1) against the sandbox S3, with only these credentials in its environment. */
function aws(credentials: Credentials, ...args: string[]): Promise<AwsCliResult> {
  return awsCli({ endpoint: stack.sandbox.s3Endpoint, home: work, credentials }, args);
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
