import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { AccountConfig } from '@gatehouse/core';
import type { Construct } from 'constructs';

export interface RegistryStackProps extends StackProps {
  readonly tableName: string | undefined;
  /** `tools.accounts` from the config: written as rows (the registry's own column names) when deployed. */
  readonly accounts: readonly AccountConfig[];
}

/** A registry row in DynamoDB's attribute-value form, the columns packages/tools/src/dynamodb-account-registry.ts reads. */
function registryItem(account: AccountConfig): Record<string, Record<string, string | boolean>> {
  return {
    account_id: { S: account.accountId },
    name: { S: account.name },
    environment: { S: account.environment },
    enabled: { BOOL: account.enabled },
    role_name: { S: account.roleName },
    ...(account.externalId ? { external_id: { S: account.externalId } } : {}),
    ...(account.region ? { region: { S: account.region } } : {}),
  };
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

    if (props.accounts.length === 0) return;
    // The accounts the config lists become rows; rows added later (gatehouse accounts add, put-item) are left alone.
    const logGroup = new logs.LogGroup(this, 'AccountRowsLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    const policy = cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: [this.table.tableArn] });
    for (const account of props.accounts) {
      const put: cr.AwsSdkCall = {
        service: 'DynamoDB',
        action: 'putItem',
        parameters: { TableName: this.table.tableName, Item: registryItem(account) },
        physicalResourceId: cr.PhysicalResourceId.of(`account-${account.accountId}`),
      };
      new cr.AwsCustomResource(this, `Account-${account.accountId}`, {
        onCreate: put,
        onUpdate: put,
        onDelete: { service: 'DynamoDB', action: 'deleteItem', parameters: { TableName: this.table.tableName, Key: { account_id: { S: account.accountId } } } },
        policy,
        logGroup,
        installLatestAwsSdk: false,
      });
    }
  }
}
