import { AuthError } from '@gatehouse/auth';
import { StsError } from './sts-error.ts';
import { parseRoleArn } from './sandbox-roles.ts';
import type { SessionUser } from './sandbox-credential-store.ts';
import type { WebIdentityPrincipal } from './sandbox-key.ts';
import { escapeXml } from './xml.ts';
import { credentialsXml, durationSeconds, envelope, issueCredential, refusePolicy, requireParameter, roleOrRefuse, sessionName, trustOrRefuse, type StsRequest } from './sts-request.ts';

/** The web identity verified by the injected authorizer; an expired token has its own STS error. */
async function verifiedPrincipal(sts: StsRequest, token: string): Promise<WebIdentityPrincipal> {
  try {
    return await sts.options.verifyWebIdentity(token);
  } catch (error) {
    if (error instanceof AuthError && error.code === 'expired') throw new StsError('ExpiredTokenException', 'Token expired: the web identity token is past its exp');
    throw new StsError('InvalidIdentityToken', 'The web identity token could not be verified (signature, issuer, audience or expiry)');
  }
}

function sessionUserOf(principal: WebIdentityPrincipal): SessionUser {
  const claimedName = principal.claims['cognito:username'] ?? principal.claims.username;
  return {
    sub: principal.subject,
    username: principal.username ?? (typeof claimedName === 'string' ? claimedName : principal.subject),
    groups: [...principal.groups],
  };
}

/** STS AssumeRoleWithWebIdentity: a JWT verified by the injected authorizer, into the bridge or a member role. */
export async function assumeRoleWithWebIdentity(sts: StsRequest): Promise<string> {
  const { options, form } = sts;
  const token = requireParameter(form, 'WebIdentityToken');
  const roleArn = requireParameter(form, 'RoleArn');
  const name = sessionName(form);
  const duration = durationSeconds(form);
  // The token is checked before the role is looked up: an unauthenticated caller learns nothing about
  // the sandbox's roles or accounts (a malformed RoleArn only echoes the caller's own text).
  const parsed = parseRoleArn(roleArn, options.bridgeAccountId);
  if ('problem' in parsed && parsed.problem === 'malformed') throw new StsError('ValidationError', parsed.message);
  const principal = await verifiedPrincipal(sts, token);
  refusePolicy(form);
  const role = roleOrRefuse(parsed);
  const user = sessionUserOf(principal);
  if (role.kind !== 'bridge') {
    if (!options.accounts.has(role.accountId)) throw new StsError('AccessDenied', `Not authorized to perform sts:AssumeRoleWithWebIdentity on ${role.arn}: account ${role.accountId} is not a sandbox account`);
    trustOrRefuse(role, user, `web identity ${user.username}`);
  }
  const credential = await issueCredential(sts, { role, user, name, duration });
  options.observe({ action: 'AssumeRoleWithWebIdentity', roleArn: role.arn, user: user.username, outcome: 'issued' });
  options.logger.info({ action: 'AssumeRoleWithWebIdentity', role: role.arn, user: user.username, accessKeyId: credential.accessKeyId }, 'sandbox credentials issued');
  const audience = principal.claims.aud ?? principal.claims.client_id;
  const audienceText = Array.isArray(audience) ? String(audience[0] ?? '') : typeof audience === 'string' ? audience : '';
  return envelope(
    'AssumeRoleWithWebIdentity',
    `${credentialsXml(credential)}<SubjectFromWebIdentityToken>${escapeXml(user.sub)}</SubjectFromWebIdentityToken><Audience>${escapeXml(audienceText)}</Audience><Provider>${escapeXml(principal.issuer ?? '')}</Provider><PackedPolicySize>0</PackedPolicySize>`,
    sts.requestId,
  );
}
