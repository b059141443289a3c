import { Stack, type StackProps, RemovalPolicy } from 'aws-cdk-lib';
import type * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import type { Construct } from 'constructs';

/** The web app's `/config.json` (packages/web/src/web-settings.ts reads it). Public values only. */
export interface WebConfigValues {
  readonly region: string;
  readonly userPoolId: string;
  readonly clientId: string;
  readonly issuer: string;
  readonly runtimeArn: string;
  readonly gatewayUrl: string;
  /** Cognito's hosted domain (`/oauth2/authorize`, `/logout`), which on AWS is not the issuer's host. */
  readonly oauthBase: string;
  /** Where `/runtimes/{arn}/invocations` lives: the AgentCore data-plane endpoint of the region. */
  readonly runtimeEndpoint: string;
  /** The runtime's serverProtocol: the chat speaks HTTP or AGUI. */
  readonly runtimeProtocol: string;
}

export interface WebContentStackProps extends StackProps {
  readonly bucket: s3.IBucket;
  readonly distribution: cloudfront.IDistribution;
  /** The built web app (packages/web/dist). */
  readonly webDist: string;
  readonly config: WebConfigValues;
}

/** Uploads the web build plus a `config.json` generated from the other stacks' outputs at deploy time, then invalidates CloudFront. */
export class WebContentStack extends Stack {
  readonly deployment: s3deploy.BucketDeployment;

  constructor(scope: Construct, id: string, props: WebContentStackProps) {
    super(scope, id, props);
    this.deployment = new s3deploy.BucketDeployment(this, 'WebDeployment', {
      destinationBucket: props.bucket,
      sources: [s3deploy.Source.asset(props.webDist), s3deploy.Source.jsonData('config.json', { ...props.config })],
      distribution: props.distribution,
      distributionPaths: ['/*'],
      prune: true,
      memoryLimit: 512,
      logGroup: new logs.LogGroup(this, 'WebDeploymentLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY }),
    });
  }
}

