import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, DeleteCommand, UpdateCommand, paginateScan } from '@aws-sdk/lib-dynamodb';
import { parseAccount, type Account } from './account.ts';
import { findAccount, type AccountRegistry } from './account-registry.ts';

export interface DynamoDbRegistryOptions {
  readonly tableName: string;
  readonly endpoint?: string;
  readonly region?: string;
  /** Only for tests against a local DynamoDB-compatible server; otherwise the SDK's default chain. */
  readonly credentials?: DynamoDBClientConfig['credentials'];
}

/** An item in the seeds' table: `account_id` (hash key), `name`, `environment`, `enabled`, plus Gatehouse's role columns. */
interface AccountItem {
  account_id: string;
  name: string;
  environment?: string;
  enabled?: boolean;
  role_name?: string;
  external_id?: string;
  region?: string;
}

function fromItem(item: AccountItem): Account {
  return {
    accountId: item.account_id,
    name: item.name,
    environment: item.environment ?? '',
    // Rows written by the seeds' `aws dynamodb put-item` carry no role: the read-only role is the default.
    roleName: item.role_name ?? 'GatehouseOpsReadOnly',
    enabled: item.enabled !== false,
    ...(item.external_id ? { externalId: item.external_id } : {}),
    ...(item.region ? { region: item.region } : {}),
  };
}

function isAccountItem(value: unknown): value is AccountItem {
  const item = value as Partial<AccountItem> | undefined;
  return typeof item?.account_id === 'string' && typeof item.name === 'string';
}

/**
 * The production registry. Names are resolved by scanning (registries hold tens of accounts),
 * so no secondary index is required on the seeds' table.
 */
export function createDynamoDbAccountRegistry(options: DynamoDbRegistryOptions): AccountRegistry {
  const client = new DynamoDBClient({
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.region !== undefined ? { region: options.region } : {}),
    ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
  });
  const documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const TableName = options.tableName;

  async function list(): Promise<Account[]> {
    const accounts: Account[] = [];
    for await (const page of paginateScan({ client: documents }, { TableName })) {
      for (const item of page.Items ?? []) if (isAccountItem(item)) accounts.push(fromItem(item));
    }
    return accounts.sort((left, right) => left.name.toLowerCase().localeCompare(right.name.toLowerCase()));
  }

  return {
    list,
    async get(idOrName) {
      const wanted = idOrName.trim();
      if (/^\d{12}$/.test(wanted)) {
        const { Item } = await documents.send(new GetCommand({ TableName, Key: { account_id: wanted }, ConsistentRead: true }));
        return isAccountItem(Item) ? fromItem(Item) : undefined;
      }
      return findAccount(await list(), wanted);
    },
    async put(input) {
      const account = parseAccount(input);
      const clash = findAccount(await list(), account.name);
      if (clash && clash.accountId !== account.accountId) throw new Error(`Another account is already named "${account.name}" (names are case-insensitive)`);
      const item: AccountItem = {
        account_id: account.accountId,
        name: account.name,
        environment: account.environment,
        enabled: account.enabled,
        role_name: account.roleName,
        ...(account.externalId !== undefined ? { external_id: account.externalId } : {}),
        ...(account.region !== undefined ? { region: account.region } : {}),
      };
      await documents.send(new PutCommand({ TableName, Item: item }));
    },
    async setEnabled(accountId, enabled) {
      try {
        await documents.send(new UpdateCommand({
          TableName,
          Key: { account_id: accountId },
          UpdateExpression: 'SET enabled = :enabled',
          ConditionExpression: 'attribute_exists(account_id)',
          ExpressionAttributeValues: { ':enabled': enabled },
        }));
        return true;
      } catch (error) {
        if ((error as Error).name === 'ConditionalCheckFailedException') return false;
        throw error;
      }
    },
    async remove(accountId) {
      const { Attributes } = await documents.send(new DeleteCommand({ TableName, Key: { account_id: accountId }, ReturnValues: 'ALL_OLD' }));
      return Attributes !== undefined;
    },
    async close() {
      client.destroy();
    },
  };
}
