import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { temporaryDirectory } from '@gatehouse/testing/temporary-directory';
import { createAccountRegistry, type AccountRegistry } from '../src/index.ts';
import { DYNALITE_CREDENTIALS, startAccountsTable, type AccountsTable } from './support/accounts-table.ts';

const dataDir = temporaryDirectory('gatehouse-registry-');
let table: AccountsTable;

before(async () => {
  table = await startAccountsTable('central-ops-accounts-dev', [
    { account_id: { S: '123456789012' }, name: { S: 'Production' }, environment: { S: 'prod' }, enabled: { BOOL: true } },
  ]);
});
after(() => table.close());

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
  process.env.AWS_ACCESS_KEY_ID = DYNALITE_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = DYNALITE_CREDENTIALS.secretAccessKey;
  try {
    const registry = await createAccountRegistry({ backend: 'dynamodb', tableName: 'central-ops-accounts-dev', endpoint: table.endpoint, region: 'us-east-1' }, dataDir);
    await exercise(registry, true);
    await registry.close?.();
  } finally {
    if (previous.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
    else process.env.AWS_ACCESS_KEY_ID = previous.id;
    if (previous.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    else process.env.AWS_SECRET_ACCESS_KEY = previous.secret;
  }
});
