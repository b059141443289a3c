// Writes accounts the way `gatehouse accounts add` does (registry.put, then the acknowledgement),
// as fast as it can, until it is killed. Prints "ack <accountId>" only after put() resolved.
import { parseConfig } from '@gatehouse/core';
import { createAccountRegistry, parseAccount } from '@gatehouse/tools';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: account-writer.ts <dataDir>');
const registry = await createAccountRegistry(parseConfig({}, 'account writer').tools.registry, dataDir);
process.stdout.write('ready\n');
for (let index = 0; ; index++) {
  const accountId = String(100_000_000_000 + index);
  await registry.put(parseAccount({ accountId, name: `Account ${index}`, environment: 'crash-test', region: 'eu-west-1', externalId: `ext-${index}`, enabled: true }));
  process.stdout.write(`ack ${accountId}\n`);
}
