import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger, EmbeddedStore, parseConfig, type Platform, type SqlDatabase } from '@gatehouse/core';
import { TEST_ENGINES, freshDatabase } from '@gatehouse/core/test-postgres';
import { openIdentityDatabase } from '../src/identity-database.ts';
import { SecretBox } from '../src/secret-box.ts';
import { UserStore, UsernameTakenError } from '../src/user-store.ts';
import { KeyStore } from '../src/key-store.ts';
import { TokenStore } from '../src/token-store.ts';
import { CodeStore } from '../src/code-store.ts';
import { GroupStore } from '../src/group-store.ts';
import { AccessKeyStore } from '../src/access-key-store.ts';
import { PerimeterSettings } from '../src/perimeter-settings.ts';
import { bootstrapPools } from '../src/bootstrap-pools.ts';

const SEALING_KEY = 'ab'.repeat(32);

interface Stores {
  readonly database: SqlDatabase;
  readonly users: UserStore;
  readonly keys: KeyStore;
  readonly tokens: TokenStore;
  readonly poolId: string;
  readonly url: string;
  readonly dataDir: string;
}

for (const engine of TEST_ENGINES) {
  describe(`identity stores on ${engine}`, () => {
    const opened: SqlDatabase[] = [];
    after(async () => {
      for (const database of opened) await database.close();
    });
    const open = async (reuse?: { url: string; dataDir: string }): Promise<Stores> => {
      const dataDir = reuse?.dataDir ?? mkdtempSync(path.join(tmpdir(), 'gh-identity-engines-'));
      const url = reuse?.url ?? (await freshDatabase(engine));
      const database = await openIdentityDatabase({ dataDir, database: url });
      opened.push(database);
      const box = await SecretBox.forDatabase(dataDir, database, { GATEHOUSE_STORE_KEY: SEALING_KEY });
      const users = new UserStore(database, Date.now);
      const keys = new KeyStore(database, box, Date.now);
      const platform: Platform = { config: parseConfig({ database: url }), dataDir, baseUrl: 'http://127.0.0.1:1', logger: createLogger({ level: 'silent' }), clock: Date.now, store: new EmbeddedStore() };
      const [pool] = await bootstrapPools(platform, database, users, keys);
      return { database, users, keys, tokens: new TokenStore(database, Date.now), poolId: pool!.id, url, dataDir };
    };
    const newUser = (username: string) => ({ username, passwordHash: 'h', srpSalt: 's', srpVerifier: 'v', status: 'CONFIRMED' as const, attributes: { email: `${username}@example.com`, email_verified: 'true' } });

    test('users: created whole with their groups, found by folded name and verified e-mail, a second of the same name refused', async () => {
      const { users, poolId } = await open();
      const created = await users.createUser(poolId, newUser('Alice'), ['ops-readonly']);
      assert.equal((await users.user(poolId, 'ＡＬＩＣＥ'))?.sub, created.sub);
      assert.equal((await users.findUser(poolId, 'Alice@example.com'))?.username, 'Alice');
      assert.deepEqual(await users.groupsOf(poolId, 'Alice'), ['ops-readonly']);
      await assert.rejects(users.createUser(poolId, newUser('alice')), UsernameTakenError);
      assert.equal(await users.countUsers(poolId), 1);
    });

    test('two concurrent sign-ups of one name: exactly one wins, nothing half-written', async () => {
      const { users, poolId, database } = await open();
      const results = await Promise.allSettled(Array.from({ length: 6 }, () => users.createUser(poolId, newUser('racer'), ['ops-readonly'])));
      assert.equal(results.filter((result) => result.status === 'fulfilled').length, 1);
      assert.ok(results.every((result) => result.status === 'fulfilled' || result.reason instanceof UsernameTakenError), `every loser is told the name is taken: ${results.map((result) => (result.status === 'rejected' ? String(result.reason) : 'ok')).join('; ')}`);
      assert.equal((await database.many("SELECT * FROM group_members WHERE username = 'racer'")).length, 1);
    });

    test('refresh tokens: rotation gives one successor; a replay revokes the family and is queued for publishing', async () => {
      const { tokens, poolId } = await open();
      const first = await tokens.issueRefresh({ family: 'fam-1', poolId, clientId: 'c', username: 'u', scope: 'openid', authTime: 1, expiresAt: Date.now() + 60_000 });
      const rotations = await Promise.all([tokens.rotateRefresh(first), tokens.rotateRefresh(first)]);
      assert.equal(rotations.filter((rotation) => rotation && 'next' in rotation).length, 1, 'only one concurrent rotation succeeds');
      assert.ok(rotations.some((rotation) => rotation && 'reused' in rotation), 'the other is a replay');
      assert.equal(await tokens.isRevokedOrigin('fam-1'), true);
      assert.deepEqual((await tokens.unpublishedRevocations(10)).map((entry) => entry.origin), ['fam-1']);
      const next = rotations.find((rotation) => rotation && 'next' in rotation) as { next: string };
      assert.equal((await tokens.lookupRefresh(next.next)).state, 'invalid');
    });

    test('authorization codes and one-time codes are single-use under concurrency', async () => {
      const { tokens, database, poolId } = await open();
      const code = await tokens.saveCode({ user: 'u' }, 60_000);
      const takes = await Promise.all(Array.from({ length: 5 }, () => tokens.takeCode(code)));
      assert.equal(takes.filter((take) => take.state === 'ok').length, 1);
      const codes = new CodeStore(database, Date.now);
      const sent = await codes.issue(poolId, 'u', 'reset-password', 60_000);
      const checks = await Promise.all(Array.from({ length: 4 }, () => codes.check(poolId, 'u', 'reset-password', sent)));
      assert.deepEqual(checks.filter((check) => check === 'ok').length, 1);
    });

    test('signing keys: private halves sealed at rest, rotation keeps the old public key published, all survives a reopen', async () => {
      const stores = await open();
      const before = await stores.keys.active(stores.poolId, 'access');
      const rows = await stores.database.many<{ private_sealed: string }>('SELECT private_sealed FROM signing_keys');
      assert.ok(rows.length >= 2 && rows.every((row) => !row.private_sealed.includes('PRIVATE KEY')));
      await stores.keys.rotate(stores.poolId);
      const reopened = await open({ url: stores.url, dataDir: stores.dataDir });
      const after = await reopened.keys.active(reopened.poolId, 'access');
      assert.notEqual(after.kid, before.kid);
      assert.ok((await reopened.keys.publicKeys(reopened.poolId)).some((key) => key.kid === before.kid));
    });

    test('groups, access keys and perimeter entries round-trip', async () => {
      const { database, users, poolId, dataDir } = await open();
      const groups = new GroupStore(database, Date.now);
      await groups.create(poolId, 'team', { description: 'd', precedence: 2 });
      assert.equal((await groups.group(poolId, 'team'))?.precedence, 2);
      const accessKeys = new AccessKeyStore(database, await SecretBox.forDatabase(dataDir, database, { GATEHOUSE_STORE_KEY: SEALING_KEY }), Date.now);
      const key = await accessKeys.create('ops');
      assert.equal((await accessKeys.find(key.accessKeyId))?.secretAccessKey, key.secretAccessKey);
      const perimeter = new PerimeterSettings(database, users, Date.now);
      await perimeter.set('gateway:default', 'origin', 'https://app.example.com/path', 'allow');
      const effective = await perimeter.effective('gateway:default', { allowedOrigins: [], allowedClients: ['c1'] });
      assert.ok(effective.origins.has('https://app.example.com'));
      assert.equal(await perimeter.reset('gateway:default', 'origin', 'https://app.example.com'), true);
    });
  });
}

test('PostgreSQL: an instance with another sealing key refuses to start instead of failing on every signature', async () => {
  const url = await freshDatabase('postgres');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gh-identity-keys-'));
  const database = await openIdentityDatabase({ dataDir, database: url });
  try {
    await SecretBox.forDatabase(dataDir, database, { GATEHOUSE_STORE_KEY: SEALING_KEY });
    await assert.rejects(SecretBox.forDatabase(dataDir, database, { GATEHOUSE_STORE_KEY: 'cd'.repeat(32) }), /sealing key is not the one that sealed the signing keys .*GATEHOUSE_STORE_KEY/);
  } finally {
    await database.close();
  }
});
