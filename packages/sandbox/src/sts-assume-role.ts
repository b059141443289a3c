import { BRIDGE_ROLE } from '@gatehouse/tools';
import { StsError } from './sts-error.ts';
import { parseRoleArn, type SandboxRole } from './sandbox-roles.ts';
import type { SessionUser } from './sandbox-credential-store.ts';
import type { SandboxCaller } from './sandbox-sigv4.ts';
import {
  assumedRoleArn, credentialsXml, durationSeconds, envelope, issueCredential, readTags, refusePolicy, requireParameter, roleOrRefuse,
  sessionName, splitGroups, trustOrRefuse, type StsRequest,
} from './sts-request.ts';

/** Who the new session is for, and the caller's ARN for refusals: the bridge session's user, or a broker's tags. */
function sessionUserFor(caller: SandboxCaller, role: SandboxRole, tags: ReadonlyMap<string, string>): { user: SessionUser; callerArn: string } {
  if (caller.kind === 'temporary') {
    const callerArn = assumedRoleArn(caller.credential);
    // Only the bridge session may chain into member accounts; a member-account session cannot hop further.
    if (caller.credential.roleKind !== 'bridge') {
      throw new StsError('AccessDenied', `User: ${callerArn} is not authorized to perform: sts:AssumeRole on resource: ${role.arn}: only ${BRIDGE_ROLE} sessions may assume sandbox roles`);
    }
    // Session tags carried from the web identity are transitive: a chained call cannot rewrite who the user is.
    const claimed = tags.get('sub');
    if (claimed !== undefined && claimed !== caller.credential.user.sub) throw new StsError('AccessDenied', 'Session tag sub is transitive from the web identity and cannot be changed when chaining roles');
    return { user: caller.credential.user, callerArn };
  }
  const callerArn = caller.key.principal.arn;
  const permissions = caller.key.principal.permissions;
  if (!permissions.some((permission) => permission === '*' || permission === 'sts:*' || permission === 'sts:AssumeRole')) {
    throw new StsError('AccessDenied', `User: ${callerArn} is not authorized to perform: sts:AssumeRole on resource: ${role.arn}`);
  }
  // An admin key is a trusted broker (like the seeds' bridge Lambda role): it names the user with session tags.
  const sub = tags.get('sub') ?? caller.key.principal.subject;
  const groups = tags.has('groups') ? splitGroups(tags.get('groups') ?? '') : tags.has('sub') ? [] : ['ops-readwrite'];
  return { user: { sub, username: tags.get('username') ?? sub, groups }, callerArn };
}

/** STS AssumeRole: SigV4 from an admin key or a bridge session this STS issued, into a member account's role. */
export async function assumeRole(sts: StsRequest): Promise<string> {
  const { options, form } = sts;
  const caller = await sts.authenticate(sts.request, sts.body);
  const roleArn = requireParameter(form, 'RoleArn');
  const name = sessionName(form);
  const duration = durationSeconds(form);
  refusePolicy(form);
  const role = roleOrRefuse(parseRoleArn(roleArn, options.bridgeAccountId));
  const { user, callerArn } = sessionUserFor(caller, role, readTags(form));
  if (role.kind === 'bridge') throw new StsError('AccessDenied', `Role ${role.arn} trusts only web identities (AssumeRoleWithWebIdentity)`);
  const account = options.accounts.get(role.accountId);
  if (!account) throw new StsError('AccessDenied', `User: ${callerArn} is not authorized to perform: sts:AssumeRole on resource: ${role.arn}: account ${role.accountId} is not a sandbox account`);
  if (account.externalId !== undefined && form.ExternalId !== account.externalId) {
    throw new StsError('AccessDenied', `User: ${callerArn} is not authorized to perform: sts:AssumeRole on resource: ${role.arn}: the ExternalId does not match`);
  }
  trustOrRefuse(role, user, callerArn);
  const credential = await issueCredential(sts, { role, user, name, duration });
  options.observe({ action: 'AssumeRole', accessKeyId: caller.accessKeyId, roleArn: role.arn, user: user.username, outcome: 'issued' });
  options.logger.info({ action: 'AssumeRole', role: role.arn, user: user.username, accessKeyId: credential.accessKeyId }, 'sandbox credentials issued');
  return envelope('AssumeRole', `${credentialsXml(credential)}<PackedPolicySize>0</PackedPolicySize>`, sts.requestId);
}
