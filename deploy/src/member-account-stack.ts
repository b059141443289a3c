import { Aws, CfnOutput, CfnParameter, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

export interface MemberAccountStackProps extends StackProps {
  readonly targetRoleName: string;
  readonly bridgeRoleName: string;
  /** Required of the bridge when set (the confused-deputy guard); not a secret. */
  readonly externalId: string | undefined;
}

/**
 * Deployed in each member account: the read-only role the tools assume. It trusts only the central
 * account's bridge role (whose account id is a parameter, never written here) and has ReadOnlyAccess only.
 */
export class MemberAccountStack extends Stack {
  readonly targetRole: iam.Role;

  constructor(scope: Construct, id: string, props: MemberAccountStackProps) {
    super(scope, id, props);
    const central = new CfnParameter(this, 'CentralAccountId', {
      type: 'String',
      allowedPattern: '^\\d{12}$',
      description: 'The account the Gatehouse stacks (and the tools bridge role) are deployed in',
    });
    const bridgeArn = `arn:${Aws.PARTITION}:iam::${central.valueAsString}:role/${props.bridgeRoleName}`;
    this.targetRole = new iam.Role(this, 'TargetRole', {
      roleName: props.targetRoleName,
      description: 'Read-only access for the Gatehouse operations tools',
      assumedBy: new iam.ArnPrincipal(bridgeArn),
      ...(props.externalId ? { externalIds: [props.externalId] } : {}),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('ReadOnlyAccess')],
      maxSessionDuration: Duration.hours(1),
    });
    new CfnOutput(this, 'TargetRoleArn', { value: this.targetRole.roleArn });
  }
}
