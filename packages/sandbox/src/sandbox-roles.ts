import { BRIDGE_ROLE, READ_ONLY_ROLE, READ_WRITE_ROLE } from '@gatehouse/tools';

/** The sandbox's IAM, reduced to what the tools need: three role kinds and who may assume them. */
export const READ_ONLY_GROUPS = ['ops-readonly', 'ops-readwrite'] as const;
export const READ_WRITE_GROUPS = ['ops-readwrite'] as const;

export type RoleKind = 'read-only' | 'read-write' | 'bridge';

export interface SandboxRole {
  readonly kind: RoleKind;
  readonly accountId: string;
  readonly roleName: string;
  readonly arn: string;
}

/** Why a RoleArn names no sandbox role: not an IAM role ARN at all, or a role the sandbox does not have. */
export interface RoleArnProblem {
  readonly problem: 'malformed' | 'unknown-role';
  readonly message: string;
}

/** Parses `arn:aws:iam::{account}:role/{name}` into a known sandbox role, or explains why not. */
export function parseRoleArn(arn: string, bridgeAccountId: string): SandboxRole | RoleArnProblem {
  const match = /^arn:aws:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/.exec(arn);
  if (!match) return { problem: 'malformed', message: `RoleArn must look like arn:aws:iam::123456789012:role/Name (got ${JSON.stringify(arn.slice(0, 200))})` };
  const [, accountId, roleName] = match as unknown as [string, string, string];
  if (roleName === BRIDGE_ROLE && accountId === bridgeAccountId) return { kind: 'bridge', accountId, roleName, arn };
  if (roleName === READ_ONLY_ROLE) return { kind: 'read-only', accountId, roleName, arn };
  if (roleName === READ_WRITE_ROLE) return { kind: 'read-write', accountId, roleName, arn };
  return { problem: 'unknown-role', message: `Role ${arn} does not exist in the sandbox (roles: ${READ_ONLY_ROLE}, ${READ_WRITE_ROLE} in each account; ${BRIDGE_ROLE} in ${bridgeAccountId})` };
}

/** The groups that the role's trust policy admits (none of them is needed for the bridge: its trust is the web identity). */
export function groupsAllowed(kind: RoleKind): readonly string[] {
  if (kind === 'read-only') return READ_ONLY_GROUPS;
  if (kind === 'read-write') return READ_WRITE_GROUPS;
  return [];
}

/** S3 action prefixes each role's permission policy allows. */
export function roleAllowsS3(kind: RoleKind, action: string): boolean {
  if (kind === 'bridge') return false;
  const name = action.replace(/^s3:/, '');
  if (/^(List|Get|Head)/.test(name)) return true;
  return kind === 'read-write' && /^(Put|Delete|Abort)/.test(name);
}
