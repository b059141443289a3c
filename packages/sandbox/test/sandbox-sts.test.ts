import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  STSClient,
  AssumeRoleCommand,
  AssumeRoleWithWebIdentityCommand,
  GetCallerIdentityCommand,
  InvalidIdentityTokenException,
  ExpiredTokenException,
  MalformedPolicyDocumentException,
  STSServiceException,
} from '@aws-sdk/client-sts';
import { S3Client, ListBucketsCommand } from '@aws-sdk/client-s3';
import { adminCredentials, startStack, type TestStack } from '@gatehouse/testing/sandbox-stack';

let stack: TestStack;
before(async () => {
  stack = await startStack();
});
after(async () => {
  await stack.close();
});

function sts(credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string | undefined }) {
  return new STSClient({ endpoint: stack.sandbox.stsEndpoint, region: 'local', credentials: credentials ?? adminCredentials(), maxAttempts: 1 });
}

const bridgeArn = 'arn:aws:iam::000000000000:role/GatehouseToolsBridge';

async function bridgeSession(groups: string[], username = 'alice') {
  const token = await stack.signToken({ sub: `sub-${username}`, 'cognito:username': username, 'cognito:groups': groups });
  const result = await sts().send(new AssumeRoleWithWebIdentityCommand({ RoleArn: bridgeArn, RoleSessionName: username, WebIdentityToken: token }));
  const credentials = result.Credentials!;
  return { accessKeyId: credentials.AccessKeyId!, secretAccessKey: credentials.SecretAccessKey!, sessionToken: credentials.SessionToken! };
}

test('issues bridge credentials for a verified web identity, bound to the user', async () => {
  const token = await stack.signToken({ sub: 'sub-alice', 'cognito:username': 'alice', 'cognito:groups': ['ops-readonly'] });
  const result = await sts().send(new AssumeRoleWithWebIdentityCommand({ RoleArn: bridgeArn, RoleSessionName: 'alice', WebIdentityToken: token, DurationSeconds: 900 }));
  assert.match(result.Credentials?.AccessKeyId ?? '', /^ASIA[A-Z2-7]{16}$/);
  assert.ok(result.Credentials?.SessionToken);
  const lifetime = result.Credentials!.Expiration!.getTime() - Date.now();
  assert.ok(lifetime > 800_000 && lifetime <= 900_000, `lifetime ${lifetime}`);
  assert.equal(result.SubjectFromWebIdentityToken, 'sub-alice');
  assert.match(result.$metadata.requestId ?? '', /^[0-9a-f-]{36}$/);
  assert.equal(result.AssumedRoleUser?.Arn, 'arn:aws:sts::000000000000:assumed-role/GatehouseToolsBridge/alice');
  const key = await stack.sandbox.lookupTemporaryKey(result.Credentials!.AccessKeyId!);
  assert.equal(key?.secretAccessKey, result.Credentials!.SecretAccessKey);
  assert.equal(key?.principal.subject, 'sub-alice');
});

test('refuses a web identity token signed by another key as InvalidIdentityToken', async () => {
  const token = await stack.signToken({ sub: 'x' });
  const forged = `${token.split('.').slice(0, 2).join('.')}.${'A'.repeat(342)}`;
  await assert.rejects(sts().send(new AssumeRoleWithWebIdentityCommand({ RoleArn: bridgeArn, RoleSessionName: 'mallory', WebIdentityToken: forged })), InvalidIdentityTokenException);
});

test('refuses a token minted for another audience (an ordinary access token) as InvalidIdentityToken', async () => {
  const issued = stack.sandbox.observed.sts.filter((entry) => entry.outcome === 'issued').length;
  const token = await stack.signToken({ sub: 'sub-alice', aud: 'web-client', 'cognito:groups': ['ops-readwrite'] });
  await assert.rejects(sts().send(new AssumeRoleWithWebIdentityCommand({ RoleArn: bridgeArn, RoleSessionName: 'alice', WebIdentityToken: token })), InvalidIdentityTokenException);
  assert.equal(stack.sandbox.observed.sts.filter((entry) => entry.outcome === 'issued').length, issued);
});

test('refuses an expired web identity token as ExpiredTokenException', async () => {
  const token = await stack.signToken({ sub: 'late' }, -600);
  await assert.rejects(sts().send(new AssumeRoleWithWebIdentityCommand({ RoleArn: bridgeArn, RoleSessionName: 'late', WebIdentityToken: token })), ExpiredTokenException);
});

test('chains from the bridge into the read-only role of a named account for an ops-readonly user', async () => {
  const bridge = await bridgeSession(['ops-readonly']);
  const result = await sts(bridge).send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::111111111111:role/GatehouseOpsReadOnly', RoleSessionName: 'alice' }));
  const member = { accessKeyId: result.Credentials!.AccessKeyId!, secretAccessKey: result.Credentials!.SecretAccessKey!, sessionToken: result.Credentials!.SessionToken! };
  const identity = await sts(member).send(new GetCallerIdentityCommand({}));
  assert.equal(identity.Account, '111111111111');
  assert.equal(identity.Arn, 'arn:aws:sts::111111111111:assumed-role/GatehouseOpsReadOnly/alice');
});

test('refuses the read-write role to a user outside ops-readwrite, naming the group', async () => {
  const bridge = await bridgeSession(['ops-readonly'], 'bob');
  const error = await sts(bridge).send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::111111111111:role/GatehouseOpsReadWrite', RoleSessionName: 'bob' })).catch((caught: unknown) => caught);
  assert.ok(error instanceof STSServiceException);
  assert.equal(error.name, 'AccessDenied');
  assert.equal(error.$metadata.httpStatusCode, 403);
  assert.match(error.message, /must be in group ops-readwrite/);
});

test('a member-account session cannot assume further roles', async () => {
  const bridge = await bridgeSession(['ops-readwrite'], 'carol');
  const first = await sts(bridge).send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::222222222222:role/GatehouseOpsReadOnly', RoleSessionName: 'carol' }));
  const member = { accessKeyId: first.Credentials!.AccessKeyId!, secretAccessKey: first.Credentials!.SecretAccessKey!, sessionToken: first.Credentials!.SessionToken! };
  await assert.rejects(sts(member).send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::111111111111:role/GatehouseOpsReadWrite', RoleSessionName: 'carol' })), { name: 'AccessDenied' });
});

test('refuses AssumeRole signed with a wrong secret, and with an unknown key', async () => {
  const before = stack.sandbox.observed.sts.filter((entry) => entry.outcome === 'issued').length;
  await assert.rejects(
    sts({ accessKeyId: adminCredentials().accessKeyId, secretAccessKey: 'wrong' }).send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::111111111111:role/GatehouseOpsReadOnly', RoleSessionName: 'x1' })),
    { name: 'SignatureDoesNotMatch' },
  );
  await assert.rejects(
    sts({ accessKeyId: 'AKIAUNKNOWNUNKNOWN00', secretAccessKey: 'whatever' }).send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::111111111111:role/GatehouseOpsReadOnly', RoleSessionName: 'x1' })),
    { name: 'InvalidClientTokenId' },
  );
  assert.equal(stack.sandbox.observed.sts.filter((entry) => entry.outcome === 'issued').length, before);
});

test('validates duration, session name and session policies with STS error names', async () => {
  const client = sts();
  const role = 'arn:aws:iam::111111111111:role/GatehouseOpsReadOnly';
  await assert.rejects(client.send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'ok', DurationSeconds: 60 })), { name: 'ValidationError', message: /between 900 and 43200/ });
  await assert.rejects(client.send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'has space' })), { name: 'ValidationError' });
  await assert.rejects(client.send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'ok', Policy: '{not json' })), MalformedPolicyDocumentException);
  await assert.rejects(client.send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::999999999999:role/GatehouseOpsReadOnly', RoleSessionName: 'ok' })), { name: 'AccessDenied', message: /not a sandbox account/ });
});

test('an admin key names the user with session tags, and trust still applies to those groups', async () => {
  const client = sts();
  const ok = await client.send(new AssumeRoleCommand({
    RoleArn: 'arn:aws:iam::333333333333:role/GatehouseOpsReadWrite',
    RoleSessionName: 'dave',
    Tags: [{ Key: 'sub', Value: 'sub-dave' }, { Key: 'username', Value: 'dave' }, { Key: 'groups', Value: 'ops-readwrite' }],
  }));
  assert.equal((await stack.sandbox.lookupTemporaryKey(ok.Credentials!.AccessKeyId!))?.principal.subject, 'sub-dave');
  await assert.rejects(client.send(new AssumeRoleCommand({
    RoleArn: 'arn:aws:iam::333333333333:role/GatehouseOpsReadOnly',
    RoleSessionName: 'erin',
    Tags: [{ Key: 'sub', Value: 'sub-erin' }, { Key: 'groups', Value: 'finance' }],
  })), { name: 'AccessDenied', message: /ops-readonly, ops-readwrite/ });
});

test('a web identity may assume a member role directly, under the same group trust', async () => {
  const token = await stack.signToken({ sub: 'sub-olga', 'cognito:username': 'olga', 'cognito:groups': ['ops-readonly'] });
  const ok = await sts().send(new AssumeRoleWithWebIdentityCommand({ RoleArn: 'arn:aws:iam::222222222222:role/GatehouseOpsReadOnly', RoleSessionName: 'olga', WebIdentityToken: token }));
  assert.equal(ok.AssumedRoleUser?.Arn, 'arn:aws:sts::222222222222:assumed-role/GatehouseOpsReadOnly/olga');
  await assert.rejects(
    sts().send(new AssumeRoleWithWebIdentityCommand({ RoleArn: 'arn:aws:iam::222222222222:role/GatehouseOpsReadWrite', RoleSessionName: 'olga', WebIdentityToken: token })),
    { name: 'AccessDenied', message: /must be in group ops-readwrite/ },
  );
  await assert.rejects(
    sts().send(new AssumeRoleWithWebIdentityCommand({ RoleArn: 'arn:aws:iam::222222222222:role/SomethingElse', RoleSessionName: 'olga', WebIdentityToken: token })),
    { name: 'AccessDenied', message: /does not exist in the sandbox/ },
  );
});

test('accepts requests signed for any region, so no client meets a wrong-region refusal (the sandbox has no region of its own)', async () => {
  for (const region of ['us-east-1', 'eu-central-1', 'ap-southeast-2', 'local']) {
    const client = new STSClient({ endpoint: stack.sandbox.stsEndpoint, region, credentials: adminCredentials(), maxAttempts: 1 });
    const identity = await client.send(new GetCallerIdentityCommand({}));
    assert.equal(identity.Arn, 'arn:aws:iam::000000000000:user/admin', region);
    const s3 = new S3Client({ endpoint: stack.sandbox.s3Endpoint, forcePathStyle: true, region, credentials: adminCredentials(), maxAttempts: 1 });
    // past the signature check in every region: the admin key's listing is refused for what it is, not for the region
    await assert.rejects(s3.send(new ListBucketsCommand({})), { name: 'AccessDenied', message: /holds no sandbox buckets/ }, region);
  }
});
