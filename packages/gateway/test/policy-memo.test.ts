// Cedar decisions are memoized per what the policies can read of the caller. Two users with the
// same client, groups and scopes share decisions only while no policy can tell them apart.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_POLICIES, PolicyEngine, type PolicyResource } from '../src/policy-engine.ts';
import { policyCaller } from './support/policy-caller.ts';

const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-policy-memo-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));
let files = 0;
const engine = (text: string): PolicyEngine => PolicyEngine.open(path.join(dataDir, `p${++files}.cedar`), 'ENFORCE', text);

const caller = policyCaller;
const tool = (name: string): PolicyResource => ({ name: `fs___${name}`, target: 'fs', tool: name, readOnly: false });
const tools = Array.from({ length: 50 }, (_, index) => tool(index % 5 === 0 ? `file_${index}_put` : `file_${index}_list`));

test('with the default policy a new user with the same groups lists without any Cedar evaluation, and sees the same tools', () => {
  const policies = engine(DEFAULT_POLICIES);
  const first = tools.filter((resource) => policies.decide(caller('alice'), 'list', resource).allowed).map((resource) => resource.name);
  const evaluated = policies.evaluations;
  assert.equal(evaluated, 2, 'the first caller evaluates once per class of tool (*_put and the rest), not per tool');
  const second = tools.filter((resource) => policies.decide(caller('bob'), 'list', resource).allowed).map((resource) => resource.name);
  assert.equal(policies.evaluations, evaluated, 'bob reused alice’s decisions');
  assert.deepEqual(second, first);
  assert.equal(first.length, 40, 'the *_put tools stay hidden for ops-readonly');
  // positive control: a caller in another group is evaluated afresh and sees the write tools
  const writer = tools.filter((resource) => policies.decide(caller('carol', ['ops-readwrite']), 'list', resource).allowed);
  assert.equal(policies.evaluations, evaluated + 2);
  assert.equal(writer.length, tools.length);
});

test('a policy that names a user by username keeps decisions per user: a memo never lends one user’s permit to another', () => {
  const policies = engine(`permit (principal, action, resource) when { principal.username == "alice" };`);
  assert.equal(policies.decide(caller('alice'), 'call', tool('file_1_list')).allowed, true);
  assert.equal(policies.decide(caller('bob'), 'call', tool('file_1_list')).allowed, false);
  assert.equal(policies.decide(caller('bob'), 'list', tool('file_1_list')).allowed, false);
  assert.equal(policies.evaluations, 3);
});

test('a policy whose scope is one user keeps decisions per user', () => {
  const policies = engine(`permit (principal == Gatehouse::User::"https://issuer.test|alice", action, resource);`);
  assert.equal(policies.decide(caller('alice'), 'list', tool('file_1_list')).allowed, true);
  assert.equal(policies.decide(caller('bob'), 'list', tool('file_1_list')).allowed, false);
});

test('policies that read sub in a condition, or compare the principal entity, keep decisions per user', () => {
  for (const text of [
    `permit (principal, action, resource) when { principal.sub like "ali*" };`,
    `permit (principal, action, resource) when { principal == Gatehouse::User::"https://issuer.test|alice" };`,
    `permit (principal, action, resource) when { principal in Gatehouse::User::"https://issuer.test|alice" };`,
    `permit (principal, action, resource) unless { [principal].contains(Gatehouse::User::"https://issuer.test|bob") };`,
  ]) {
    const policies = engine(text);
    assert.equal(policies.decide(caller('alice'), 'list', tool('file_1_list')).allowed, true, text);
    assert.equal(policies.decide(caller('bob'), 'list', tool('file_1_list')).allowed, false, text);
  }
});

test('group, scope and client conditions share decisions across users and still decide by those attributes', () => {
  const policies = engine(`permit (principal in Gatehouse::Group::"ops", action, resource) when { principal.scopes.contains("openid") && principal.client == "client-1" && principal has sub };`);
  assert.equal(policies.decide(caller('alice', ['ops']), 'list', tool('file_1_list')).allowed, true);
  assert.equal(policies.decide(caller('bob', ['ops']), 'list', tool('file_1_list')).allowed, true);
  assert.equal(policies.evaluations, 1, 'bob shares alice’s decision');
  assert.equal(policies.decide(caller('dave', ['other']), 'list', tool('file_1_list')).allowed, false);
  assert.equal(policies.decide({ ...caller('erin', ['ops']), clientId: 'client-2' }, 'list', tool('file_1_list')).allowed, false);
  assert.equal(policies.evaluations, 3);
});

test('the caller key that also keys visible tool lists is shared only while no policy can tell the users apart', () => {
  const shared = engine(DEFAULT_POLICIES);
  assert.equal(shared.callerKey(caller('alice')), shared.callerKey(caller('bob')), 'the default policy reads groups, not users');
  assert.notEqual(shared.callerKey(caller('alice')), shared.callerKey(caller('alice', ['ops-readwrite'])), 'another group is another list');
  assert.notEqual(shared.callerKey(caller('alice')), shared.callerKey({ ...caller('alice'), clientId: 'client-2' }), 'another client is another list');
  const perUser = engine(`permit (principal, action, resource) when { principal.username == "alice" };`);
  assert.notEqual(perUser.callerKey(caller('alice')), perUser.callerKey(caller('bob')), 'a user-naming policy keeps lists per user');
});
