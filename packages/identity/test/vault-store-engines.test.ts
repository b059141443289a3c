import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { SqlDatabase } from '@gatehouse/core';
import { TEST_ENGINES, freshDatabase } from '@gatehouse/core/test-postgres';
import { openIdentityDatabase } from '../src/identity-database.ts';
import { SecretBox } from '../src/secret-box.ts';
import { VaultStore, type ConsentSession, type TokenKey } from '../src/vault/vault-store.ts';

const SEALING_KEY = 'cd'.repeat(32);
const ALICE = { iss: 'http://127.0.0.1:1/pool-a', sub: 'alice-sub' };
const BOB = { iss: 'http://127.0.0.1:1/pool-a', sub: 'bob-sub' };
const key = (user: typeof ALICE, provider = 'tickets'): TokenKey & { user: typeof ALICE } => ({ workload: 'agent', user, provider, scopes: ['write', 'read', 'read'] });

for (const engine of TEST_ENGINES) {
  describe(`token vault store on ${engine}`, () => {
    const opened: SqlDatabase[] = [];
    after(async () => {
      for (const database of opened) await database.close();
    });
    /** One instance's store: on PostgreSQL each with its own data dir, on SQLite the one data dir they share. */
    const instance = async (shared: { url: string; dataDir: string | undefined }): Promise<{ store: VaultStore; database: SqlDatabase }> => {
      const dataDir = shared.dataDir ?? mkdtempSync(path.join(tmpdir(), 'gh-vault-engines-'));
      const database = await openIdentityDatabase({ dataDir, database: shared.url });
      opened.push(database);
      return { store: new VaultStore(database, await SecretBox.forDatabase(dataDir, database, { GATEHOUSE_STORE_KEY: SEALING_KEY })), database };
    };
    const pair = async () => {
      const url = await freshDatabase(engine);
      const dataDir = engine === 'sqlite' ? mkdtempSync(path.join(tmpdir(), 'gh-vault-engines-')) : undefined;
      return { a: await instance({ url, dataDir }), b: await instance({ url, dataDir }) };
    };

    test('the vault tables come with identity migration 2', async () => {
      const { a } = await pair();
      const identity = (await a.database.status()).filter((entry) => entry.concern === 'identity');
      assert.deepEqual(identity.map((entry) => entry.version), [1, 2]);
      assert.match(identity[1]!.name, /token vault/);
    });

    test('a token stored at one instance is read, listed and taken at the other; sealed at rest', async () => {
      const { a, b } = await pair();
      const expiresAt = Date.now() + 3_600_000;
      await a.store.putToken(key(ALICE), { accessToken: 'saas-access-alice', refreshToken: 'saas-refresh-alice', expiresAt }, Date.now());
      // the scopes are one set whatever their order and repeats
      assert.deepEqual(await b.store.token({ ...key(ALICE), scopes: ['read', 'write'] }), { accessToken: 'saas-access-alice', refreshToken: 'saas-refresh-alice', expiresAt });
      assert.equal(await b.store.token(key(BOB)), undefined, 'bob has no token of alice’s');
      assert.deepEqual(await b.store.connections(ALICE), [{ workload: 'agent', provider: 'tickets', scopes: ['read', 'write'], expiresAt }]);
      const raw = await a.database.many<{ sealed: string }>('SELECT sealed FROM vault_tokens');
      assert.equal(raw.length, 1);
      assert.doesNotMatch(raw[0]!.sealed, /saas-access|saas-refresh/);

      // a sealed value copied into another user's row does not open there
      await a.store.putToken(key(BOB), { accessToken: 'saas-access-bob' }, Date.now());
      await a.database.run('UPDATE vault_tokens SET sealed = ? WHERE user_sub = ?', [raw[0]!.sealed, BOB.sub]);
      assert.equal(await b.store.token(key(BOB)), undefined);

      const taken = await b.store.takeTokens(ALICE);
      assert.deepEqual(taken.map((entry) => [entry.provider, entry.token.accessToken]), [['tickets', 'saas-access-alice']]);
      assert.equal(await a.store.token(key(ALICE)), undefined, 'taken at B: gone at A');
      assert.deepEqual(await a.store.connections(ALICE), []);
    });

    test('a consent session started at one instance is found by state and completed at the other; expired ones are swept', async () => {
      const { a, b } = await pair();
      const now = Date.now();
      const session: ConsentSession = {
        sessionUri: 'urn:ietf:params:oauth:request_uri:one', key: key(ALICE), authorizationUrl: 'https://saas.example/authorize?x=1', codeVerifier: 'verifier-secret',
        returnUrl: 'https://app.example/done', status: 'IN_PROGRESS', expiresAt: now + 600_000,
      };
      await a.store.putSession(session, 'state-secret');
      assert.deepEqual(await b.store.sessionByState('state-secret', now), session);
      assert.equal(await b.store.sessionByState('another-state', now), undefined);
      assert.deepEqual(await b.store.latestSession(key(ALICE), now), session);
      await b.store.updateSession({ ...session, status: 'AWAITING_USER', token: { accessToken: 'from-callback' } });
      assert.equal((await a.store.session(session.sessionUri, now))?.status, 'AWAITING_USER');
      const raw = await a.database.one<{ sealed: string; state_hash: string }>('SELECT sealed, state_hash FROM vault_sessions');
      assert.doesNotMatch(`${raw?.sealed} ${raw?.state_hash}`, /verifier-secret|state-secret|from-callback/);

      await a.store.putSession({ ...session, sessionUri: 'urn:ietf:params:oauth:request_uri:old', expiresAt: now - 1 }, 'old-state');
      assert.equal(await b.store.session('urn:ietf:params:oauth:request_uri:old', now), undefined, 'an expired session is not handed out');
      await b.store.sweep(now);
      assert.equal((await a.database.many('SELECT session_uri FROM vault_sessions')).length, 1, 'the expired session is deleted, the live one kept');
      await a.store.deleteSession(session.sessionUri);
      assert.equal(await b.store.session(session.sessionUri, now), undefined);
    });
  });
}
