import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as agentcore from 'aws-cdk-lib/aws-bedrockagentcore';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { IgnoreMode } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { PlannedAuthorizer, PlannedRuntime } from './deploy-plan.ts';
import { outputSuffix } from './gateway-stack.ts';

export interface RuntimeStackProps extends StackProps {
  readonly runtimes: readonly PlannedRuntime[];
  readonly userPool: cognito.IUserPool;
  readonly webClient: cognito.IUserPoolClient;
  /** Every runtime learns where the default gateway is (the reference agent reads it). */
  readonly gatewayUrl: string | undefined;
  readonly modelEnvironment: Readonly<Record<string, string>>;
  readonly bedrockModelId: string | undefined;
}

function runtimeAuthorizer(authorizer: PlannedAuthorizer, userPool: cognito.IUserPool, webClient: cognito.IUserPoolClient): agentcore.RuntimeAuthorizerConfiguration {
  if (authorizer.kind === 'iam') return agentcore.RuntimeAuthorizerConfiguration.usingIAM();
  // Exactly the web client: a token another client of the same pool obtained is refused.
  if (authorizer.kind === 'cognito') return agentcore.RuntimeAuthorizerConfiguration.usingCognito(userPool, [webClient]);
  const jwt = authorizer.jwt;
  return agentcore.RuntimeAuthorizerConfiguration.usingJWT(jwt.discoveryUrl, jwt.allowedClients && [...jwt.allowedClients], jwt.allowedAudience && [...jwt.allowedAudience], jwt.allowedScopes && [...jwt.allowedScopes]);
}

/** Seed 004's runtime stack: each agent as an AgentCore Runtime built from its Dockerfile for linux/arm64. */
export class RuntimeStack extends Stack {
  readonly runtimes = new Map<string, agentcore.Runtime>();

  constructor(scope: Construct, id: string, props: RuntimeStackProps) {
    super(scope, id, props);
    for (const planned of props.runtimes) {
      // Application logs go to a group whose retention this stack sets (vended log delivery).
      const applicationLogs = new logs.LogGroup(this, `Logs-${planned.name}`, { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
      const runtime = new agentcore.Runtime(this, `Runtime-${planned.name}`, {
        loggingConfigs: [{ logType: agentcore.LogType.APPLICATION_LOGS, destination: agentcore.LoggingDestination.cloudWatchLogs(applicationLogs) }],
        runtimeName: planned.name,
        ...(planned.description ? { description: planned.description } : {}),
        agentRuntimeArtifact: agentcore.AgentRuntimeArtifact.fromAsset(planned.context, {
          file: planned.dockerfile,
          platform: Platform.LINUX_ARM64,
          exclude: [...planned.exclude],
          ignoreMode: IgnoreMode.DOCKER,
        }),
        protocolConfiguration: agentcore.ProtocolType.of(planned.protocol),
        authorizerConfiguration: runtimeAuthorizer(planned.authorizer, props.userPool, props.webClient),
        ...(planned.allowlistedHeaders.length > 0 ? { requestHeaderConfiguration: { allowlistedHeaders: [...planned.allowlistedHeaders] } } : {}),
        lifecycleConfiguration: { idleRuntimeSessionTimeout: Duration.seconds(planned.idleSeconds), maxLifetime: Duration.seconds(planned.maxLifetimeSeconds) },
        environmentVariables: {
          ...props.modelEnvironment,
          ...(props.gatewayUrl ? { GATEHOUSE_GATEWAY_URL: props.gatewayUrl } : {}),
          ...planned.environment,
        },
      });
      if (props.bedrockModelId) {
        runtime.role.addToPrincipalPolicy(
          new iam.PolicyStatement({
            sid: 'InvokeConfiguredModel',
            actions: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'],
            resources: [
              `arn:${Aws.PARTITION}:bedrock:*::foundation-model/${props.bedrockModelId.replace(/^[a-z]{2}\./, '')}`,
              `arn:${Aws.PARTITION}:bedrock:${Aws.REGION}:${Aws.ACCOUNT_ID}:inference-profile/${props.bedrockModelId}`,
            ],
          }),
        );
      }
      this.runtimes.set(planned.name, runtime);
      const suffix = outputSuffix(planned.name);
      new CfnOutput(this, `RuntimeArn${suffix}`, { value: runtime.agentRuntimeArn });
      new CfnOutput(this, `InvocationUrl${suffix}`, {
        value: `https://bedrock-agentcore.${Aws.REGION}.${Aws.URL_SUFFIX}/runtimes/${runtime.agentRuntimeArn}/invocations?qualifier=DEFAULT`,
        description: 'URL-encode the ARN segment when calling it',
      });
    }
  }
}
