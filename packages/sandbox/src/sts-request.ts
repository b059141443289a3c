import type { IncomingMessage } from 'node:http';
import { createHash } from 'node:crypto';
import type { Logger } from '@gatehouse/core';
import { StsError, type StsErrorCode } from './sts-error.ts';
import { groupsAllowed, type RoleArnProblem, type SandboxRole } from './sandbox-roles.ts';
import type { SandboxCredentialStore, SessionUser, TemporaryCredential } from './sandbox-credential-store.ts';
import type { SigV4Key, WebIdentityPrincipal } from './sandbox-key.ts';
import type { SandboxCaller } from './sandbox-sigv4.ts';
import { escapeXml } from './xml.ts';

export interface StsObservation {
  readonly action: string;
  readonly accessKeyId?: string;
  readonly roleArn?: string;
  readonly user?: string;
  readonly outcome: 'issued' | 'answered' | StsErrorCode;
}

export interface SandboxStsOptions {
  readonly store: SandboxCredentialStore;
  readonly bridgeAccountId: string;
  /** Account id → external id required to assume its roles (undefined: none). */
  readonly accounts: ReadonlyMap<string, { readonly externalId?: string | undefined }>;
  readonly lookupAccessKey: (accessKeyId: string) => Promise<SigV4Key | undefined>;
  readonly verifyWebIdentity: (token: string) => Promise<WebIdentityPrincipal>;
  readonly now: () => number;
  readonly logger: Logger;
  readonly observe: (observation: StsObservation) => void;
}

/** One STS request as each action's file sees it: the parsed form, its id, and the one SigV4 front. */
export interface StsRequest {
  readonly options: SandboxStsOptions;
  readonly request: IncomingMessage;
  readonly body: Buffer;
  readonly form: Record<string, string>;
  readonly requestId: string;
  readonly authenticate: (request: IncomingMessage, body: Buffer) => Promise<SandboxCaller>;
}

const NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

export function readTags(form: Record<string, string>): Map<string, string> {
  const tags = new Map<string, string>();
  for (let index = 1; index <= 50; index++) {
    const key = form[`Tags.member.${index}.Key`];
    if (key === undefined) break;
    tags.set(key, form[`Tags.member.${index}.Value`] ?? '');
  }
  return tags;
}

export function splitGroups(text: string): string[] {
  return text.split(/[\s,:]+/).filter((group) => group.length > 0);
}

/**
 * Decimal digits only: `Number()` would also take `1e4`, `0x1000`, ` 900` and `900.0`, which STS refuses.
 * Nine digits bound the value before it is compared, so no text becomes Infinity or loses precision.
 */
const DECIMAL_INTEGER = /^[0-9]{1,9}$/;

export function durationSeconds(form: Record<string, string>): number {
  const text = form.DurationSeconds;
  if (text === undefined) return 3600;
  if (!DECIMAL_INTEGER.test(text)) {
    throw new StsError('ValidationError', `1 validation error detected: Value '${text.slice(0, 40)}' at 'durationSeconds' failed to satisfy constraint: Member must be a whole number of seconds written in decimal digits (900 to 43200)`);
  }
  const value = Number(text);
  if (value < 900 || value > 43_200) {
    throw new StsError('ValidationError', `1 validation error detected: Value '${text}' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200`);
  }
  return value;
}

export function requireParameter(form: Record<string, string>, name: string): string {
  const value = form[name];
  if (value === undefined || value === '') throw new StsError('ValidationError', `1 validation error detected: Value null at '${name.charAt(0).toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`);
  return value;
}

export function sessionName(form: Record<string, string>): string {
  const name = requireParameter(form, 'RoleSessionName');
  if (!SESSION_NAME.test(name)) {
    throw new StsError('ValidationError', `1 validation error detected: Value '${name.slice(0, 80)}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*, length 2–64`);
  }
  return name;
}

/** Session policies would narrow a role; the sandbox cannot evaluate them, so it refuses rather than ignore one. */
export function refusePolicy(form: Record<string, string>): void {
  if (form.Policy !== undefined) {
    try {
      JSON.parse(form.Policy);
    } catch {
      throw new StsError('MalformedPolicyDocument', 'The session policy is not valid JSON');
    }
    throw new StsError('MalformedPolicyDocument', 'Session policies are not supported by the Gatehouse sandbox; assume the role without Policy');
  }
  if (form['PolicyArns.member.1.arn'] !== undefined) throw new StsError('MalformedPolicyDocument', 'Managed session policies (PolicyArns) are not supported by the Gatehouse sandbox');
}

export function roleOrRefuse(role: SandboxRole | RoleArnProblem): SandboxRole {
  if ('problem' in role) throw new StsError(role.problem === 'malformed' ? 'ValidationError' : 'AccessDenied', role.message);
  return role;
}

export function trustOrRefuse(role: SandboxRole, user: SessionUser, callerArn: string): void {
  const allowed = groupsAllowed(role.kind);
  if (!user.groups.some((group) => allowed.includes(group))) {
    const needed = allowed.length === 1 ? `group ${allowed[0]}` : `one of the groups ${allowed.join(', ')}`;
    throw new StsError('AccessDenied', `User: ${callerArn} is not authorized to perform: sts:AssumeRole on resource: ${role.arn}: user ${user.username} must be in ${needed}`);
  }
}

export function assumedRoleArn(credential: Pick<TemporaryCredential, 'accountId' | 'roleName' | 'sessionName'>): string {
  return `arn:aws:sts::${credential.accountId}:assumed-role/${credential.roleName}/${credential.sessionName}`;
}

export function roleId(credential: Pick<TemporaryCredential, 'accountId' | 'roleName'>): string {
  const digest = createHash('sha256').update(`${credential.accountId}/${credential.roleName}`).digest('hex').toUpperCase();
  return `AROA${digest.slice(0, 17)}`;
}

export function credentialsXml(credential: TemporaryCredential): string {
  return `<Credentials><AccessKeyId>${credential.accessKeyId}</AccessKeyId><SecretAccessKey>${escapeXml(credential.secretAccessKey)}</SecretAccessKey><SessionToken>${escapeXml(credential.sessionToken)}</SessionToken><Expiration>${new Date(credential.expiresAt * 1000).toISOString()}</Expiration></Credentials>`
    + `<AssumedRoleUser><Arn>${escapeXml(assumedRoleArn(credential))}</Arn><AssumedRoleId>${roleId(credential)}:${escapeXml(credential.sessionName)}</AssumedRoleId></AssumedRoleUser>`
    + `<SourceIdentity>${escapeXml(credential.user.username)}</SourceIdentity>`;
}

export function envelope(action: string, result: string, requestId: string): string {
  return `<${action}Response xmlns="${NAMESPACE}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>\n`;
}


/** A credential issued by this STS for `role`, bound to `user`, valid `duration` seconds from now. */
export function issueCredential(sts: StsRequest, grant: { role: SandboxRole; user: SessionUser; name: string; duration: number }): Promise<TemporaryCredential> {
  const { role, user, name, duration } = grant;
  return sts.options.store.issue({
    expiresAt: Math.floor(sts.options.now() / 1000) + duration,
    accountId: role.accountId,
    roleName: role.roleName,
    roleKind: role.kind,
    sessionName: name,
    user,
  });
}
