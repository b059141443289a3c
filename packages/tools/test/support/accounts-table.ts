import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import { CreateTableCommand, DynamoDBClient, PutItemCommand, waitUntilTableExists, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { closeServer, listen } from '@gatehouse/core';

/** The key dynalite accepts (any key; it checks none). */
export const DYNALITE_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface AccountsTable {
  /** http://127.0.0.1:{port} of the dynalite server. */
  readonly endpoint: string;
  close(): Promise<void>;
}

/**
 * A real DynamoDB API (dynalite) on loopback with the seeds' accounts table: `account_id` (S) as the hash key, nothing
 * else declared, and `rows` written with PutItem, as the seed's README does with `aws dynamodb put-item`.
 */
export async function startAccountsTable(tableName: string, rows: readonly Record<string, AttributeValue>[]): Promise<AccountsTable> {
  const createDynalite = createRequire(import.meta.url)('dynalite') as (options: Record<string, unknown>) => Server;
  const dynalite = createDynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const endpoint = `http://127.0.0.1:${await listen(dynalite, 0)}`;
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: DYNALITE_CREDENTIALS });
  try {
    await client.send(new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: 'account_id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'account_id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }));
    await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1 }, { TableName: tableName });
    for (const Item of rows) await client.send(new PutItemCommand({ TableName: tableName, Item }));
  } catch (error) {
    await closeServer(dynalite);
    throw error;
  } finally {
    client.destroy();
  }
  return { endpoint, close: () => closeServer(dynalite) };
}
