import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash, randomUUID } from 'node:crypto';
import { BodyTooLargeError, parseForm, readBody, type Logger } from '@gatehouse/core';
import { AuthError, createSigV4Verifier, type AuthFailureReason } from '@gatehouse/auth';
import { StsError, type StsErrorCode } from './sts-error.ts';
import { groupsAllowed, parseRoleArn, type RoleArnProblem, type SandboxRole } from './sandbox-roles.ts';
import type { SandboxCredentialStore, SessionUser, TemporaryCredential } from './sandbox-credential-store.ts';
import type { SigV4Key, WebIdentityPrincipal } from './sandbox-key.ts';
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

type Caller =
  | { readonly kind: 'temporary'; readonly accessKeyId: string; readonly credential: TemporaryCredential }
  | { readonly kind: 'admin'; readonly accessKeyId: string; readonly key: SigV4Key };

const NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
/**
 * The STS error name for each refusal of `@gatehouse/auth`'s SigV4 verifier. A wrong or missing session token
 * is `InvalidClientTokenId` and a wrong body hash `SignatureDoesNotMatch` (STS has no finer names), so `detail`
 * is not consulted. The JWT-only reasons never come from the SigV4 verifier; they are mapped so the table is total.
 */
const AUTH_TO_STS: Record<AuthFailureReason, StsErrorCode> = {
  missing: 'MissingAuthenticationToken',
  malformed: 'IncompleteSignature',
  unknown_access_key: 'InvalidClientTokenId',
  signature_mismatch: 'SignatureDoesNotMatch',
  clock_skew: 'RequestExpired',
  expired: 'RequestExpired',
  expired_credentials: 'ExpiredTokenException',
  bad_signature: 'SignatureDoesNotMatch',
  not_yet_valid: 'RequestExpired',
  unknown_key: 'InvalidClientTokenId',
  revoked: 'InvalidClientTokenId',
  method_mismatch: 'IncompleteSignature',
  wrong_issuer: 'AccessDenied',
  wrong_client: 'AccessDenied',
  wrong_audience: 'AccessDenied',
  wrong_token_use: 'AccessDenied',
  insufficient_scope: 'AccessDenied',
  claim_mismatch: 'AccessDenied',
  issuer_unavailable: 'InternalFailure',
  wrong_region: 'SignatureDoesNotMatch',
};

/** A key as the sandbox STS looks it up: the signing secret plus who the caller is. */
type StsKey = SigV4Key & { readonly caller: Caller };

function readTags(form: Record<string, string>): Map<string, string> {
  const tags = new Map<string, string>();
  for (let index = 1; index <= 50; index++) {
    const key = form[`Tags.member.${index}.Key`];
    if (key === undefined) break;
    tags.set(key, form[`Tags.member.${index}.Value`] ?? '');
  }
  return tags;
}

function splitGroups(text: string): string[] {
  return text.split(/[\s,:]+/).filter((group) => group.length > 0);
}

/**
 * Decimal digits only: `Number()` would also take `1e4`, `0x1000`, ` 900` and `900.0`, which STS refuses.
 * Nine digits bound the value before it is compared, so no text becomes Infinity or loses precision.
 */
const DECIMAL_INTEGER = /^[0-9]{1,9}$/;

function durationSeconds(form: Record<string, string>): number {
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

function requireParameter(form: Record<string, string>, name: string): string {
  const value = form[name];
  if (value === undefined || value === '') throw new StsError('ValidationError', `1 validation error detected: Value null at '${name.charAt(0).toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`);
  return value;
}

function sessionName(form: Record<string, string>): string {
  const name = requireParameter(form, 'RoleSessionName');
  if (!SESSION_NAME.test(name)) {
    throw new StsError('ValidationError', `1 validation error detected: Value '${name.slice(0, 80)}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*, length 2–64`);
  }
  return name;
}

/** Session policies would narrow a role; the sandbox cannot evaluate them, so it refuses rather than ignore one. */
function refusePolicy(form: Record<string, string>): void {
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

function roleOrRefuse(role: SandboxRole | RoleArnProblem): SandboxRole {
  if ('problem' in role) throw new StsError(role.problem === 'malformed' ? 'ValidationError' : 'AccessDenied', role.message);
  return role;
}

function trustOrRefuse(role: SandboxRole, user: SessionUser, callerArn: string): void {
  const allowed = groupsAllowed(role.kind);
  if (!user.groups.some((group) => allowed.includes(group))) {
    const needed = allowed.length === 1 ? `group ${allowed[0]}` : `one of the groups ${allowed.join(', ')}`;
    throw new StsError('AccessDenied', `User: ${callerArn} is not authorized to perform: sts:AssumeRole on resource: ${role.arn}: user ${user.username} must be in ${needed}`);
  }
}

export function assumedRoleArn(credential: Pick<TemporaryCredential, 'accountId' | 'roleName' | 'sessionName'>): string {
  return `arn:aws:sts::${credential.accountId}:assumed-role/${credential.roleName}/${credential.sessionName}`;
}

function roleId(credential: Pick<TemporaryCredential, 'accountId' | 'roleName'>): string {
  const digest = createHash('sha256').update(`${credential.accountId}/${credential.roleName}`).digest('hex').toUpperCase();
  return `AROA${digest.slice(0, 17)}`;
}

function credentialsXml(credential: TemporaryCredential): string {
  return `<Credentials><AccessKeyId>${credential.accessKeyId}</AccessKeyId><SecretAccessKey>${escapeXml(credential.secretAccessKey)}</SecretAccessKey><SessionToken>${escapeXml(credential.sessionToken)}</SessionToken><Expiration>${new Date(credential.expiresAt * 1000).toISOString()}</Expiration></Credentials>`
    + `<AssumedRoleUser><Arn>${escapeXml(assumedRoleArn(credential))}</Arn><AssumedRoleId>${roleId(credential)}:${escapeXml(credential.sessionName)}</AssumedRoleId></AssumedRoleUser>`
    + `<SourceIdentity>${escapeXml(credential.user.username)}</SourceIdentity>`;
}

function envelope(action: string, result: string, requestId: string): string {
  return `<${action}Response xmlns="${NAMESPACE}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>\n`;
}

/**
 * The sandbox's STS query API at `{base}/sts`: AssumeRole (SigV4 from an admin key or a session this STS issued),
 * AssumeRoleWithWebIdentity (a JWT verified by the injected authorizer) and GetCallerIdentity.
 */
export function createSandboxSts(options: SandboxStsOptions) {
  const { store } = options;
  // Any region: clients of the sandbox sign with whatever region they are configured for (often 'local'),
  // and the signature covers it. 15 minutes of skew, as AWS SDKs expect before they correct their clock.
  const verifier = createSigV4Verifier<StsKey>({
    service: 'sts',
    region: '*',
    maxSkewSeconds: 900,
    clock: options.now,
    lookupKey: async (accessKeyId) => {
      const credential = await store.find(accessKeyId);
      if (credential) {
        return {
          secretAccessKey: credential.secretAccessKey,
          sessionToken: credential.sessionToken,
          expiresAt: credential.expiresAt,
          principal: { subject: credential.user.sub, arn: assumedRoleArn(credential), permissions: [] },
          caller: { kind: 'temporary', accessKeyId, credential },
        };
      }
      const key = await options.lookupAccessKey(accessKeyId);
      return key ? { ...key, caller: { kind: 'admin', accessKeyId, key } } : undefined;
    },
  });

  async function authenticate(request: IncomingMessage, body: Buffer): Promise<Caller> {
    try {
      const verified = await verifier.authenticate({ method: request.method ?? 'POST', rawPath: request.url ?? '/', headers: request.headers, body }, 'header');
      return verified.key.caller;
    } catch (error) {
      if (error instanceof AuthError) throw new StsError(AUTH_TO_STS[error.code], error.message);
      throw error;
    }
  }

  function issue(role: SandboxRole, user: SessionUser, name: string, duration: number): Promise<TemporaryCredential> {
    return store.issue({
      expiresAt: Math.floor(options.now() / 1000) + duration,
      accountId: role.accountId,
      roleName: role.roleName,
      roleKind: role.kind,
      sessionName: name,
      user,
    });
  }

  async function assumeRole(request: IncomingMessage, body: Buffer, form: Record<string, string>, requestId: string): Promise<string> {
    const caller = await authenticate(request, body);
    const roleArn = requireParameter(form, 'RoleArn');
    const name = sessionName(form);
    const duration = durationSeconds(form);
    refusePolicy(form);
    const role = roleOrRefuse(parseRoleArn(roleArn, options.bridgeAccountId));
    const tags = readTags(form);
    let user: SessionUser;
    let callerArn: string;
    if (caller.kind === 'temporary') {
      callerArn = assumedRoleArn(caller.credential);
      // Only the bridge session may chain into member accounts; a member-account session cannot hop further.
      if (caller.credential.roleKind !== 'bridge') {
        throw new StsError('AccessDenied', `User: ${callerArn} is not authorized to perform: sts:AssumeRole on resource: ${role.arn}: only ${'GatehouseToolsBridge'} sessions may assume sandbox roles`);
      }
      user = caller.credential.user;
      // Session tags carried from the web identity are transitive: a chained call cannot rewrite who the user is.
      const claimed = tags.get('sub');
      if (claimed !== undefined && claimed !== user.sub) throw new StsError('AccessDenied', 'Session tag sub is transitive from the web identity and cannot be changed when chaining roles');
    } else {
      callerArn = caller.key.principal.arn;
      const permissions = caller.key.principal.permissions;
      if (!permissions.some((permission) => permission === '*' || permission === 'sts:*' || permission === 'sts:AssumeRole')) {
        throw new StsError('AccessDenied', `User: ${callerArn} is not authorized to perform: sts:AssumeRole on resource: ${role.arn}`);
      }
      // An admin key is a trusted broker (like the seeds' bridge Lambda role): it names the user with session tags.
      const sub = tags.get('sub') ?? caller.key.principal.subject;
      user = {
        sub,
        username: tags.get('username') ?? sub,
        groups: tags.has('groups') ? splitGroups(tags.get('groups') ?? '') : tags.has('sub') ? [] : ['ops-readwrite'],
      };
    }
    if (role.kind === 'bridge') throw new StsError('AccessDenied', `Role ${role.arn} trusts only web identities (AssumeRoleWithWebIdentity)`);
    const account = options.accounts.get(role.accountId);
    if (!account) throw new StsError('AccessDenied', `User: ${callerArn} is not authorized to perform: sts:AssumeRole on resource: ${role.arn}: account ${role.accountId} is not a sandbox account`);
    if (account.externalId !== undefined && form.ExternalId !== account.externalId) {
      throw new StsError('AccessDenied', `User: ${callerArn} is not authorized to perform: sts:AssumeRole on resource: ${role.arn}: the ExternalId does not match`);
    }
    trustOrRefuse(role, user, callerArn);
    const credential = await issue(role, user, name, duration);
    options.observe({ action: 'AssumeRole', accessKeyId: caller.accessKeyId, roleArn: role.arn, user: user.username, outcome: 'issued' });
    options.logger.info({ action: 'AssumeRole', role: role.arn, user: user.username, accessKeyId: credential.accessKeyId }, 'sandbox credentials issued');
    return envelope('AssumeRole', `${credentialsXml(credential)}<PackedPolicySize>0</PackedPolicySize>`, requestId);
  }

  async function assumeRoleWithWebIdentity(form: Record<string, string>, requestId: string): Promise<string> {
    const token = requireParameter(form, 'WebIdentityToken');
    const roleArn = requireParameter(form, 'RoleArn');
    const name = sessionName(form);
    const duration = durationSeconds(form);
    // The token is checked before the role is looked up: an unauthenticated caller learns nothing about
    // the sandbox's roles or accounts (a malformed RoleArn only echoes the caller's own text).
    const parsed = parseRoleArn(roleArn, options.bridgeAccountId);
    if ('problem' in parsed && parsed.problem === 'malformed') throw new StsError('ValidationError', parsed.message);
    let principal: WebIdentityPrincipal;
    try {
      principal = await options.verifyWebIdentity(token);
    } catch (error) {
      if (error instanceof AuthError && error.code === 'expired') throw new StsError('ExpiredTokenException', 'Token expired: the web identity token is past its exp');
      throw new StsError('InvalidIdentityToken', 'The web identity token could not be verified (signature, issuer, audience or expiry)');
    }
    refusePolicy(form);
    const role = roleOrRefuse(parsed);
    const claims = principal.claims;
    const claimedName = claims['cognito:username'] ?? claims.username;
    const user: SessionUser = {
      sub: principal.subject,
      username: principal.username ?? (typeof claimedName === 'string' ? claimedName : principal.subject),
      groups: [...principal.groups],
    };
    if (role.kind !== 'bridge') {
      if (!options.accounts.has(role.accountId)) throw new StsError('AccessDenied', `Not authorized to perform sts:AssumeRoleWithWebIdentity on ${role.arn}: account ${role.accountId} is not a sandbox account`);
      trustOrRefuse(role, user, `web identity ${user.username}`);
    }
    const credential = await issue(role, user, name, duration);
    options.observe({ action: 'AssumeRoleWithWebIdentity', roleArn: role.arn, user: user.username, outcome: 'issued' });
    options.logger.info({ action: 'AssumeRoleWithWebIdentity', role: role.arn, user: user.username, accessKeyId: credential.accessKeyId }, 'sandbox credentials issued');
    const audience = claims.aud ?? claims.client_id;
    const audienceText = Array.isArray(audience) ? String(audience[0] ?? '') : typeof audience === 'string' ? audience : '';
    return envelope(
      'AssumeRoleWithWebIdentity',
      `${credentialsXml(credential)}<SubjectFromWebIdentityToken>${escapeXml(user.sub)}</SubjectFromWebIdentityToken><Audience>${escapeXml(audienceText)}</Audience><Provider>${escapeXml(principal.issuer ?? '')}</Provider><PackedPolicySize>0</PackedPolicySize>`,
      requestId,
    );
  }

  async function getCallerIdentity(request: IncomingMessage, body: Buffer, requestId: string): Promise<string> {
    const caller = await authenticate(request, body);
    const result = caller.kind === 'temporary'
      ? { arn: assumedRoleArn(caller.credential), userId: `${roleId(caller.credential)}:${caller.credential.sessionName}`, account: caller.credential.accountId }
      : { arn: caller.key.principal.arn, userId: caller.key.principal.subject, account: /^arn:aws:[a-z]+::(\d{12}):/.exec(caller.key.principal.arn)?.[1] ?? options.bridgeAccountId };
    options.observe({ action: 'GetCallerIdentity', accessKeyId: caller.accessKeyId, outcome: 'answered' });
    return envelope('GetCallerIdentity', `<Arn>${escapeXml(result.arn)}</Arn><UserId>${escapeXml(result.userId)}</UserId><Account>${result.account}</Account>`, requestId);
  }

  return {
    async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
      let action = 'unknown';
      const requestId = randomUUID();
      try {
        if (request.method !== 'POST') throw new StsError('InvalidAction', 'STS takes form-encoded POST requests (Action=…&Version=2011-06-15)');
        let body: Buffer;
        try {
          body = await readBody(request, 64 * 1024);
        } catch (error) {
          if (error instanceof BodyTooLargeError) throw new StsError('ValidationError', 'Request body exceeds 65536 bytes');
          throw error;
        }
        const form = parseForm(body);
        action = form.Action ?? 'unknown';
        if (form.Version !== undefined && form.Version !== '2011-06-15') throw new StsError('InvalidAction', `Version ${form.Version} is not supported (use 2011-06-15)`);
        let xml: string;
        if (action === 'AssumeRole') xml = await assumeRole(request, body, form, requestId);
        else if (action === 'AssumeRoleWithWebIdentity') xml = await assumeRoleWithWebIdentity(form, requestId);
        else if (action === 'GetCallerIdentity') xml = await getCallerIdentity(request, body, requestId);
        else throw new StsError('InvalidAction', `Could not find operation ${action.slice(0, 64)} for version 2011-06-15 (the sandbox serves AssumeRole, AssumeRoleWithWebIdentity, GetCallerIdentity)`);
        response.writeHead(200, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(xml), 'x-amzn-requestid': requestId }).end(xml);
      } catch (error) {
        const stsError = error instanceof StsError ? error : new StsError('InternalFailure', 'internal');
        if (!(error instanceof StsError)) options.logger.error({ err: error, action }, 'sandbox STS failed');
        options.observe({ action, outcome: stsError.code });
        const wire = stsError.toResponse(requestId);
        if (!response.headersSent) response.writeHead(wire.status, { ...wire.headers, 'content-length': String(Buffer.byteLength(wire.body)), 'x-amzn-requestid': requestId }).end(wire.body);
        else response.destroy();
      }
    },
  };
}
