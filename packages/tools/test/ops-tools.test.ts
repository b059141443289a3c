import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { STSClient, AssumeRoleWithWebIdentityCommand } from '@aws-sdk/client-sts';
import { createAccountRegistry, createOpsTools, type AccountRegistry, type OpsTools } from '../src/index.ts';
import { startStack, type TestStack } from '@gatehouse/testing/sandbox-stack';

let stack: TestStack;
let registry: AccountRegistry;
let tools: OpsTools;

before(async () => {
  stack = await startStack();
  registry = await createAccountRegistry({ backend: 'sqlite' }, stack.dataDir);
  tools = createOpsTools({ registry, region: 'local', stsEndpoint: stack.sandbox.stsEndpoint, s3Endpoint: stack.sandbox.s3Endpoint });
});
after(async () => {
  await registry.close?.();
  await stack.close();
});

/** The context the gateway builds: the verified user plus credentials it derived by web identity for the bridge role. */
async function contextFor(tool: string, username: string, groups: string[], withCredentials = true) {
  const identity: Record<string, unknown> = { sub: `sub-${username}`, username, groups, scopes: ['openid'] };
  if (withCredentials) {
    const token = await stack.signToken({ sub: `sub-${username}`, 'cognito:username': username, 'cognito:groups': groups });
    const sts = new STSClient({ endpoint: stack.sandbox.stsEndpoint, region: 'local', credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' } });
    const result = await sts.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: 'arn:aws:iam::000000000000:role/GatehouseToolsBridge', RoleSessionName: username, WebIdentityToken: token }));
    const credentials = result.Credentials!;
    identity.credentials = { accessKeyId: credentials.AccessKeyId!, secretAccessKey: credentials.SecretAccessKey!, sessionToken: credentials.SessionToken!, expiration: credentials.Expiration! };
  }
  return { functionName: 'ops', awsRequestId: 'r', clientContext: { custom: { bedrockAgentCoreToolName: `ops___${tool}` } }, identity };
}

function counts() {
  return {
    sts: stack.sandbox.observed.sts.filter((entry) => entry.action === 'AssumeRole').length,
    s3: stack.sandbox.observed.s3.length,
    forwarded: stack.sandbox.observed.s3.filter((entry) => entry.outcome === 'forwarded').length,
  };
}

test('list_accounts returns the sandbox accounts from the registry', async () => {
  const result = (await tools.handler({}, await contextFor('list_accounts', 'alice', ['ops-readonly'], false))) as { accounts: { name: string; account_id: string }[] };
  assert.deepEqual(result.accounts.map((account) => [account.name, account.account_id]), [
    ['Development', '333333333333'],
    ['Production', '111111111111'],
    ['Staging', '222222222222'],
  ]);
});

test('call_aws "aws s3 ls" in Production assumes the read-only role and lists that account\'s buckets through signed S3', async () => {
  const context = await contextFor('call_aws', 'alice', ['ops-readonly']);
  const before = counts();
  const result = (await tools.handler({ account: 'production', cli_command: 'aws s3 ls' }, context)) as { account_id: string; result: { Buckets: { Name: string }[] } };
  assert.equal(result.account_id, '111111111111');
  assert.deepEqual(result.result.Buckets.map((bucket) => bucket.Name).sort(), ['prod-app-logs', 'prod-backups', 'prod-customer-assets']);
  const stsCall = stack.sandbox.observed.sts.at(-1)!;
  assert.deepEqual({ action: stsCall.action, roleArn: stsCall.roleArn, user: stsCall.user, outcome: stsCall.outcome }, {
    action: 'AssumeRole', roleArn: 'arn:aws:iam::111111111111:role/GatehouseOpsReadOnly', user: 'alice', outcome: 'issued',
  });
  assert.equal(stsCall.accessKeyId, context.identity.credentials && (context.identity.credentials as { accessKeyId: string }).accessKeyId);
  const s3Request = stack.sandbox.observed.s3.at(-1)!;
  assert.equal(s3Request.action, 's3:ListAllMyBuckets');
  assert.equal(s3Request.accountId, '111111111111');
  assert.equal(s3Request.outcome, 'forwarded');
  assert.match(s3Request.accessKeyId ?? '', /^ASIA/);
  assert.equal(counts().sts, before.sts + 1);
});

test('call_aws lists objects with service + operation + params, and reuses the cached role session', async () => {
  const context = await contextFor('call_aws', 'alice', ['ops-readonly']);
  await tools.handler({ account: 'Staging', service: 's3', operation: 'ListBuckets' }, context);
  const stsBefore = counts().sts;
  const result = (await tools.handler({ account: 'STAGING', service: 's3', operation: 'list-objects-v2', params: { Bucket: 'staging-build-artifacts', Prefix: 'releases/' } }, context)) as {
    result: { Contents: { Key: string }[]; Name: string };
  };
  assert.equal(result.result.Name, 'staging-build-artifacts');
  assert.deepEqual(result.result.Contents.map((object) => object.Key).sort(), ['releases/2026.11.24-rc1/CHANGELOG.md', 'releases/2026.11.24-rc1/manifest.json']);
  assert.equal(counts().sts, stsBefore, 'the second call in the same account reuses the assumed role');
  assert.equal(stack.sandbox.observed.s3.at(-1)?.action, 's3:ListBucket');
});

test('call_aws refuses a mutating operation before anything is sent', async () => {
  const context = await contextFor('call_aws', 'root', ['ops-readwrite']);
  const before = counts();
  await assert.rejects(tools.handler({ account: 'Production', service: 's3', operation: 'DeleteBucket', params: { Bucket: 'prod-backups' } }, context), {
    code: 'OperationNotAllowed', message: /s3:DeleteBucket is not read-only/,
  });
  await assert.rejects(tools.handler({ account: 'Production', cli_command: 'aws s3api put-object --bucket prod-backups --key x' }, context), { code: 'OperationNotAllowed' });
  assert.deepEqual(counts(), before);
});

test('an unknown or disabled account is refused with the known accounts listed, before any request', async () => {
  const context = await contextFor('call_aws', 'alice', ['ops-readonly']);
  const before = counts();
  await assert.rejects(tools.handler({ account: 'Marketing', cli_command: 'aws s3 ls' }, context), {
    code: 'UnknownAccount', message: /"Marketing" is not registered\. Known accounts: Development \(333333333333\), Production \(111111111111\), Staging \(222222222222\)/,
  });
  await registry.put({ accountId: '444444444444', name: 'Sunset', environment: 'old', roleName: 'GatehouseOpsReadOnly', enabled: false });
  await assert.rejects(tools.handler({ account: 'sunset', cli_command: 'aws s3 ls' }, context), { code: 'UnknownAccount', message: /is disabled/ });
  assert.deepEqual(counts(), before);
});

test('a read-only user lists objects but cannot put; the refused put never reaches S3', async () => {
  const list = (await tools.handler({ account: 'Development', bucket: 's3://dev-test-fixtures', max_keys: 1 }, await contextFor('bucket_objects_list', 'rita', ['ops-readonly']))) as {
    objects: { key: string }[]; truncated: boolean; next_continuation_token?: string;
  };
  assert.equal(list.objects.length, 1);
  assert.equal(list.truncated, true);
  assert.ok(list.next_continuation_token);
  const before = counts();
  await assert.rejects(tools.handler({ account: 'Development', bucket: 'dev-scratch', key: 'rita.txt', body: 'x' }, await contextFor('bucket_objects_put', 'rita', ['ops-readonly'])), {
    code: 'AccessDenied', message: /must be in group ops-readwrite/,
  });
  assert.equal(counts().s3, before.s3);
  const check = (await tools.handler({ account: 'Development', bucket: 'dev-scratch' }, await contextFor('bucket_access_check', 'rita', ['ops-readonly']))) as { access_summary: Record<string, boolean> };
  assert.deepEqual(check.access_summary, { can_list: true, can_read: true, can_write: false });
});

test('a read-write user puts an object and reads it back', async () => {
  const put = (await tools.handler(
    { account: 'Development', bucket: 'dev-scratch', key: 'notes/from-wendy.txt', body: 'written by wendy' },
    await contextFor('bucket_objects_put', 'wendy', ['ops-readwrite']),
  )) as { size: number };
  assert.equal(put.size, 16);
  const put3 = stack.sandbox.observed.s3.at(-1)!;
  assert.deepEqual([put3.action, put3.accountId, put3.outcome], ['s3:PutObject', '333333333333', 'forwarded']);
  const read = (await tools.handler({ account: 'Development', bucket: 'dev-scratch', key: 'notes/from-wendy.txt' }, await contextFor('bucket_object_get', 'wendy', ['ops-readwrite']))) as { text: string };
  assert.equal(read.text, 'written by wendy');
  const check = (await tools.handler({ account: 'Development', bucket: 'dev-scratch', operations: ['write'] }, await contextFor('bucket_access_check', 'wendy', ['ops-readwrite']))) as { access_summary: Record<string, boolean> };
  assert.deepEqual(check.access_summary, { can_write: true });
});

test('without user credentials every AWS tool fails and nothing reaches STS or S3', async () => {
  const before = counts();
  const calls: [string, Record<string, unknown>][] = [
    ['call_aws', { account: 'Production', cli_command: 'aws s3 ls' }],
    ['bucket_objects_list', { account: 'Production', bucket: 'prod-app-logs' }],
    ['bucket_object_get', { account: 'Production', bucket: 'prod-app-logs', key: 'app/2026/11/24/web-01.log' }],
    ['bucket_objects_put', { account: 'Production', bucket: 'prod-app-logs', key: 'x', body: 'x' }],
    ['bucket_access_check', { account: 'Production', bucket: 'prod-app-logs' }],
  ];
  for (const [tool, args] of calls) {
    await assert.rejects(tools.handler(args, await contextFor(tool, 'alice', ['ops-readwrite'], false)), {
      code: 'NoUserCredentials', message: 'no user credentials: the gateway did not derive credentials for this call',
    });
  }
  await assert.rejects(tools.handler({ account: 'Production', cli_command: 'aws s3 ls' }, { clientContext: { custom: { bedrockAgentCoreToolName: 'ops___call_aws' } } }), { code: 'NoUserCredentials' });
  assert.deepEqual(counts(), before);
});

test('refuses unknown tools and bad arguments with actionable messages', async () => {
  const context = await contextFor('nope', 'alice', ['ops-readonly'], false);
  await assert.rejects(tools.handler({}, context), { code: 'UnknownTool', message: /serves list_accounts, call_aws/ });
  await assert.rejects(tools.handler({ account: 'Production', bucket: 'Bad_Bucket' }, await contextFor('bucket_objects_list', 'alice', [], false)), { code: 'InvalidArguments', message: /bucket: bucket must be an S3 bucket name/ });
  await assert.rejects(tools.handler({ account: 'Production' }, await contextFor('call_aws', 'alice', [], false)), { code: 'InvalidArguments', message: /service \+ operation/ });
});

test('call_aws stops after 5 pages and says that more results exist', async () => {
  const writer = await contextFor('bucket_objects_put', 'pia', ['ops-readwrite']);
  for (let index = 0; index < 7; index++) {
    await tools.handler({ account: 'Staging', bucket: 'staging-app-logs', key: `paged/${index}.txt`, body: String(index) }, writer);
  }
  const result = (await tools.handler(
    { account: 'Staging', cli_command: 'aws s3api list-objects-v2 --bucket staging-app-logs --prefix paged/ --max-keys 1' },
    await contextFor('call_aws', 'pia', ['ops-readonly']),
  )) as { result: { Contents: { Key: string }[]; NextContinuationToken?: string; moreResults?: string } };
  assert.deepEqual(result.result.Contents.map((object) => object.Key), ['paged/0.txt', 'paged/1.txt', 'paged/2.txt', 'paged/3.txt', 'paged/4.txt']);
  assert.match(result.result.moreResults ?? '', /stopped after 5 pages; more results exist/);
  assert.ok(result.result.NextContinuationToken);
});
