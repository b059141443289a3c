import { CognitoError } from './cognito-error.ts';
import type { Operation } from './cognito-api.ts';
import { parseInput } from './cognito-input.ts';
import { adminListGroupsForUserSchema, adminUserGroupSchema, groupKeySchema, groupSchema, listGroupsSchema, listUsersInGroupSchema } from './management-input.ts';
import { GroupExistsError, type GroupRecord } from './group-store.ts';
import { groupOf, poolOf, userOf } from './resource-lookup.ts';
import { refuseIfDeclaredGroup } from './declared-resources.ts';
import { readPage, readPageToken } from './page-token.ts';
import { userShape } from './admin-operations.ts';

function groupShape(group: GroupRecord): Record<string, unknown> {
  return {
    GroupName: group.name, UserPoolId: group.poolId,
    ...(group.description !== undefined ? { Description: group.description } : {}),
    ...(group.roleArn !== undefined ? { RoleArn: group.roleArn } : {}),
    ...(group.precedence !== undefined ? { Precedence: group.precedence } : {}),
    ...(group.createdAt !== undefined ? { CreationDate: group.createdAt / 1000, LastModifiedDate: (group.updatedAt ?? group.createdAt) / 1000 } : {}),
  };
}

/** Group management and membership (SigV4, admin key). Membership changes show in the next tokens' `cognito:groups`. */
export const groupOperations: Record<string, Operation> = {
  async CreateGroup(context, body) {
    const input = parseInput(groupSchema, body);
    const pool = await poolOf(context, input.UserPoolId);
    try {
      return { Group: groupShape(await context.groups.create(pool.id, input.GroupName, { description: input.Description, precedence: input.Precedence, roleArn: input.RoleArn })) };
    } catch (error) {
      if (error instanceof GroupExistsError) throw new CognitoError('GroupExistsException', error.message);
      throw error;
    }
  },
  async GetGroup(context, body) {
    const input = parseInput(groupKeySchema, body);
    return { Group: groupShape(await groupOf(context, await poolOf(context, input.UserPoolId), input.GroupName)) };
  },
  async ListGroups(context, body) {
    const input = parseInput(listGroupsSchema, body);
    const pool = await poolOf(context, input.UserPoolId);
    const page = await readPage({ read: (after, batch) => context.groups.groupsAfter(pool.id, after, batch), key: (group) => group.name, after: readPageToken(input.NextToken, 'NextToken'), limit: input.Limit || 60 });
    return { Groups: page.items.map(groupShape), ...(page.next ? { NextToken: page.next } : {}) };
  },
  async UpdateGroup(context, body) {
    const input = parseInput(groupSchema, body);
    const pool = await poolOf(context, input.UserPoolId);
    await groupOf(context, pool, input.GroupName);
    return { Group: groupShape(await context.groups.update(pool.id, input.GroupName, { description: input.Description, precedence: input.Precedence, roleArn: input.RoleArn })) };
  },
  async DeleteGroup(context, body) {
    const input = parseInput(groupKeySchema, body);
    const pool = await poolOf(context, input.UserPoolId);
    await groupOf(context, pool, input.GroupName);
    refuseIfDeclaredGroup(context.platform, pool, input.GroupName, 'remove');
    await context.groups.delete(pool.id, input.GroupName);
    return {};
  },
  async AdminListGroupsForUser(context, body) {
    const input = parseInput(adminListGroupsForUserSchema, body);
    const user = await userOf(context, input.UserPoolId, input.Username);
    const page = await readPage({
      read: async (after, batch) => await context.groups.groupsOfAfter(user.poolId, user.username, after, batch), key: (group) => group.name,
      after: readPageToken(input.NextToken, 'NextToken'), limit: input.Limit || 60,
    });
    return { Groups: page.items.map(groupShape), ...(page.next ? { NextToken: page.next } : {}) };
  },
  async AdminRemoveUserFromGroup(context, body) {
    const input = parseInput(adminUserGroupSchema, body);
    const user = await userOf(context, input.UserPoolId, input.Username);
    await groupOf(context, await poolOf(context, input.UserPoolId), input.GroupName);
    await context.groups.removeMember(user.poolId, input.GroupName, user.username);
    return {};
  },
  async ListUsersInGroup(context, body) {
    const input = parseInput(listUsersInGroupSchema, body);
    const pool = await poolOf(context, input.UserPoolId);
    await groupOf(context, pool, input.GroupName);
    const page = await readPage({
      read: async (after, batch) => await context.groups.membersAfter(pool.id, input.GroupName, after, batch), key: (user) => user.username,
      after: readPageToken(input.NextToken, 'NextToken'), limit: input.Limit || 60,
    });
    return { Users: page.items.map(userShape), ...(page.next ? { NextToken: page.next } : {}) };
  },
};
