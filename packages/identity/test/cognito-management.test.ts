import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CreateUserPoolCommand, DescribeUserPoolCommand, ListUserPoolsCommand, UpdateUserPoolCommand, DeleteUserPoolCommand,
  CreateUserPoolClientCommand, DescribeUserPoolClientCommand, ListUserPoolClientsCommand, UpdateUserPoolClientCommand, DeleteUserPoolClientCommand,
  CreateGroupCommand, GetGroupCommand, ListGroupsCommand, UpdateGroupCommand, DeleteGroupCommand, AdminAddUserToGroupCommand, AdminListGroupsForUserCommand,
  AdminRemoveUserFromGroupCommand, ListUsersInGroupCommand, ListUsersCommand, AdminCreateUserCommand, AdminSetUserPasswordCommand, InitiateAuthCommand,
  AdminInitiateAuthCommand, paginateListUsers, paginateListGroups, paginateListUserPools, paginateListUserPoolClients, paginateListUsersInGroup,
  paginateAdminListGroupsForUser, InvalidParameterException, ResourceNotFoundException, GroupExistsException, NotAuthorizedException,
  UserNotFoundException, UsernameExistsException,
} from '@aws-sdk/client-cognito-identity-provider';
import { decodeJwt } from 'jose';
import { secretHash } from '../src/client-secret.ts';
import { startIdentity } from '@gatehouse/testing/start-identity';
import { adminCreateUser } from '@gatehouse/testing/cognito-users';
import { cognitoClient, startWithClientsForFile } from './support/cognito-clients.ts';

const { running, admin, anonymous } = await startWithClientsForFile();

const defaultPoolId = (): string => running.identity.defaultPool.userPoolId;

async function newUser(userPoolId: string, username: string, password = 'Pool-Password-1'): Promise<void> {
  await adminCreateUser(admin, { userPoolId, username, password });
}

async function passwordSignIn(clientId: string, username: string, password = 'Pool-Password-1', extra: Record<string, string> = {}) {
  const result = await anonymous.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId, AuthParameters: { USERNAME: username, PASSWORD: password, ...extra } }));
  return result.AuthenticationResult!;
}

/** A management call without any signature, as a stranger on the network would send it. */
async function unsigned(operation: string, body: unknown): Promise<{ status: number; type: string }> {
  const response = await fetch(`${running.baseUrl}/`, {
    method: 'POST', headers: { 'x-amz-target': `AWSCognitoIdentityProviderService.${operation}`, 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify(body),
  });
  return { status: response.status, type: ((await response.json()) as { __type: string }).__type };
}

test('CreateUserPool makes a pool that serves discovery and signs tokens at once; Describe and List show it', async () => {
  const created = await admin.send(new CreateUserPoolCommand({
    PoolName: 'orders', UserPoolTags: { team: 'orders' }, AutoVerifiedAttributes: ['email'], Schema: [{ Name: 'team', AttributeDataType: 'String', Mutable: true }],
  }));
  const pool = created.UserPool!;
  assert.match(pool.Id!, /^local_[0-9a-zA-Z]{9}$/);
  assert.equal(pool.Name, 'orders');
  assert.equal(pool.Arn, `arn:aws:cognito-idp:local:${running.platform.config.accountId}:userpool/${pool.Id}`);
  assert.ok(pool.CreationDate instanceof Date);
  assert.deepEqual(pool.UserPoolTags, { team: 'orders' });
  assert.deepEqual(pool.AutoVerifiedAttributes, ['email']);
  assert.equal(pool.AdminCreateUserConfig?.AllowAdminCreateUserOnly, false);
  assert.equal(pool.EstimatedNumberOfUsers, 0);
  assert.deepEqual(pool.SchemaAttributes!.find((attribute) => attribute.Name === 'custom:team'), { Name: 'custom:team', AttributeDataType: 'String', Mutable: true });
  assert.ok(pool.SchemaAttributes!.some((attribute) => attribute.Name === 'email'));
  assert.equal((pool as Record<string, unknown>).Schema, undefined);

  const described = await admin.send(new DescribeUserPoolCommand({ UserPoolId: pool.Id }));
  assert.deepEqual(described.UserPool, pool);
  const listed = await admin.send(new ListUserPoolsCommand({ MaxResults: 60 }));
  assert.deepEqual(listed.UserPools!.map((entry) => entry.Name).sort(), ['default', 'orders']);

  const discovery = await fetch(`${running.baseUrl}/${pool.Id}/.well-known/openid-configuration`);
  assert.equal(((await discovery.json()) as { issuer: string }).issuer, `${running.baseUrl}/${pool.Id}`);
  const client = await admin.send(new CreateUserPoolClientCommand({ UserPoolId: pool.Id, ClientName: 'orders-web', ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'] }));
  await newUser(pool.Id!, 'olga');
  const tokens = await passwordSignIn(client.UserPoolClient!.ClientId!, 'olga');
  assert.equal(decodeJwt(tokens.AccessToken!).iss, `${running.baseUrl}/${pool.Id}`);
  assert.equal((await admin.send(new DescribeUserPoolCommand({ UserPoolId: pool.Id }))).UserPool!.EstimatedNumberOfUsers, 1);
});

test('seed 001: a client made without a secret is public; GenerateSecret shows the secret at creation and in Describe only, and it is enforced', async () => {
  const poolId = defaultPoolId();
  const publicClient = await admin.send(new CreateUserPoolClientCommand({ UserPoolId: poolId, ClientName: 'spa', GenerateSecret: false, ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH'] }));
  assert.equal(publicClient.UserPoolClient!.ClientSecret, undefined);
  assert.deepEqual(publicClient.UserPoolClient!.ExplicitAuthFlows, ['ALLOW_USER_PASSWORD_AUTH']);
  await newUser(poolId, 'sam');
  assert.ok((await passwordSignIn(publicClient.UserPoolClient!.ClientId!, 'sam')).AccessToken);

  const created = await admin.send(new CreateUserPoolClientCommand({ UserPoolId: poolId, ClientName: 'backend', GenerateSecret: true, ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH'] }));
  const { ClientId: clientId, ClientSecret: secret } = created.UserPoolClient!;
  assert.match(secret!, /^[a-z0-9]{51}$/);
  const described = await admin.send(new DescribeUserPoolClientCommand({ UserPoolId: poolId, ClientId: clientId }));
  assert.equal(described.UserPoolClient!.ClientSecret, secret);
  const listed = await admin.send(new ListUserPoolClientsCommand({ UserPoolId: poolId }));
  assert.deepEqual(listed.UserPoolClients!.find((entry) => entry.ClientId === clientId), { ClientId: clientId, UserPoolId: poolId, ClientName: 'backend' });
  const updated = await admin.send(new UpdateUserPoolClientCommand({ UserPoolId: poolId, ClientId: clientId, ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH'] }));
  assert.equal(updated.UserPoolClient!.ClientSecret, undefined);

  await assert.rejects(passwordSignIn(clientId!, 'sam'), (error: Error) => error instanceof NotAuthorizedException && /secret was not received/.test(error.message));
  assert.ok((await passwordSignIn(clientId!, 'sam', 'Pool-Password-1', { SECRET_HASH: secretHash(secret!, 'sam', clientId!) })).AccessToken);
});

test('UpdateUserPoolClient replaces the whole configuration and the next request obeys it', async () => {
  const poolId = defaultPoolId();
  const created = await admin.send(new CreateUserPoolClientCommand({
    UserPoolId: poolId, ClientName: 'mobile', ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
    AccessTokenValidity: 2, IdTokenValidity: 30, TokenValidityUnits: { IdToken: 'minutes' }, RefreshTokenValidity: 7,
    CallbackURLs: ['http://localhost:5173/callback'], LogoutURLs: ['http://localhost:5173/'], AllowedOAuthFlows: ['code'], AllowedOAuthScopes: ['openid', 'email'],
    AllowedOAuthFlowsUserPoolClient: true, PreventUserExistenceErrors: 'LEGACY',
  }));
  const client = created.UserPoolClient!;
  assert.deepEqual(
    { ...client, ClientId: undefined, CreationDate: undefined, LastModifiedDate: undefined },
    {
      UserPoolId: poolId, ClientName: 'mobile', ClientId: undefined, CreationDate: undefined, LastModifiedDate: undefined,
      ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'], SupportedIdentityProviders: ['COGNITO'],
      AccessTokenValidity: 2, IdTokenValidity: 30, RefreshTokenValidity: 7, TokenValidityUnits: { AccessToken: 'hours', IdToken: 'minutes', RefreshToken: 'days' },
      CallbackURLs: ['http://localhost:5173/callback'], LogoutURLs: ['http://localhost:5173/'], AllowedOAuthFlows: ['code'], AllowedOAuthScopes: ['openid', 'email'],
      AllowedOAuthFlowsUserPoolClient: true, PreventUserExistenceErrors: 'LEGACY', EnableTokenRevocation: true, EnablePropagateAdditionalUserContextData: false,
      AuthSessionValidity: 3,
    },
  );
  await newUser(poolId, 'mia');
  const tokens = await passwordSignIn(client.ClientId!, 'mia');
  const access = decodeJwt(tokens.AccessToken!);
  assert.equal(access.exp! - access.iat!, 7200);
  const id = decodeJwt(tokens.IdToken!);
  assert.equal(id.exp! - id.iat!, 1800);
  // the client's own PreventUserExistenceErrors decides what an unknown user hears
  await assert.rejects(passwordSignIn(client.ClientId!, 'nobody-here'), UserNotFoundException);

  const authorizeUrl = `${running.baseUrl}/oauth2/authorize?${new URLSearchParams({
    response_type: 'code', client_id: client.ClientId!, redirect_uri: 'http://localhost:5173/callback', scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256',
  })}`;
  const before = await fetch(authorizeUrl, { redirect: 'manual' });
  assert.equal(before.status, 302);
  assert.match(before.headers.get('location')!, /^\/login\?/);

  await admin.send(new UpdateUserPoolClientCommand({ UserPoolId: poolId, ClientId: client.ClientId, ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH'] }));
  await assert.rejects(passwordSignIn(client.ClientId!, 'mia'), (error: Error) => error instanceof InvalidParameterException && error.message === 'USER_PASSWORD_AUTH flow not enabled for this client');
  const described = (await admin.send(new DescribeUserPoolClientCommand({ UserPoolId: poolId, ClientId: client.ClientId }))).UserPoolClient!;
  assert.equal(described.CallbackURLs, undefined);
  assert.equal(described.AccessTokenValidity, 60);
  assert.equal(described.AllowedOAuthFlowsUserPoolClient, false);
  assert.equal(described.PreventUserExistenceErrors, 'ENABLED');
  const afterUpdate = await fetch(authorizeUrl, { redirect: 'manual' });
  assert.equal(afterUpdate.status, 400, 'the update removed the callback URL and the code flow, so nothing may be redirected there');
});

test('DeleteUserPoolClient ends the sign-ins made through it', async () => {
  const poolId = defaultPoolId();
  const client = (await admin.send(new CreateUserPoolClientCommand({ UserPoolId: poolId, ClientName: 'short-lived', ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'] }))).UserPoolClient!;
  await newUser(poolId, 'dora');
  const tokens = await passwordSignIn(client.ClientId!, 'dora');
  await admin.send(new DeleteUserPoolClientCommand({ UserPoolId: poolId, ClientId: client.ClientId }));
  await assert.rejects(admin.send(new DescribeUserPoolClientCommand({ UserPoolId: poolId, ClientId: client.ClientId })), ResourceNotFoundException);
  await assert.rejects(anonymous.send(new InitiateAuthCommand({ AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: client.ClientId, AuthParameters: { REFRESH_TOKEN: tokens.RefreshToken! } })), ResourceNotFoundException);
  assert.equal(await running.identity.isRevoked(decodeJwt(tokens.AccessToken!)), true);
});

test('groups: create, get, update, list, membership in tokens, remove, delete', async () => {
  const poolId = defaultPoolId();
  const group = await admin.send(new CreateGroupCommand({ UserPoolId: poolId, GroupName: 'editors', Description: 'Can edit', Precedence: 3, RoleArn: 'arn:aws:iam::123456789012:role/Editors' }));
  assert.deepEqual({ ...group.Group, CreationDate: undefined, LastModifiedDate: undefined }, {
    GroupName: 'editors', UserPoolId: poolId, Description: 'Can edit', Precedence: 3, RoleArn: 'arn:aws:iam::123456789012:role/Editors', CreationDate: undefined, LastModifiedDate: undefined,
  });
  await assert.rejects(admin.send(new CreateGroupCommand({ UserPoolId: poolId, GroupName: 'editors' })), GroupExistsException);
  const updated = await admin.send(new UpdateGroupCommand({ UserPoolId: poolId, GroupName: 'editors', Description: 'Edits articles' }));
  assert.equal(updated.Group!.Description, 'Edits articles');
  assert.equal(updated.Group!.Precedence, 3);
  assert.deepEqual((await admin.send(new GetGroupCommand({ UserPoolId: poolId, GroupName: 'editors' }))).Group, updated.Group);

  await newUser(poolId, 'greta');
  await admin.send(new AdminAddUserToGroupCommand({ UserPoolId: poolId, GroupName: 'editors', Username: 'greta' }));
  const web = running.identity.defaultPool.webClientId;
  assert.deepEqual(decodeJwt((await passwordSignIn(web, 'greta')).AccessToken!)['cognito:groups'], ['editors']);
  assert.deepEqual((await admin.send(new AdminListGroupsForUserCommand({ UserPoolId: poolId, Username: 'greta' }))).Groups!.map((entry) => entry.GroupName), ['editors']);
  assert.deepEqual((await admin.send(new ListUsersInGroupCommand({ UserPoolId: poolId, GroupName: 'editors' }))).Users!.map((user) => user.Username), ['greta']);

  await admin.send(new AdminRemoveUserFromGroupCommand({ UserPoolId: poolId, GroupName: 'editors', Username: 'greta' }));
  assert.equal(decodeJwt((await passwordSignIn(web, 'greta')).AccessToken!)['cognito:groups'], undefined);
  await admin.send(new AdminAddUserToGroupCommand({ UserPoolId: poolId, GroupName: 'editors', Username: 'greta' }));
  await admin.send(new DeleteGroupCommand({ UserPoolId: poolId, GroupName: 'editors' }));
  await assert.rejects(admin.send(new GetGroupCommand({ UserPoolId: poolId, GroupName: 'editors' })), ResourceNotFoundException);
  assert.deepEqual((await admin.send(new AdminListGroupsForUserCommand({ UserPoolId: poolId, Username: 'greta' }))).Groups, []);
  assert.equal(decodeJwt((await passwordSignIn(web, 'greta')).AccessToken!)['cognito:groups'], undefined);
});

test('every list pages: one item per page reaches every item exactly once, and the last page has no token', async () => {
  const pool = (await admin.send(new CreateUserPoolCommand({ PoolName: 'paging' }))).UserPool!;
  const usernames = ['pa', 'pb', 'pc', 'qa', 'qb'];
  for (const username of usernames) await admin.send(new AdminCreateUserCommand({ UserPoolId: pool.Id, Username: username, MessageAction: 'SUPPRESS' }));
  for (const name of ['g1', 'g2', 'g3']) {
    await admin.send(new CreateGroupCommand({ UserPoolId: pool.Id, GroupName: name }));
    await admin.send(new AdminAddUserToGroupCommand({ UserPoolId: pool.Id, GroupName: name, Username: 'pa' }));
    await admin.send(new AdminAddUserToGroupCommand({ UserPoolId: pool.Id, GroupName: name, Username: 'pb' }));
  }
  for (const name of ['c1', 'c2', 'c3']) await admin.send(new CreateUserPoolClientCommand({ UserPoolId: pool.Id, ClientName: name }));

  const first = await admin.send(new ListUsersCommand({ UserPoolId: pool.Id, Limit: 1 }));
  assert.deepEqual(first.Users!.map((user) => user.Username), ['pa']);
  assert.ok(first.PaginationToken);
  const collect = async <T>(pages: AsyncIterable<T>, pick: (page: T) => string[]): Promise<string[]> => {
    const all: string[] = [];
    for await (const page of pages) all.push(...pick(page));
    return all;
  };
  const config = { client: admin, pageSize: 1 };
  assert.deepEqual(await collect(paginateListUsers(config, { UserPoolId: pool.Id }), (page) => page.Users!.map((user) => user.Username!)), usernames);
  assert.deepEqual(await collect(paginateListUsers(config, { UserPoolId: pool.Id, Filter: 'username ^= "p"' }), (page) => page.Users!.map((user) => user.Username!)), ['pa', 'pb', 'pc']);
  assert.deepEqual(await collect(paginateListGroups(config, { UserPoolId: pool.Id }), (page) => page.Groups!.map((group) => group.GroupName!)), ['g1', 'g2', 'g3']);
  assert.deepEqual(await collect(paginateListUsersInGroup(config, { UserPoolId: pool.Id, GroupName: 'g2' }), (page) => page.Users!.map((user) => user.Username!)), ['pa', 'pb']);
  assert.deepEqual(await collect(paginateAdminListGroupsForUser(config, { UserPoolId: pool.Id, Username: 'pb' }), (page) => page.Groups!.map((group) => group.GroupName!)), ['g1', 'g2', 'g3']);
  assert.deepEqual(await collect(paginateListUserPoolClients(config, { UserPoolId: pool.Id }), (page) => page.UserPoolClients!.map((client) => client.ClientName!)), ['c1', 'c2', 'c3']);
  const pools = await collect(paginateListUserPools(config, { MaxResults: 1 }), (page) => page.UserPools!.map((entry) => entry.Name!));
  assert.equal(new Set(pools).size, pools.length);
  assert.ok(pools.includes('paging') && pools.includes('default'));

  const all = await admin.send(new ListUsersCommand({ UserPoolId: pool.Id, Limit: 5 }));
  assert.equal(all.Users!.length, 5);
  assert.equal(all.PaginationToken, undefined);
  await assert.rejects(admin.send(new ListUsersCommand({ UserPoolId: pool.Id, PaginationToken: 'not-a-token' })), (error: Error) => error instanceof InvalidParameterException && /PaginationToken/.test(error.message));
  await assert.rejects(admin.send(new ListUsersCommand({ UserPoolId: pool.Id, Filter: 'custom:team = "x"' })), (error: Error) => error instanceof InvalidParameterException && /Filter/.test(error.message));
  const filtered = await admin.send(new ListUsersCommand({ UserPoolId: defaultPoolId(), Filter: 'cognito:user_status = "CONFIRMED"', AttributesToGet: ['sub'] }));
  assert.ok(filtered.Users!.every((user) => user.UserStatus === 'CONFIRMED' && user.Attributes!.every((attribute) => attribute.Name === 'sub')));
});

test('DeleteUserPool removes the pool and everything in it, but not while deletion protection is active', async () => {
  const pool = (await admin.send(new CreateUserPoolCommand({ PoolName: 'doomed', DeletionProtection: 'ACTIVE' }))).UserPool!;
  const client = (await admin.send(new CreateUserPoolClientCommand({ UserPoolId: pool.Id, ClientName: 'app', ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH'] }))).UserPoolClient!;
  await newUser(pool.Id!, 'victor');
  const tokens = await passwordSignIn(client.ClientId!, 'victor');
  await assert.rejects(admin.send(new DeleteUserPoolCommand({ UserPoolId: pool.Id })), (error: Error) => error instanceof InvalidParameterException && /deletion protection/.test(error.message));
  assert.ok((await admin.send(new DescribeUserPoolCommand({ UserPoolId: pool.Id }))).UserPool);

  await admin.send(new UpdateUserPoolCommand({ UserPoolId: pool.Id, DeletionProtection: 'INACTIVE' }));
  await admin.send(new DeleteUserPoolCommand({ UserPoolId: pool.Id }));
  await assert.rejects(admin.send(new DescribeUserPoolCommand({ UserPoolId: pool.Id })), ResourceNotFoundException);
  await assert.rejects(passwordSignIn(client.ClientId!, 'victor'), ResourceNotFoundException);
  assert.equal((await fetch(`${running.baseUrl}/${pool.Id}/.well-known/jwks.json`)).status, 404);
  assert.equal(await running.identity.isRevoked(decodeJwt(tokens.AccessToken!)), true);
});

test('UpdateUserPool changes what the pool does: AllowAdminCreateUserOnly closes sign-up; unsupported protections are refused, not ignored', async () => {
  const pool = (await admin.send(new CreateUserPoolCommand({ PoolName: 'signups' }))).UserPool!;
  const client = (await admin.send(new CreateUserPoolClientCommand({ UserPoolId: pool.Id, ClientName: 'app' }))).UserPoolClient!;
  const { SignUpCommand } = await import('@aws-sdk/client-cognito-identity-provider');
  await anonymous.send(new SignUpCommand({ ClientId: client.ClientId, Username: 'first', Password: 'Sign-Up-Password-1' }));
  await admin.send(new UpdateUserPoolCommand({ UserPoolId: pool.Id, AdminCreateUserConfig: { AllowAdminCreateUserOnly: true }, PoolName: 'signups-closed' }));
  await assert.rejects(anonymous.send(new SignUpCommand({ ClientId: client.ClientId, Username: 'second', Password: 'Sign-Up-Password-1' })), NotAuthorizedException);
  const described = (await admin.send(new DescribeUserPoolCommand({ UserPoolId: pool.Id }))).UserPool!;
  assert.equal(described.Name, 'signups-closed');
  assert.equal(described.AdminCreateUserConfig!.AllowAdminCreateUserOnly, true);

  const refusals: [Record<string, unknown>, RegExp][] = [
    [{ MfaConfiguration: 'ON' }, /^MfaConfiguration: /],
    [{ Policies: { PasswordPolicy: { MinimumLength: 6 } } }, /^Policies\.PasswordPolicy\.MinimumLength: /],
    [{ LambdaConfig: { PreSignUp: 'arn:aws:lambda:us-east-1:123456789012:function:f' } }, /^LambdaConfig\.PreSignUp: /],
  ];
  for (const [fields, message] of refusals) {
    await assert.rejects(admin.send(new UpdateUserPoolCommand({ UserPoolId: pool.Id, ...fields })), (error: Error) => error instanceof InvalidParameterException && message.test(error.message), JSON.stringify(fields));
    await assert.rejects(admin.send(new CreateUserPoolCommand({ PoolName: 'refused', ...fields })), InvalidParameterException);
  }
  assert.equal((await admin.send(new ListUserPoolsCommand({ MaxResults: 60 }))).UserPools!.some((entry) => entry.Name === 'refused'), false);
  assert.equal((await admin.send(new DescribeUserPoolCommand({ UserPoolId: pool.Id }))).UserPool!.MfaConfiguration, 'OFF');
});

test('UsernameConfiguration.CaseSensitive: a new pool matches names case-insensitively unless it asks for true; ListUsers username = finds the same user', async () => {
  const pools = {
    omitted: (await admin.send(new CreateUserPoolCommand({ PoolName: 'case-omitted' }))).UserPool!,
    insensitive: (await admin.send(new CreateUserPoolCommand({ PoolName: 'case-insensitive', UsernameConfiguration: { CaseSensitive: false } }))).UserPool!,
    sensitive: (await admin.send(new CreateUserPoolCommand({ PoolName: 'case-sensitive', UsernameConfiguration: { CaseSensitive: true } }))).UserPool!,
  };
  const usernameFilter = async (poolId: string, name: string): Promise<string[]> =>
    (await admin.send(new ListUsersCommand({ UserPoolId: poolId, Filter: `username = "${name}"` }))).Users!.map((user) => user.Username!);
  for (const pool of [pools.omitted, pools.insensitive]) {
    assert.equal(pool.UsernameConfiguration!.CaseSensitive, false);
    assert.equal((await admin.send(new DescribeUserPoolCommand({ UserPoolId: pool.Id }))).UserPool!.UsernameConfiguration!.CaseSensitive, false);
    await newUser(pool.Id!, 'Alice');
    await newUser(pool.Id!, 'bob');
    for (const lookAlike of ['ALICE', 'alice', 'ＡＬＩＣＥ']) {
      await assert.rejects(admin.send(new AdminCreateUserCommand({ UserPoolId: pool.Id, Username: lookAlike, MessageAction: 'SUPPRESS' })), UsernameExistsException, lookAlike);
      assert.deepEqual(await usernameFilter(pool.Id!, lookAlike), ['Alice'], lookAlike);
    }
    const client = (await admin.send(new CreateUserPoolClientCommand({ UserPoolId: pool.Id, ClientName: 'app', ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'] }))).UserPoolClient!;
    assert.equal(decodeJwt((await passwordSignIn(client.ClientId!, 'aLiCe')).AccessToken!).username, 'Alice');
    assert.deepEqual((await admin.send(new ListUsersCommand({ UserPoolId: pool.Id }))).Users!.map((user) => user.Username), ['Alice', 'bob']);
  }

  const sensitive = pools.sensitive.Id!;
  assert.equal(pools.sensitive.UsernameConfiguration!.CaseSensitive, true);
  await newUser(sensitive, 'Alice');
  await assert.rejects(admin.send(new AdminCreateUserCommand({ UserPoolId: sensitive, Username: 'Ａｌｉｃｅ', MessageAction: 'SUPPRESS' })), UsernameExistsException, 'width folds in every pool');
  assert.deepEqual(await usernameFilter(sensitive, 'ALICE'), []);
  await newUser(sensitive, 'ALICE');
  assert.deepEqual(await usernameFilter(sensitive, 'ALICE'), ['ALICE']);
  assert.deepEqual(await usernameFilter(sensitive, 'Alice'), ['Alice']);
  await assert.rejects(admin.send(new AdminSetUserPasswordCommand({ UserPoolId: sensitive, Username: 'alice', Password: 'Pool-Password-1', Permanent: true })), UserNotFoundException);

  // UpdateUserPool has no UsernameConfiguration: an update keeps the setting
  await admin.send(new UpdateUserPoolCommand({ UserPoolId: sensitive, UserPoolTags: { team: 'a' } }));
  assert.equal((await admin.send(new DescribeUserPoolCommand({ UserPoolId: sensitive }))).UserPool!.UsernameConfiguration!.CaseSensitive, true);
  await admin.send(new UpdateUserPoolCommand({ UserPoolId: pools.insensitive.Id, UserPoolTags: { team: 'a' } }));
  assert.deepEqual(await usernameFilter(pools.insensitive.Id!, 'ALICE'), ['Alice']);
});

test('bad input to every management operation names the field; unknown pool, client or group is ResourceNotFoundException', async () => {
  const poolId = defaultPoolId();
  const send = (operation: string, input: Record<string, unknown>): Promise<unknown> => {
    const commands: Record<string, new (input: never) => unknown> = {
      CreateUserPool: CreateUserPoolCommand, DescribeUserPool: DescribeUserPoolCommand, ListUserPools: ListUserPoolsCommand, UpdateUserPool: UpdateUserPoolCommand,
      DeleteUserPool: DeleteUserPoolCommand, CreateUserPoolClient: CreateUserPoolClientCommand, DescribeUserPoolClient: DescribeUserPoolClientCommand,
      ListUserPoolClients: ListUserPoolClientsCommand, UpdateUserPoolClient: UpdateUserPoolClientCommand, DeleteUserPoolClient: DeleteUserPoolClientCommand,
      CreateGroup: CreateGroupCommand, GetGroup: GetGroupCommand, ListGroups: ListGroupsCommand, UpdateGroup: UpdateGroupCommand, DeleteGroup: DeleteGroupCommand,
      AdminListGroupsForUser: AdminListGroupsForUserCommand, AdminRemoveUserFromGroup: AdminRemoveUserFromGroupCommand, ListUsersInGroup: ListUsersInGroupCommand,
      ListUsers: ListUsersCommand,
    };
    return admin.send(new commands[operation]!(input as never) as never);
  };
  const missingPool = 'local_Missing000';
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ['CreateUserPool', {}, 'InvalidParameterException', /Missing required parameter PoolName/],
    ['CreateUserPool', { PoolName: 'bad/name' }, 'InvalidParameterException', /parameter PoolName/],
    ['CreateUserPool', { PoolName: 'default' }, 'InvalidParameterException', /PoolName: .*already exists/],
    ['DescribeUserPool', {}, 'InvalidParameterException', /Missing required parameter UserPoolId/],
    ['DescribeUserPool', { UserPoolId: 'no-underscore' }, 'InvalidParameterException', /parameter UserPoolId/],
    ['DescribeUserPool', { UserPoolId: missingPool }, 'ResourceNotFoundException', /local_Missing000/],
    ['ListUserPools', {}, 'InvalidParameterException', /Missing required parameter MaxResults/],
    ['ListUserPools', { MaxResults: 61 }, 'InvalidParameterException', /parameter MaxResults/],
    ['UpdateUserPool', { UserPoolId: missingPool }, 'ResourceNotFoundException', /does not exist/],
    ['UpdateUserPool', { UserPoolId: poolId, DeletionProtection: 'MAYBE' }, 'InvalidParameterException', /parameter DeletionProtection/],
    ['DeleteUserPool', { UserPoolId: missingPool }, 'ResourceNotFoundException', /does not exist/],
    ['CreateUserPoolClient', { UserPoolId: poolId }, 'InvalidParameterException', /Missing required parameter ClientName/],
    ['CreateUserPoolClient', { UserPoolId: missingPool, ClientName: 'x' }, 'ResourceNotFoundException', /does not exist/],
    ['CreateUserPoolClient', { UserPoolId: poolId, ClientName: 'x', ExplicitAuthFlows: ['ALLOW_EVERYTHING'] }, 'InvalidParameterException', /parameter ExplicitAuthFlows\.0/],
    ['CreateUserPoolClient', { UserPoolId: poolId, ClientName: 'x', ExplicitAuthFlows: ['USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH'] }, 'InvalidParameterException', /^ExplicitAuthFlows: /],
    ['CreateUserPoolClient', { UserPoolId: poolId, ClientName: 'x', AccessTokenValidity: 2, TokenValidityUnits: { AccessToken: 'days' } }, 'InvalidParameterException', /^AccessTokenValidity: /],
    ['CreateUserPoolClient', { UserPoolId: poolId, ClientName: 'x', RefreshTokenValidity: 30, TokenValidityUnits: { RefreshToken: 'minutes' } }, 'InvalidParameterException', /^RefreshTokenValidity: /],
    ['CreateUserPoolClient', { UserPoolId: poolId, ClientName: 'x', CallbackURLs: ['not a url'] }, 'InvalidParameterException', /^CallbackURLs\.0: /],
    ['CreateUserPoolClient', { UserPoolId: poolId, ClientName: 'x', LogoutURLs: ['https://app.example/#frag'] }, 'InvalidParameterException', /^LogoutURLs\.0: /],
    ['CreateUserPoolClient', { UserPoolId: poolId, ClientName: 'x', AllowedOAuthFlows: ['implicit'], AllowedOAuthFlowsUserPoolClient: true }, 'InvalidParameterException', /^AllowedOAuthFlows: implicit/],
    ['CreateUserPoolClient', { UserPoolId: poolId, ClientName: 'x', AllowedOAuthFlows: ['client_credentials'], AllowedOAuthFlowsUserPoolClient: true, AllowedOAuthScopes: ['openid'] }, 'InvalidOAuthFlowException', /secret/],
    ['CreateUserPoolClient', { UserPoolId: poolId, ClientName: 'x', AllowedOAuthScopes: ['admin:everything'] }, 'ScopeDoesNotExistException', /admin:everything/],
    ['CreateUserPoolClient', { UserPoolId: poolId, ClientName: 'x', AllowedOAuthFlows: ['code'], AllowedOAuthFlowsUserPoolClient: true, AllowedOAuthScopes: ['openid'] }, 'InvalidParameterException', /^CallbackURLs: /],
    ['CreateUserPoolClient', { UserPoolId: poolId, ClientName: 'web' }, 'InvalidParameterException', /^ClientName: .*already has a client named web/],
    ['CreateUserPoolClient', { UserPoolId: poolId, ClientName: 'x', ClientSecret: 'short' }, 'InvalidParameterException', /parameter ClientSecret/],
    ['DescribeUserPoolClient', { UserPoolId: poolId }, 'InvalidParameterException', /Missing required parameter ClientId/],
    ['DescribeUserPoolClient', { UserPoolId: poolId, ClientId: 'nosuchclient' }, 'ResourceNotFoundException', /nosuchclient/],
    ['ListUserPoolClients', { UserPoolId: missingPool }, 'ResourceNotFoundException', /does not exist/],
    ['ListUserPoolClients', { UserPoolId: poolId, MaxResults: 0 }, 'InvalidParameterException', /parameter MaxResults/],
    ['ListUserPoolClients', { UserPoolId: poolId, NextToken: 'bm90LWpzb24' }, 'InvalidParameterException', /NextToken/],
    ['UpdateUserPoolClient', { UserPoolId: poolId, ClientId: 'nosuchclient' }, 'ResourceNotFoundException', /nosuchclient/],
    ['DeleteUserPoolClient', { UserPoolId: poolId, ClientId: 'nosuchclient' }, 'ResourceNotFoundException', /nosuchclient/],
    ['CreateGroup', { UserPoolId: poolId }, 'InvalidParameterException', /Missing required parameter GroupName/],
    ['CreateGroup', { UserPoolId: poolId, GroupName: 'x', Precedence: -1 }, 'InvalidParameterException', /parameter Precedence/],
    ['CreateGroup', { UserPoolId: poolId, GroupName: 'x', RoleArn: 'not-an-arn' }, 'InvalidParameterException', /parameter RoleArn/],
    ['CreateGroup', { UserPoolId: missingPool, GroupName: 'x' }, 'ResourceNotFoundException', /does not exist/],
    ['GetGroup', { UserPoolId: poolId, GroupName: 'no-such-group' }, 'ResourceNotFoundException', /no-such-group/],
    ['UpdateGroup', { UserPoolId: poolId, GroupName: 'no-such-group' }, 'ResourceNotFoundException', /no-such-group/],
    ['DeleteGroup', { UserPoolId: poolId, GroupName: 'no-such-group' }, 'ResourceNotFoundException', /no-such-group/],
    ['ListGroups', { UserPoolId: poolId, Limit: 61 }, 'InvalidParameterException', /parameter Limit/],
    ['ListGroups', { UserPoolId: missingPool }, 'ResourceNotFoundException', /does not exist/],
    ['AdminListGroupsForUser', { UserPoolId: poolId }, 'InvalidParameterException', /Missing required parameter Username/],
    ['AdminListGroupsForUser', { UserPoolId: poolId, Username: 'ghost' }, 'UserNotFoundException', /does not exist/],
    ['AdminRemoveUserFromGroup', { UserPoolId: poolId, Username: 'admin' }, 'InvalidParameterException', /Missing required parameter GroupName/],
    ['AdminRemoveUserFromGroup', { UserPoolId: poolId, Username: 'admin', GroupName: 'no-such-group' }, 'ResourceNotFoundException', /no-such-group/],
    ['ListUsersInGroup', { UserPoolId: poolId }, 'InvalidParameterException', /Missing required parameter GroupName/],
    ['ListUsersInGroup', { UserPoolId: poolId, GroupName: 'no-such-group' }, 'ResourceNotFoundException', /no-such-group/],
    ['ListUsers', { UserPoolId: poolId, Limit: 'ten' }, 'InvalidParameterException', /parameter Limit/],
    ['ListUsers', { UserPoolId: poolId, Filter: 'username ~ "a"' }, 'InvalidParameterException', /Filter/],
  ];
  const poolsBefore = (await admin.send(new ListUserPoolsCommand({ MaxResults: 60 }))).UserPools!.length;
  const clientsBefore = (await admin.send(new ListUserPoolClientsCommand({ UserPoolId: poolId }))).UserPoolClients!.length;
  const groupsBefore = (await admin.send(new ListGroupsCommand({ UserPoolId: poolId }))).Groups!.length;
  for (const [operation, input, type, message] of cases) {
    await assert.rejects(send(operation, input), (error: Error) => {
      assert.equal(error.name, type, `${operation} ${JSON.stringify(input)}: ${error.message}`);
      assert.match(error.message, message, `${operation} ${JSON.stringify(input)}`);
      return true;
    });
  }
  assert.equal((await admin.send(new ListUserPoolsCommand({ MaxResults: 60 }))).UserPools!.length, poolsBefore);
  assert.equal((await admin.send(new ListUserPoolClientsCommand({ UserPoolId: poolId }))).UserPoolClients!.length, clientsBefore);
  assert.equal((await admin.send(new ListGroupsCommand({ UserPoolId: poolId }))).Groups!.length, groupsBefore);
});

test('unsigned management calls are refused with MissingAuthenticationTokenException and change nothing', async () => {
  const poolId = defaultPoolId();
  await newUser(poolId, 'unsigned-target');
  await admin.send(new CreateGroupCommand({ UserPoolId: poolId, GroupName: 'kept' }));
  await admin.send(new AdminAddUserToGroupCommand({ UserPoolId: poolId, GroupName: 'kept', Username: 'unsigned-target' }));
  const web = running.identity.defaultPool.webClientId;
  const attempts: [string, Record<string, unknown>][] = [
    ['CreateUserPool', { PoolName: 'intruder-pool' }],
    ['DescribeUserPool', { UserPoolId: poolId }],
    ['ListUserPools', { MaxResults: 10 }],
    ['UpdateUserPool', { UserPoolId: poolId, AdminCreateUserConfig: { AllowAdminCreateUserOnly: false } }],
    ['DeleteUserPool', { UserPoolId: poolId }],
    ['CreateUserPoolClient', { UserPoolId: poolId, ClientName: 'intruder-client' }],
    ['DescribeUserPoolClient', { UserPoolId: poolId, ClientId: web }],
    ['ListUserPoolClients', { UserPoolId: poolId }],
    ['UpdateUserPoolClient', { UserPoolId: poolId, ClientId: web, ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH'] }],
    ['DeleteUserPoolClient', { UserPoolId: poolId, ClientId: web }],
    ['CreateGroup', { UserPoolId: poolId, GroupName: 'intruders' }],
    ['GetGroup', { UserPoolId: poolId, GroupName: 'kept' }],
    ['ListGroups', { UserPoolId: poolId }],
    ['UpdateGroup', { UserPoolId: poolId, GroupName: 'kept', Description: 'owned' }],
    ['DeleteGroup', { UserPoolId: poolId, GroupName: 'kept' }],
    ['AdminListGroupsForUser', { UserPoolId: poolId, Username: 'unsigned-target' }],
    ['AdminRemoveUserFromGroup', { UserPoolId: poolId, Username: 'unsigned-target', GroupName: 'kept' }],
    ['ListUsersInGroup', { UserPoolId: poolId, GroupName: 'kept' }],
    ['ListUsers', { UserPoolId: poolId }],
    ['AdminResetUserPassword', { UserPoolId: poolId, Username: 'unsigned-target' }],
    ['AdminUpdateUserAttributes', { UserPoolId: poolId, Username: 'unsigned-target', UserAttributes: [{ Name: 'email', Value: 'attacker@example.test' }, { Name: 'email_verified', Value: 'true' }] }],
  ];
  for (const [operation, body] of attempts) assert.deepEqual(await unsigned(operation, body), { status: 400, type: 'MissingAuthenticationTokenException' }, operation);

  const pools = (await admin.send(new ListUserPoolsCommand({ MaxResults: 60 }))).UserPools!.map((pool) => pool.Name);
  assert.ok(pools.includes('default') && !pools.includes('intruder-pool'));
  const clients = (await admin.send(new ListUserPoolClientsCommand({ UserPoolId: poolId }))).UserPoolClients!.map((client) => client.ClientName);
  assert.ok(clients.includes('web') && !clients.includes('intruder-client'));
  assert.equal((await admin.send(new GetGroupCommand({ UserPoolId: poolId, GroupName: 'kept' }))).Group!.Description, undefined);
  await assert.rejects(admin.send(new GetGroupCommand({ UserPoolId: poolId, GroupName: 'intruders' })), ResourceNotFoundException);
  assert.deepEqual((await admin.send(new AdminListGroupsForUserCommand({ UserPoolId: poolId, Username: 'unsigned-target' }))).Groups!.map((group) => group.GroupName), ['kept']);
  const { AdminGetUserCommand } = await import('@aws-sdk/client-cognito-identity-provider');
  const target = await admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: 'unsigned-target' }));
  assert.equal(target.UserStatus, 'CONFIRMED');
  assert.equal(target.UserAttributes!.some((attribute) => attribute.Name === 'email'), false);
  // positive control: the same web client still signs the user in with the flows it had
  assert.ok((await passwordSignIn(web, 'unsigned-target')).AccessToken);
});

test('the default web client allows ADMIN_USER_PASSWORD_AUTH for admin-key callers', async () => {
  await newUser(defaultPoolId(), 'admin-flow');
  const result = await admin.send(new AdminInitiateAuthCommand({
    UserPoolId: defaultPoolId(), ClientId: running.identity.defaultPool.webClientId, AuthFlow: 'ADMIN_NO_SRP_AUTH', AuthParameters: { USERNAME: 'admin-flow', PASSWORD: 'Pool-Password-1' },
  }));
  assert.ok(result.AuthenticationResult!.IdToken);
});

test('declared pools, clients and groups cannot be changed or deleted through the API; API-made ones survive restarts and the config wins by name', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-identity-declared-'));
  const declared = (extraPool = false) => ({
    identity: {
      userPools: [
        { poolName: 'main', groups: [{ groupName: 'team' }], clients: [{ clientName: 'portal', explicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH'] }] },
        ...(extraPool ? [{ poolName: 'side', clients: [{ clientName: 'side-app', explicitAuthFlows: ['ALLOW_USER_SRP_AUTH'] }] }] : []),
      ],
    },
  });
  try {
    const first = await startIdentity({ dataDir, config: declared() });
    const client = cognitoClient(first, 'admin');
    const main = first.identity.pool('main')!;
    const portal = main.clients.find((entry) => entry.clientName === 'portal')!.clientId;
    const runtimeClient = main.clients.find((entry) => entry.clientName === 'gatehouse-runtime')!.clientId;
    const refusedBecauseDeclared = (error: Error): boolean => error instanceof InvalidParameterException && /gatehouse\.yaml/.test(error.message);
    await assert.rejects(client.send(new UpdateUserPoolCommand({ UserPoolId: main.userPoolId, AdminCreateUserConfig: { AllowAdminCreateUserOnly: false } })), refusedBecauseDeclared);
    await assert.rejects(client.send(new DeleteUserPoolCommand({ UserPoolId: main.userPoolId })), refusedBecauseDeclared);
    await assert.rejects(client.send(new UpdateUserPoolClientCommand({ UserPoolId: main.userPoolId, ClientId: portal, ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH'] })), refusedBecauseDeclared);
    await assert.rejects(client.send(new DeleteUserPoolClientCommand({ UserPoolId: main.userPoolId, ClientId: portal })), refusedBecauseDeclared);
    await assert.rejects(client.send(new DeleteGroupCommand({ UserPoolId: main.userPoolId, GroupName: 'team' })), refusedBecauseDeclared);
    await assert.rejects(client.send(new DeleteUserPoolClientCommand({ UserPoolId: main.userPoolId, ClientId: runtimeClient })), (error: Error) => error instanceof InvalidParameterException && /service client/.test(error.message));
    const portalAfter = await client.send(new DescribeUserPoolClientCommand({ UserPoolId: main.userPoolId, ClientId: portal }));
    assert.deepEqual(portalAfter.UserPoolClient!.ExplicitAuthFlows, ['ALLOW_USER_PASSWORD_AUTH']);
    assert.ok((await client.send(new GetGroupCommand({ UserPoolId: main.userPoolId, GroupName: 'team' }))).Group);

    // API-made resources beside the declared ones: changeable, and kept across a restart
    const extraClient = (await client.send(new CreateUserPoolClientCommand({ UserPoolId: main.userPoolId, ClientName: 'api-client', ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH'] }))).UserPoolClient!;
    await client.send(new UpdateUserPoolClientCommand({ UserPoolId: main.userPoolId, ClientId: extraClient.ClientId, ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'] }));
    await client.send(new CreateGroupCommand({ UserPoolId: main.userPoolId, GroupName: 'api-group' }));
    const side = (await client.send(new CreateUserPoolCommand({ PoolName: 'side' }))).UserPool!;
    const sideClient = (await client.send(new CreateUserPoolClientCommand({ UserPoolId: side.Id, ClientName: 'side-app', ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH'] }))).UserPoolClient!;
    client.destroy();
    await first.stop();

    const second = await startIdentity({ dataDir, config: declared(), port: first.port });
    const again = cognitoClient(second, 'admin');
    const kept = await again.send(new DescribeUserPoolClientCommand({ UserPoolId: main.userPoolId, ClientId: extraClient.ClientId }));
    assert.deepEqual(kept.UserPoolClient!.ExplicitAuthFlows, ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH']);
    assert.ok((await again.send(new GetGroupCommand({ UserPoolId: main.userPoolId, GroupName: 'api-group' }))).Group);
    assert.equal((await again.send(new DescribeUserPoolCommand({ UserPoolId: side.Id }))).UserPool!.Name, 'side');
    again.destroy();
    await second.stop();

    // the config now declares "side" too: it adopts the API pool by name (same id) and its declaration wins
    const third = await startIdentity({ dataDir, config: declared(true), port: first.port });
    const last = cognitoClient(third, 'admin');
    try {
      assert.equal(third.identity.pool('side')!.userPoolId, side.Id);
      const adopted = await last.send(new DescribeUserPoolClientCommand({ UserPoolId: side.Id, ClientId: sideClient.ClientId }));
      assert.deepEqual(adopted.UserPoolClient!.ExplicitAuthFlows, ['ALLOW_USER_SRP_AUTH']);
      await assert.rejects(last.send(new DeleteUserPoolCommand({ UserPoolId: side.Id })), refusedBecauseDeclared);
    } finally {
      last.destroy();
      await third.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
