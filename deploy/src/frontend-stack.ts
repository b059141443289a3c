import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

/**
 * Seed 004's frontend stack with seed 001's controls: a bucket nobody can read directly (every
 * public-access block on, TLS only), CloudFront reading it through Origin Access Control (the bucket
 * policy names this distribution's ARN), HTTPS only, and SPA routing (403/404 → /index.html).
 */
export class FrontendStack extends Stack {
  // Interfaces, not classes: aws-cdk-lib's classes do not satisfy its own interfaces under exactOptionalPropertyTypes.
  readonly bucket: s3.IBucket;
  readonly distribution: cloudfront.Distribution;
  /** `https://{distribution domain}/`. */
  readonly appUrl: string;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, props);
    const bucket = new s3.Bucket(this, 'WebBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: false,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.bucket = bucket as s3.IBucket;
    const origin = origins.S3BucketOrigin.withOriginAccessControl(this.bucket);
    const spaFallback = (httpStatus: number): cloudfront.ErrorResponse => ({ httpStatus, responseHttpStatus: 200, responsePagePath: '/index.html', ttl: Duration.seconds(0) });
    this.distribution = new cloudfront.Distribution(this, 'WebDistribution', {
      comment: 'Gatehouse web app',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
      },
      additionalBehaviors: {
        // Regenerated on every deploy from the stack outputs: never served stale.
        '/config.json': {
          origin,
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          responseHeadersPolicy: cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
        },
      },
      errorResponses: [spaFallback(403), spaFallback(404)],
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
    });
    this.appUrl = `https://${this.distribution.distributionDomainName}/`;
    new CfnOutput(this, 'WebUrl', { value: this.appUrl });
    new CfnOutput(this, 'WebBucketName', { value: this.bucket.bucketName });
    new CfnOutput(this, 'DistributionId', { value: this.distribution.distributionId });
  }
}
