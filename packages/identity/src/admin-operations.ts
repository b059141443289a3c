import { CognitoError } from './cognito-error.ts';
import type { Operation } from './cognito-api.ts';
import {
  adminCreateUserSchema, adminGroupSchema, adminInitiateAuthSchema, adminRespondSchema, adminSetPasswordSchema, adminUserSchema, parseInput,
} from './cognito-input.ts';
import { initiateAuth, respondToAuthChallenge } from './auth-flows.ts';
import { passwordSecrets } from './user-secrets.ts';
import { UsernameTakenError, type UserRecord } from './user-store.ts';
import { attributeList } from './user-operations.ts';
import { newPassword } from './bootstrap-pools.ts';
import { deliver } from './outbox.ts';
import { poolOf, userOf } from './resource-lookup.ts';
import { listUsersSchema } from './management-input.ts';
import { readPage, readPageToken } from './page-token.ts';
import { parseUserAttributes } from './user-attributes.ts';

export function userShape(user: UserRecord): Record<string, unknown> {
  return {
    Username: user.username, Attributes: attributeList(user), UserCreateDate: user.createdAt / 1000, UserLastModifiedDate: user.updatedAt / 1000,
    Enabled: user.enabled, UserStatus: user.status,
  };
}

/** The attributes Cognito lets ListUsers filter on. */
const SEARCHABLE = ['username', 'email', 'phone_number', 'name', 'given_name', 'family_name', 'preferred_username', 'cognito:user_status', 'status', 'sub'];

/**
 * ListUsers' Filter: `name = "value"` or `name ^= "value"` (exact or prefix), as Cognito. `username = "…"` means
 * the user that name signs in as (`lookup`: case- and width-folded as the pool compares names), so it finds the same
 * user AdminGetUser does.
 */
async function filterMatcher(filter: string | undefined, lookup: (username: string) => Promise<UserRecord | undefined>): Promise<(user: UserRecord) => boolean> {
  if (!filter) return () => true;
  const match = /^\s*([\w:]+)\s*(\^?=)\s*"((?:[^"\\]|\\.)*)"\s*$/.exec(filter);
  if (!match) throw new CognitoError('InvalidParameterException', 'Filter must look like attribute = "value" or attribute ^= "value"');
  const [, name = '', operator, quoted = ''] = match;
  if (!SEARCHABLE.includes(name)) throw new CognitoError('InvalidParameterException', `Filter: ${name} is not searchable; use one of ${SEARCHABLE.join(', ')}`);
  const value = quoted.replace(/\\(.)/g, '$1');
  if (name === 'username' && operator === '=') {
    const target = (await lookup(value))?.username;
    return (user) => user.username === target;
  }
  const read = (user: UserRecord): string | undefined =>
    name === 'username' ? user.username : name === 'status' ? (user.enabled ? 'Enabled' : 'Disabled') : name === 'cognito:user_status' ? user.status : user.attributes[name];
  return (user) => {
    const actual = read(user);
    return actual !== undefined && (operator === '=' ? actual === value : actual.startsWith(value));
  };
}

/** SigV4-authenticated operations (an admin access key). */
export const adminOperations: Record<string, Operation> = {
  async AdminCreateUser(context, body) {
    const input = parseInput(adminCreateUserSchema, body);
    const pool = await poolOf(context, input.UserPoolId);
    const attributes = parseUserAttributes(input.UserAttributes ?? [], { by: 'admin' });
    const password = input.TemporaryPassword ?? newPassword();
    const secrets = await passwordSecrets(pool.id, input.Username, password);
    let user: UserRecord;
    try {
      user = await context.users.createUser(pool.id, { username: input.Username, ...secrets, status: 'FORCE_CHANGE_PASSWORD', attributes });
    } catch (error) {
      if (error instanceof UsernameTakenError) throw new CognitoError('UsernameExistsException', 'User account already exists');
      throw error;
    }
    if (input.MessageAction !== 'SUPPRESS' && input.TemporaryPassword === undefined) {
      deliver(context.platform.dataDir, { to: attributes.email ?? user.username, username: user.username, subject: 'Your temporary password', body: `Your temporary password is ${password}` }, context.now());
    }
    return { User: userShape(user) };
  },
  async AdminSetUserPassword(context, body) {
    const input = parseInput(adminSetPasswordSchema, body);
    const user = await userOf(context, input.UserPoolId, input.Username);
    const secrets = await passwordSecrets(user.poolId, user.username, input.Password);
    await context.users.setPassword(user.poolId, user.username, { secret: secrets, status: input.Permanent ? 'CONFIRMED' : 'FORCE_CHANGE_PASSWORD' });
    return {};
  },
  async AdminGetUser(context, body) {
    const input = parseInput(adminUserSchema, body);
    const user = await userOf(context, input.UserPoolId, input.Username);
    const { Attributes, ...rest } = userShape(user);
    return { ...rest, UserAttributes: Attributes, MFAOptions: [], UserMFASettingList: [] };
  },
  async AdminDeleteUser(context, body) {
    const input = parseInput(adminUserSchema, body);
    const user = await userOf(context, input.UserPoolId, input.Username);
    await context.users.deleteUser(user.poolId, user.username);
    return {};
  },
  async AdminDisableUser(context, body) {
    const input = parseInput(adminUserSchema, body);
    const user = await userOf(context, input.UserPoolId, input.Username);
    await context.atomically(async () => {
      await context.users.setEnabled(user.poolId, user.username, false);
      await context.tokens.revokeUser(user.poolId, user.username);
    });
    return {};
  },
  async AdminEnableUser(context, body) {
    const input = parseInput(adminUserSchema, body);
    const user = await userOf(context, input.UserPoolId, input.Username);
    await context.users.setEnabled(user.poolId, user.username, true);
    return {};
  },
  async AdminConfirmSignUp(context, body) {
    const input = parseInput(adminUserSchema, body);
    const user = await userOf(context, input.UserPoolId, input.Username);
    if (user.status !== 'UNCONFIRMED') throw new CognitoError('NotAuthorizedException', `User cannot be confirmed. Current status is ${user.status}`);
    await context.users.setStatus(user.poolId, user.username, 'CONFIRMED');
    return {};
  },
  async AdminAddUserToGroup(context, body) {
    const input = parseInput(adminGroupSchema, body);
    const user = await userOf(context, input.UserPoolId, input.Username);
    if (!await context.users.groupExists(user.poolId, input.GroupName)) throw new CognitoError('ResourceNotFoundException', `Group ${input.GroupName} not found.`);
    await context.users.addToGroup(user.poolId, input.GroupName, user.username);
    return {};
  },
  async AdminUserGlobalSignOut(context, body) {
    const input = parseInput(adminUserSchema, body);
    const user = await userOf(context, input.UserPoolId, input.Username);
    await context.tokens.revokeUser(user.poolId, user.username);
    await context.userSignedOut(user.poolId, user.username);
    return {};
  },
  async AdminInitiateAuth(context, body, caller) {
    const input = parseInput(adminInitiateAuthSchema, body);
    await poolOf(context, input.UserPoolId);
    return initiateAuth(context, input, { ip: caller.ip, admin: true });
  },
  async AdminRespondToAuthChallenge(context, body, caller) {
    const input = parseInput(adminRespondSchema, body);
    await poolOf(context, input.UserPoolId);
    return respondToAuthChallenge(context, input, { ip: caller.ip, admin: true });
  },
  async ListUsers(context, body) {
    const input = parseInput(listUsersSchema, body);
    const pool = await poolOf(context, input.UserPoolId);
    const matches = await filterMatcher(input.Filter, (username) => context.users.user(pool.id, username));
    const after = readPageToken(input.PaginationToken, 'PaginationToken');
    const page = await readPage({ read: (from, batch) => context.users.usersAfter(pool.id, from, batch), key: (user) => user.username, after, limit: input.Limit || 60, keep: matches });
    const wanted = input.AttributesToGet;
    const users = page.items.map((user) => {
      const shape = userShape(user);
      return wanted ? { ...shape, Attributes: attributeList(user).filter((attribute) => wanted.includes(attribute.Name)) } : shape;
    });
    return { Users: users, ...(page.next ? { PaginationToken: page.next } : {}) };
  },
};
