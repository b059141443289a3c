import { asList, policyStatements, resourcesOfType, type CfnTemplate, type Json } from './template-lookup.ts';

/**
 * Seed 001's frontend controls, checked on a synthesized frontend template. Returns what is missing,
 * so a test can show that dropping any one control is noticed.
 */
export function missingSeed001Controls(template: CfnTemplate): string[] {
  const missing: string[] = [];
  const buckets = resourcesOfType(template, 'AWS::S3::Bucket');
  const distributions = resourcesOfType(template, 'AWS::CloudFront::Distribution');
  if (buckets.length !== 1 || distributions.length !== 1) return ['exactly one bucket and one distribution'];
  const [bucketId, bucket] = buckets[0]!;
  const [distributionId, distribution] = distributions[0]!;
  const block = bucket.PublicAccessBlockConfiguration as Record<string, Json> | undefined;
  if (!block || !['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'].every((key) => block[key] === true)) missing.push('public-access block');

  const config = distribution.DistributionConfig as Record<string, Json>;
  const origins = config.Origins as Record<string, Json>[];
  const oacs = resourcesOfType(template, 'AWS::CloudFront::OriginAccessControl');
  const oacOk =
    oacs.length === 1 &&
    (oacs[0]![1].OriginAccessControlConfig as Record<string, Json>).SigningBehavior === 'always' &&
    (oacs[0]![1].OriginAccessControlConfig as Record<string, Json>).SigningProtocol === 'sigv4' &&
    origins.every((origin) => JSON.stringify(origin.OriginAccessControlId) === JSON.stringify({ 'Fn::GetAtt': [oacs[0]![0], 'Id'] }) && JSON.stringify(origin.DomainName).includes(bucketId));
  if (!oacOk) missing.push('origin access control');

  const readers = policyStatements(template).filter(({ statement }) => statement.Effect === 'Allow' && JSON.stringify(statement.Resource ?? '').includes(bucketId));
  const conditioned = readers.filter(({ statement }) => {
    const principal = statement.Principal as Record<string, Json> | undefined;
    const sourceArn = (statement.Condition as Record<string, Record<string, Json>> | undefined)?.StringEquals?.['AWS:SourceArn'];
    return principal?.Service === 'cloudfront.amazonaws.com' && JSON.stringify(sourceArn ?? null).includes(`{"Ref":"${distributionId}"}`) && JSON.stringify(sourceArn).includes(':distribution/');
  });
  if (readers.length === 0 || conditioned.length !== readers.length) missing.push('bucket policy conditioned on the distribution ARN');

  const behaviors = [config.DefaultCacheBehavior, ...asList(config.CacheBehaviors)] as Record<string, Json>[];
  if (!behaviors.every((behavior) => behavior.ViewerProtocolPolicy === 'redirect-to-https')) missing.push('redirect-to-https');

  const errors = asList(config.CustomErrorResponses) as Record<string, Json>[];
  for (const code of [403, 404]) {
    if (!errors.some((error) => error.ErrorCode === code && error.ResponseCode === 200 && error.ResponsePagePath === '/index.html')) missing.push(`${code} → /index.html`);
  }
  return missing;
}
