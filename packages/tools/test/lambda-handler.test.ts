import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { STSClient, AssumeRoleWithWebIdentityCommand } from '@aws-sdk/client-sts';
import { createOpsTools, createAccountRegistry, handler } from '../src/index.ts';
import { ADMIN_KEY_ID, ADMIN_SECRET, startStack, type TestStack } from '@gatehouse/testing/sandbox-stack';
import { startAccountsTable, type AccountsTable } from './support/accounts-table.ts';

let stack: TestStack;
let table: AccountsTable;

before(async () => {
  stack = await startStack();
  table = await startAccountsTable('ops-accounts', [{ account_id: { S: '222222222222' }, name: { S: 'Staging' }, environment: { S: 'staging' }, enabled: { BOOL: true } }]);
  Object.assign(process.env, {
    GATEHOUSE_ACCOUNTS_TABLE: 'ops-accounts',
    GATEHOUSE_DYNAMODB_ENDPOINT: table.endpoint,
    AWS_REGION: 'us-east-1',
    GATEHOUSE_STS_ENDPOINT: stack.sandbox.stsEndpoint,
    GATEHOUSE_S3_ENDPOINT: stack.sandbox.s3Endpoint,
    // The process's own (ambient) credentials: the admin key. The tools must not use them unless opted in.
    AWS_ACCESS_KEY_ID: ADMIN_KEY_ID,
    AWS_SECRET_ACCESS_KEY: ADMIN_SECRET,
  });
  delete process.env.GATEHOUSE_TOOLS_USE_EXECUTION_ROLE;
});

after(async () => {
  await table.close();
  await stack.close();
});

const toolContext = (tool: string, identity?: Record<string, unknown>) => ({ clientContext: { custom: { bedrockAgentCoreToolName: `ops-bridge___${tool}` } }, ...(identity ? { identity } : {}) });

test('the Lambda handler reads the DynamoDB registry and runs call_aws with the user\'s credentials', async () => {
  const token = await stack.signToken({ sub: 'sub-lena', 'cognito:username': 'lena', 'cognito:groups': ['ops-readonly'] });
  const sts = new STSClient({ endpoint: stack.sandbox.stsEndpoint, region: 'local' });
  const bridge = await sts.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: 'arn:aws:iam::000000000000:role/GatehouseToolsBridge', RoleSessionName: 'lena', WebIdentityToken: token }));
  const credentials = { accessKeyId: bridge.Credentials!.AccessKeyId!, secretAccessKey: bridge.Credentials!.SecretAccessKey!, sessionToken: bridge.Credentials!.SessionToken! };
  const accounts = (await handler({}, toolContext('list_accounts'))) as { accounts: { name: string }[] };
  assert.deepEqual(accounts.accounts.map((account) => account.name), ['Staging']);
  const result = (await handler({ account: 'staging', cli_command: 'aws s3 ls' }, toolContext('call_aws', { sub: 'sub-lena', username: 'lena', groups: ['ops-readonly'], credentials }))) as {
    result: { Buckets: { Name: string }[] };
  };
  assert.deepEqual(result.result.Buckets.map((bucket) => bucket.Name).sort(), ['staging-app-logs', 'staging-build-artifacts']);
});

test('without user credentials the Lambda handler never falls back to the process\'s own credentials', async () => {
  const before = { sts: stack.sandbox.observed.sts.length, s3: stack.sandbox.observed.s3.length };
  await assert.rejects(handler({ account: 'Staging', bucket: 'staging-app-logs', key: 'x', body: 'x' }, toolContext('bucket_objects_put', { sub: 'sub-x', username: 'x', groups: ['ops-readwrite'] })), {
    code: 'NoUserCredentials',
  });
  await assert.rejects(handler({ account: 'Staging', cli_command: 'aws s3 ls' }, toolContext('call_aws')), { code: 'NoUserCredentials' });
  assert.deepEqual({ sts: stack.sandbox.observed.sts.length, s3: stack.sandbox.observed.s3.length }, before);
});

test('GATEHOUSE_TOOLS_USE_EXECUTION_ROLE=1 (opt-in) assumes roles with the execution role instead', async () => {
  const registry = await createAccountRegistry({ backend: 'sqlite' }, stack.dataDir);
  const tools = createOpsTools({ registry, region: 'local', stsEndpoint: stack.sandbox.stsEndpoint, s3Endpoint: stack.sandbox.s3Endpoint, useExecutionRole: true });
  const result = (await tools.handler({ account: 'Production', cli_command: 'aws s3 ls' }, toolContext('call_aws'))) as { result: { Buckets: unknown[] } };
  assert.equal(result.result.Buckets.length, 3);
  const call = stack.sandbox.observed.sts.at(-1)!;
  assert.deepEqual([call.action, call.accessKeyId, call.user], ['AssumeRole', ADMIN_KEY_ID, 'admin']);
  await registry.close?.();
});
