// The real AWS CLI (v1) and boto3 against Gatehouse's Cognito API, as a user following the seed guides would
// run them: credentials from {dataDir}/admin-credentials, the endpoint from AWS_ENDPOINT_URL, nothing mocked.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { startIdentity, type RunningIdentity } from '@gatehouse/testing/start-identity';
import { lastCode } from './support/outbox.ts';

const run = promisify(execFile);
const INSTALL_AWS = 'python3 -m pip install awscli boto3   # the AWS CLI v1 and boto3 used below';

let running: RunningIdentity;
let environment: NodeJS.ProcessEnv;

before(async () => {
  const probe = spawnSync('aws', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) assert.fail(`the AWS CLI is not installed (needed by this suite); install it with:\n  ${INSTALL_AWS}`);
  running = await startIdentity({ config: { region: 'us-east-1' } });
  const emptyConfig = path.join(running.dataDir, 'aws-config');
  writeFileSync(emptyConfig, '');
  // Only what a user would set: the admin credentials file and the endpoint. Nothing inherited can leak in.
  environment = {
    PATH: process.env.PATH, HOME: running.dataDir, LANG: 'C.UTF-8',
    AWS_SHARED_CREDENTIALS_FILE: running.identity.adminCredentialsFile, AWS_CONFIG_FILE: emptyConfig,
    AWS_ENDPOINT_URL: running.baseUrl, AWS_EC2_METADATA_DISABLED: 'true', AWS_MAX_ATTEMPTS: '1',
  };
});
after(async () => {
  await running?.close();
});

/** Runs a shell snippet (the seed guides' own syntax, variables included); rejects with stderr on failure. */
async function shell(script: string, variables: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', script], { env: { ...environment, ...variables }, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

async function aws(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run('aws', ['cognito-idp', ...args, '--region', 'us-east-1', '--output', 'json'], { env: environment, maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim() === '' ? {} : (JSON.parse(stdout) as Record<string, unknown>);
}

/** The CLI's failure: exit status and the error name it printed. */
async function awsFails(...args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    await run('aws', ['cognito-idp', ...args, '--region', 'us-east-1'], { env: environment });
  } catch (error) {
    const failure = error as { code: number; stderr: string };
    return { code: failure.code, stderr: failure.stderr };
  }
  return assert.fail(`aws cognito-idp ${args.join(' ')} succeeded`);
}

const poolId = (): string => running.identity.defaultPool.userPoolId;

test('seed 004: admin-create-user, admin-set-user-password and admin-initiate-auth ADMIN_NO_SRP_AUTH run verbatim and give an ID token', async () => {
  // copied from seed 004 as published; only POOL_ID and CLIENT_ID come from this server instead of CloudFormation
  const seed = `
aws cognito-idp admin-create-user --user-pool-id $POOL_ID \\
  --username test@example.com --temporary-password TempPass123! \\
  --message-action SUPPRESS --region us-east-1

aws cognito-idp admin-set-user-password --user-pool-id $POOL_ID \\
  --username test@example.com --password TestPass123! --permanent --region us-east-1

TOKEN=$(aws cognito-idp admin-initiate-auth --user-pool-id $POOL_ID --client-id $CLIENT_ID \\
  --auth-flow ADMIN_NO_SRP_AUTH \\
  --auth-parameters "USERNAME=test@example.com,PASSWORD=TestPass123!" \\
  --region us-east-1 --query 'AuthenticationResult.IdToken' --output text)
echo "TOKEN=$TOKEN"
`;
  const output = await shell(seed, { POOL_ID: poolId(), CLIENT_ID: running.identity.defaultPool.webClientId });
  const token = /TOKEN=(\S+)/.exec(output)![1]!;
  const claims = decodeJwt(token);
  assert.equal(claims['cognito:username'], 'test@example.com');
  assert.equal(claims.aud, running.identity.defaultPool.webClientId);
  assert.equal(claims.iss, `${running.baseUrl}/${poolId()}`);
});

test('pools and clients with the CLI: seed 001 create-user-pool-client --no-generate-secret, secrets, describe, list, update, delete', async () => {
  const created = (await aws('create-user-pool', '--pool-name', 'cli-pool', '--user-pool-tags', 'owner=cli')).UserPool as { Id: string; Name: string };
  assert.match(created.Id, /^us-east-1_[0-9a-zA-Z]{9}$/);
  const described = (await aws('describe-user-pool', '--user-pool-id', created.Id)).UserPool as { Name: string; UserPoolTags: Record<string, string> };
  assert.equal(described.Name, 'cli-pool');
  assert.deepEqual(described.UserPoolTags, { owner: 'cli' });
  const pools = (await aws('list-user-pools', '--max-results', '60')).UserPools as { Name: string }[];
  assert.deepEqual(pools.map((pool) => pool.Name).sort(), ['cli-pool', 'default']);

  const spa = (await aws('create-user-pool-client', '--user-pool-id', created.Id, '--client-name', 'browser-app', '--no-generate-secret',
    '--explicit-auth-flows', 'ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH')).UserPoolClient as Record<string, unknown>;
  assert.equal(spa.ClientSecret, undefined);
  assert.deepEqual(spa.ExplicitAuthFlows, ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH']);
  const backend = (await aws('create-user-pool-client', '--user-pool-id', created.Id, '--client-name', 'backend', '--generate-secret',
    '--allowed-o-auth-flows', 'client_credentials', '--allowed-o-auth-scopes', 'openid', '--allowed-o-auth-flows-user-pool-client')).UserPoolClient as Record<string, unknown>;
  assert.match(String(backend.ClientSecret), /^[a-z0-9]{51}$/);
  const describedClient = (await aws('describe-user-pool-client', '--user-pool-id', created.Id, '--client-id', String(backend.ClientId))).UserPoolClient as Record<string, unknown>;
  assert.equal(describedClient.ClientSecret, backend.ClientSecret);
  assert.deepEqual(describedClient.AllowedOAuthFlows, ['client_credentials']);

  const clients = (await aws('list-user-pool-clients', '--user-pool-id', created.Id, '--page-size', '1')).UserPoolClients as { ClientName: string }[];
  assert.deepEqual(clients.map((client) => client.ClientName), ['backend', 'browser-app']);
  // (the JSON list form: CLI v1 would try to download a bare http:// argument)
  const updated = (await aws('update-user-pool-client', '--user-pool-id', created.Id, '--client-id', String(spa.ClientId),
    '--explicit-auth-flows', 'ALLOW_USER_PASSWORD_AUTH', '--callback-urls', '["http://localhost:5173/"]', '--access-token-validity', '30',
    '--token-validity-units', 'AccessToken=minutes')).UserPoolClient as Record<string, unknown>;
  assert.deepEqual(updated.ExplicitAuthFlows, ['ALLOW_USER_PASSWORD_AUTH']);
  assert.deepEqual(updated.CallbackURLs, ['http://localhost:5173/']);
  assert.equal(updated.AccessTokenValidity, 30);

  await aws('delete-user-pool-client', '--user-pool-id', created.Id, '--client-id', String(backend.ClientId));
  assert.match((await awsFails('describe-user-pool-client', '--user-pool-id', created.Id, '--client-id', String(backend.ClientId))).stderr, /ResourceNotFoundException/);
  await aws('delete-user-pool', '--user-pool-id', created.Id);
  assert.match((await awsFails('describe-user-pool', '--user-pool-id', created.Id)).stderr, /ResourceNotFoundException/);
  // the built-in pool is declared configuration: the CLI is told why it cannot delete it
  const refused = await awsFails('delete-user-pool', '--user-pool-id', poolId());
  assert.match(refused.stderr, /InvalidParameterException.*gatehouse\.yaml/s);
});

test('groups with the CLI: create, list, add, list for user, list members, remove, delete', async () => {
  await aws('admin-create-user', '--user-pool-id', poolId(), '--username', 'grouped', '--message-action', 'SUPPRESS');
  const group = (await aws('create-group', '--user-pool-id', poolId(), '--group-name', 'cli-team', '--description', 'From the CLI', '--precedence', '5')).Group as Record<string, unknown>;
  assert.equal(group.Precedence, 5);
  assert.match((await awsFails('create-group', '--user-pool-id', poolId(), '--group-name', 'cli-team')).stderr, /GroupExistsException/);
  const names = ((await aws('list-groups', '--user-pool-id', poolId(), '--page-size', '1')).Groups as { GroupName: string }[]).map((entry) => entry.GroupName);
  assert.deepEqual(names, ['cli-team', 'ops-readonly', 'ops-readwrite']);
  await aws('admin-add-user-to-group', '--user-pool-id', poolId(), '--username', 'grouped', '--group-name', 'cli-team');
  const forUser = (await aws('admin-list-groups-for-user', '--user-pool-id', poolId(), '--username', 'grouped')).Groups as { GroupName: string }[];
  assert.deepEqual(forUser.map((entry) => entry.GroupName), ['cli-team']);
  const members = (await aws('list-users-in-group', '--user-pool-id', poolId(), '--group-name', 'cli-team')).Users as { Username: string }[];
  assert.deepEqual(members.map((user) => user.Username), ['grouped']);
  await aws('admin-remove-user-from-group', '--user-pool-id', poolId(), '--username', 'grouped', '--group-name', 'cli-team');
  assert.deepEqual((await aws('admin-list-groups-for-user', '--user-pool-id', poolId(), '--username', 'grouped')).Groups, []);
  await aws('delete-group', '--user-pool-id', poolId(), '--group-name', 'cli-team');
  assert.match((await awsFails('get-group', '--user-pool-id', poolId(), '--group-name', 'cli-team')).stderr, /ResourceNotFoundException/);
});

test('list-users --page-size 1 pages through every user with PaginationToken; --max-items stops with a NextToken; filters work', async () => {
  for (const username of ['page-a', 'page-b', 'page-c']) await aws('admin-create-user', '--user-pool-id', poolId(), '--username', username, '--message-action', 'SUPPRESS');
  const raw = JSON.parse(await shell(`aws cognito-idp list-users --user-pool-id ${poolId()} --limit 1 --no-paginate --region us-east-1`)) as { Users: unknown[]; PaginationToken?: string };
  assert.equal(raw.Users.length, 1);
  assert.ok(raw.PaginationToken, 'one page of one user must carry a PaginationToken');
  const all = ((await aws('list-users', '--user-pool-id', poolId(), '--page-size', '1')).Users as { Username: string }[]).map((user) => user.Username);
  assert.ok(all.length >= 4);
  assert.deepEqual(all, [...all].sort());
  assert.equal(new Set(all).size, all.length);
  for (const username of ['admin', 'page-a', 'page-b', 'page-c']) assert.ok(all.includes(username), username);
  const firstTwo = await aws('list-users', '--user-pool-id', poolId(), '--page-size', '1', '--max-items', '2');
  assert.equal((firstTwo.Users as unknown[]).length, 2);
  assert.ok(firstTwo.NextToken);
  const rest = await aws('list-users', '--user-pool-id', poolId(), '--page-size', '1', '--starting-token', String(firstTwo.NextToken));
  assert.deepEqual([...(firstTwo.Users as { Username: string }[]), ...(rest.Users as { Username: string }[])].map((user) => user.Username), all);
  const prefixed = ((await aws('list-users', '--user-pool-id', poolId(), '--filter', 'username ^= "page-"', '--page-size', '1')).Users as { Username: string }[]).map((user) => user.Username);
  assert.deepEqual(prefixed, ['page-a', 'page-b', 'page-c']);
  await aws('admin-update-user-attributes', '--user-pool-id', poolId(), '--username', 'page-b', '--user-attributes', 'Name=email,Value=x@example.test', 'Name=email_verified,Value=true');
  const byEmail = ((await aws('list-users', '--user-pool-id', poolId(), '--filter', 'email = "x@example.test"')).Users as { Username: string }[]).map((user) => user.Username);
  assert.deepEqual(byEmail, ['page-b']);
});

test('forgot-password, the code from the outbox and confirm-forgot-password with the CLI; the new password signs in', async () => {
  const client = running.identity.defaultPool.webClientId;
  await aws('admin-create-user', '--user-pool-id', poolId(), '--username', 'forgetful', '--message-action', 'SUPPRESS', '--user-attributes', 'Name=email,Value=forgetful@example.test', 'Name=email_verified,Value=true');
  await aws('admin-set-user-password', '--user-pool-id', poolId(), '--username', 'forgetful', '--password', 'Old-Password-1', '--permanent');
  const sent = await aws('forgot-password', '--client-id', client, '--username', 'forgetful');
  assert.deepEqual(sent.CodeDeliveryDetails, { Destination: 'f***@e***', DeliveryMedium: 'EMAIL', AttributeName: 'email' });
  const code = lastCode(running.dataDir, 'forgetful', /password reset/);
  assert.match((await awsFails('confirm-forgot-password', '--client-id', client, '--username', 'forgetful', '--confirmation-code', code, '--password', 'short')).stderr, /InvalidPasswordException/);
  await aws('confirm-forgot-password', '--client-id', client, '--username', 'forgetful', '--confirmation-code', code, '--password', 'New-Password-2');
  const signedIn = await aws('initiate-auth', '--client-id', client, '--auth-flow', 'USER_PASSWORD_AUTH', '--auth-parameters', 'USERNAME=forgetful,PASSWORD=New-Password-2');
  assert.ok((signedIn.AuthenticationResult as { AccessToken: string }).AccessToken);
  assert.match((await awsFails('initiate-auth', '--client-id', client, '--auth-flow', 'USER_PASSWORD_AUTH', '--auth-parameters', 'USERNAME=forgetful,PASSWORD=Old-Password-1')).stderr, /NotAuthorizedException/);
});

test('unsigned and wrongly signed CLI calls are refused and write nothing', async () => {
  const unsigned = await awsFails('create-user-pool', '--pool-name', 'sneaky', '--no-sign-request');
  assert.notEqual(unsigned.code, 0);
  assert.match(unsigned.stderr, /MissingAuthenticationTokenException/);
  const { stdout } = await run('aws', ['cognito-idp', 'list-user-pools', '--max-results', '60', '--region', 'eu-west-1'], { env: environment }).catch((error: { stdout: string; stderr: string }) => ({ stdout: error.stderr }));
  assert.match(stdout, /InvalidSignatureException/, 'a request signed for another region is refused');
  const names = ((await aws('list-user-pools', '--max-results', '60')).UserPools as { Name: string }[]).map((pool) => pool.Name);
  assert.ok(!names.includes('sneaky'));
});

test('boto3: a paginated list_users and a create/describe round trip', async () => {
  const script = `
import json, boto3
client = boto3.client('cognito-idp', region_name='us-east-1')
pool = client.create_user_pool(PoolName='boto-pool')['UserPool']
described = client.describe_user_pool(UserPoolId=pool['Id'])['UserPool']
app = client.create_user_pool_client(UserPoolId=pool['Id'], ClientName='boto-app', GenerateSecret=True)['UserPoolClient']
for name in ['b1', 'b2', 'b3']:
    client.admin_create_user(UserPoolId=pool['Id'], Username=name, MessageAction='SUPPRESS')
pages = list(client.get_paginator('list_users').paginate(UserPoolId=pool['Id'], PaginationConfig={'PageSize': 1}))
print(json.dumps({
    'id': pool['Id'], 'name': described['Name'], 'created': described['CreationDate'].isoformat(),
    'secret': len(app.get('ClientSecret', '')), 'pages': [[user['Username'] for user in page['Users']] for page in pages],
}))
`;
  const { stdout } = await run('python3', ['-c', script], { env: environment });
  const result = JSON.parse(stdout) as { id: string; name: string; created: string; secret: number; pages: string[][] };
  assert.match(result.id, /^us-east-1_/);
  assert.equal(result.name, 'boto-pool');
  assert.ok(Math.abs(Date.parse(result.created) - Date.now()) < 60_000);
  assert.equal(result.secret, 51);
  assert.deepEqual(result.pages, [['b1'], ['b2'], ['b3']]);
});
