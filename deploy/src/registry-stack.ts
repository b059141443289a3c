import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';

export interface RegistryStackProps extends StackProps {
  readonly tableName: string | undefined;
}

/**
 * The account registry: the table packages/tools/src/dynamodb-account-registry.ts reads — hash key
 * `account_id` (S), other attributes schemaless (`name`, `environment`, `enabled`, `role_name`, …).
 */
export class RegistryStack extends Stack {
  /** An interface: aws-cdk-lib's classes do not satisfy its own interfaces under exactOptionalPropertyTypes. */
  readonly table: dynamodb.ITableV2;

  constructor(scope: Construct, id: string, props: RegistryStackProps) {
    super(scope, id, props);
    const table = new dynamodb.TableV2(this, 'AccountRegistry', {
      ...(props.tableName ? { tableName: props.tableName } : {}),
      partitionKey: { name: 'account_id', type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.table = table as dynamodb.ITableV2;
    new CfnOutput(this, 'AccountsTableName', { value: this.table.tableName });
  }
}
