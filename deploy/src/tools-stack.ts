import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

export interface ToolsStackProps extends StackProps {
  readonly table: dynamodb.ITableV2;
  /** Directory holding the bundled `lambda-handler.mjs` (packages/tools/src/lambda-handler.ts). */
  readonly bundleDir: string;
  readonly bridgeRoleName: string;
  readonly targetRoleNames: readonly string[];
  readonly allowOperations: readonly string[];
}

/** The file and export the tools Lambda runs: packages/tools/src/lambda-handler.ts's `handler`. */
export const TOOLS_HANDLER = 'lambda-handler.handler';

/**
 * Seed 004's Lambda bridge: Gatehouse's operations tools as a Lambda function. Its role reads the
 * registry and may assume only the member accounts' target role names — nothing else.
 */
export class ToolsStack extends Stack {
  readonly function: lambda.Function;
  readonly bridgeRole: iam.Role;

  constructor(scope: Construct, id: string, props: ToolsStackProps) {
    super(scope, id, props);
    this.bridgeRole = new iam.Role(this, 'BridgeRole', {
      roleName: props.bridgeRoleName,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Gatehouse operations tools: read the account registry, assume the read-only role in member accounts',
    });
    const logGroup = new logs.LogGroup(this, 'ToolsLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    logGroup.grantWrite(this.bridgeRole);
    props.table.grantReadData(this.bridgeRole);
    this.bridgeRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'AssumeMemberAccountTargetRole',
        actions: ['sts:AssumeRole'],
        // Any member account (the registry grows at run time), but only the target role's name.
        resources: props.targetRoleNames.map((name) => `arn:${Aws.PARTITION}:iam::*:role/${name}`),
      }),
    );
    this.function = new lambda.Function(this, 'ToolsFunction', {
      description: 'Gatehouse operations tools (packages/tools lambda-handler), as an AgentCore Gateway Lambda target',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      handler: TOOLS_HANDLER,
      code: lambda.Code.fromAsset(props.bundleDir),
      role: this.bridgeRole,
      memorySize: 512,
      timeout: Duration.seconds(30),
      logGroup,
      environment: {
        GATEHOUSE_ACCOUNTS_TABLE: props.table.tableName,
        GATEHOUSE_ALLOW_OPERATIONS: props.allowOperations.join(','),
        // Behind AgentCore Gateway the Lambda gets no per-user credentials: it acts as the bridge role (seed 004).
        GATEHOUSE_TOOLS_USE_EXECUTION_ROLE: '1',
      },
    });
    new CfnOutput(this, 'ToolsFunctionArn', { value: this.function.functionArn });
    new CfnOutput(this, 'BridgeRoleArn', { value: this.bridgeRole.roleArn });
  }
}
