import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import { DynamoDBClient, CreateTableCommand, PutItemCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { closeServer, listen } from '@gatehouse/core';
import { createAccountRegistry, type AccountRegistry } from '../src/index.ts';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
let dataDir: string;
let dynalite: Server;
let endpoint: string;

before(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-registry-'));
  const createDynalite = createRequire(import.meta.url)('dynalite') as (options: Record<string, unknown>) => Server;
  dynalite = createDynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  endpoint = `http://127.0.0.1:${await listen(dynalite, 0)}`;
  // The seeds' table: account_id (S) as the hash key, nothing else declared.
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials });
  await client.send(new CreateTableCommand({
    TableName: 'central-ops-accounts-dev',
    AttributeDefinitions: [{ AttributeName: 'account_id', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'account_id', KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
  }));
  await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1 }, { TableName: 'central-ops-accounts-dev' });
  // A row written exactly as the seed's README does with `aws dynamodb put-item`.
  await client.send(new PutItemCommand({
    TableName: 'central-ops-accounts-dev',
    Item: { account_id: { S: '123456789012' }, name: { S: 'Production' }, environment: { S: 'prod' }, enabled: { BOOL: true } },
  }));
  client.destroy();
});

after(async () => {
  await closeServer(dynalite);
  rmSync(dataDir, { recursive: true, force: true });
});

async function exercise(registry: AccountRegistry, seededProduction: boolean) {
  if (!seededProduction) await registry.put({ accountId: '123456789012', name: 'Production', environment: 'prod', roleName: 'GatehouseOpsReadOnly', enabled: true });
  await registry.put({ accountId: '210987654321', name: 'Dev Sandbox', environment: 'dev', roleName: 'arn:aws:iam::210987654321:role/CentralOpsTargetRole', externalId: 'ext-123', region: 'eu-west-1', enabled: true });
  assert.deepEqual(await registry.get('production'), { accountId: '123456789012', name: 'Production', environment: 'prod', roleName: 'GatehouseOpsReadOnly', enabled: true });
  assert.deepEqual(await registry.get('210987654321'), {
    accountId: '210987654321', name: 'Dev Sandbox', environment: 'dev', roleName: 'arn:aws:iam::210987654321:role/CentralOpsTargetRole', externalId: 'ext-123', region: 'eu-west-1', enabled: true,
  });
  assert.equal((await registry.get('DEV SANDBOX'))?.accountId, '210987654321');
  assert.equal(await registry.get('Nowhere'), undefined);
  await assert.rejects(registry.put({ accountId: '555555555555', name: 'PRODUCTION', environment: '', roleName: 'GatehouseOpsReadOnly', enabled: true }), /already named/);
  await assert.rejects(registry.put({ accountId: '12', name: 'Short', environment: '', roleName: 'GatehouseOpsReadOnly', enabled: true }), /12 digits/);
  assert.equal(await registry.setEnabled('210987654321', false), true);
  assert.equal((await registry.get('Dev Sandbox'))?.enabled, false);
  assert.equal(await registry.setEnabled('999999999999', false), false);
  assert.deepEqual((await registry.list()).map((account) => account.name), ['Dev Sandbox', 'Production']);
  assert.equal(await registry.remove('210987654321'), true);
  assert.equal(await registry.remove('210987654321'), false);
  assert.deepEqual((await registry.list()).map((account) => account.accountId), ['123456789012']);
}

test('the SQLite registry stores, resolves names case-insensitively, disables and removes accounts, and persists', async () => {
  const registry = await createAccountRegistry({ backend: 'sqlite' }, dataDir);
  await exercise(registry, false);
  await registry.close?.();
  const reopened = await createAccountRegistry({ backend: 'sqlite' }, dataDir);
  assert.deepEqual((await reopened.list()).map((account) => account.name), ['Production']);
  await reopened.close?.();
});

test('the DynamoDB registry does the same on the seeds\' table layout in a real DynamoDB-compatible server', async () => {
  const previous = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  process.env.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey;
  try {
    const registry = await createAccountRegistry({ backend: 'dynamodb', tableName: 'central-ops-accounts-dev', endpoint, region: 'us-east-1' }, dataDir);
    await exercise(registry, true);
    await registry.close?.();
  } finally {
    if (previous.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
    else process.env.AWS_ACCESS_KEY_ID = previous.id;
    if (previous.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    else process.env.AWS_SECRET_ACCESS_KEY = previous.secret;
  }
});
