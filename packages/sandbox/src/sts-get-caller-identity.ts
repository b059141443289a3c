import { escapeXml } from './xml.ts';
import { assumedRoleArn, envelope, roleId, type StsRequest } from './sts-request.ts';

/** STS GetCallerIdentity for sandbox sessions and admin keys. */
export async function getCallerIdentity(sts: StsRequest): Promise<string> {
  const caller = await sts.authenticate(sts.request, sts.body);
  const result = caller.kind === 'temporary'
    ? { arn: assumedRoleArn(caller.credential), userId: `${roleId(caller.credential)}:${caller.credential.sessionName}`, account: caller.credential.accountId }
    : { arn: caller.key.principal.arn, userId: caller.key.principal.subject, account: /^arn:aws:[a-z]+::(\d{12}):/.exec(caller.key.principal.arn)?.[1] ?? sts.options.bridgeAccountId };
  sts.options.observe({ action: 'GetCallerIdentity', accessKeyId: caller.accessKeyId, outcome: 'answered' });
  return envelope('GetCallerIdentity', `<Arn>${escapeXml(result.arn)}</Arn><UserId>${escapeXml(result.userId)}</UserId><Account>${result.account}</Account>`, sts.requestId);
}
