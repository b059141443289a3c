// Tools the policies cannot tell apart share one Cedar evaluation per caller. Differential: for
// varied policies, decisions with resource classes equal those of one real Cedar evaluation per tool.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_POLICIES, PolicyEngine, type PolicyResource } from '../src/policy-engine.ts';
import { matchesPattern } from '../src/resource-classes.ts';
import type { CatalogTool, ToolCatalog } from '../src/tool-catalog.ts';
import { ToolDispatcher, type DispatcherDeps } from '../src/tool-dispatcher.ts';
import { policyCaller } from './support/policy-caller.ts';

const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-policy-classes-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));
let files = 0;
const open = (text: string): PolicyEngine => PolicyEngine.open(path.join(dataDir, `p${++files}.cedar`), 'ENFORCE', text);

const caller = policyCaller;
const CALLERS = [caller('alice', ['ops-readonly']), caller('bob', ['ops-readwrite']), caller('carol', []), caller('dave', ['ops-readonly'], 'client-2'), caller('erin', ['auditors', 'ops-readwrite'])];

const TARGETS = ['fs', 'db', 'web', 'mail'];
const SUFFIXES = ['list', 'get', 'put', 'delete', 'write', 'search', 'put_all'];
const tool = (target: string, name: string, readOnly: boolean): PolicyResource => ({ name: `${target}___${name}`, target, tool: name, readOnly });
const TOOLS: PolicyResource[] = Array.from({ length: 52 }, (_, index) => tool(TARGETS[index % 4]!, `item_${index}_${SUFFIXES[index % 7]}`, index % 3 === 0));

const POLICIES: Record<string, string> = {
  default: DEFAULT_POLICIES,
  'per-tool forbid': `${DEFAULT_POLICIES}\nforbid (principal, action, resource == Gatehouse::Tool::"db___item_1_get");\nforbid (principal, action == Gatehouse::Action::"call", resource in Gatehouse::Tool::"fs___item_4_list");`,
  'target-level permit': `permit (principal in Gatehouse::Group::"ops-readwrite", action, resource in Gatehouse::Target::"web");\npermit (principal, action, resource is Gatehouse::Tool in Gatehouse::Target::"mail") when { principal.client == "client-1" };`,
  'readOnly condition': `permit (principal, action, resource) when { resource.readOnly == true || principal in Gatehouse::Group::"ops-readwrite" };\nforbid (principal, action, resource) when { resource has readOnly && !resource.readOnly && resource.target != "fs" && principal.client == "client-2" };`,
  'name like': `permit (principal, action, resource) when { resource.name like "db___*" || resource.name like "*_1*_get" || resource.tool like "item_2\\**" };\npermit (principal in Gatehouse::Group::"auditors", action, resource) unless { resource.name like "*put*" };`,
  'resource == Tool inside when': `permit (principal, action, resource) when { resource == Gatehouse::Tool::"web___item_2_put" || resource in [Gatehouse::Target::"fs", Gatehouse::Tool::"mail___item_3_delete"] || resource is Gatehouse::Tool in Gatehouse::Target::"db" };`,
  'attribute read whole': `permit (principal, action, resource) when { resource.target == principal.client || resource.target == "db" && principal.username == "alice" || (if resource.readOnly then "r" else "w") == "r" };`,
  'has on a record built from the resource': `permit (principal, action, resource) when { (if resource.name like "*_9*" then { a: 1 } else { b: 1 }) has a || principal has groups && resource has tool && principal.groups.contains("ops-readwrite") };`,
  'unknown shape (resource compared with principal)': `permit (principal, action, resource) unless { [resource].contains(Gatehouse::Tool::"fs___item_0_list") || resource == principal };`,
  'unknown attribute': `permit (principal, action, resource) unless { resource.owner == "x" };\npermit (principal in Gatehouse::Group::"ops-readonly", action, resource);`,
};

/** Reasons are a set: Cedar reports them in no fixed order. */
const decisions = (policies: PolicyEngine, action: 'list' | 'call'): string[] =>
  CALLERS.flatMap((who) => TOOLS.map((resource) => {
    const decision = policies.decide(who, action, resource);
    // a memoized list decision carries no reasons (only whether the tool is visible)
    const reasons = action === 'call' ? [...decision.policies].sort().join(',') : '';
    return `${who.subject} ${resource.name} ${String(decision.allowed)} ${reasons}`;
  }));

test('list and call decisions with resource classes equal one Cedar evaluation per tool, for varied policies and callers', () => {
  for (const [label, text] of Object.entries(POLICIES)) {
    const classes = open(text);
    const perTool = open(text);
    perTool.resourceClasses = false;
    const reference = decisions(perTool, 'list');
    for (const action of ['list', 'call'] as const) assert.deepEqual(decisions(classes, action), action === 'list' ? reference : decisions(perTool, action), `${label}: ${action}`);
    // the whole-catalog form tools/list uses, on a fresh engine (no memo from the loop above)
    const batch = open(text);
    const visible = CALLERS.flatMap((who) => batch.visible(who, TOOLS).map((allowed, index) => `${who.subject} ${TOOLS[index]!.name} ${String(allowed)} `));
    assert.deepEqual(visible, reference, `${label}: visible()`);
    assert.equal(perTool.evaluations, 2 * CALLERS.length * TOOLS.length, `${label}: the reference evaluates every tool`);
    const distinct = new Set(TOOLS.map((resource) => classes.resourceClass(resource))).size;
    if (label.startsWith('unknown')) {
      assert.equal(distinct, TOOLS.length, `${label}: a shape not understood falls back to one class per tool`);
      assert.equal(classes.evaluations, perTool.evaluations, label);
    } else {
      assert.ok(distinct < TOOLS.length / 2, `${label}: ${distinct} classes for ${TOOLS.length} tools`);
      assert.ok(classes.evaluations <= 2 * CALLERS.length * distinct, `${label}: ${classes.evaluations} evaluations`);
    }
  }
});

test('the default policy sees two classes of tool (writes and the rest): a never-seen caller lists 1,000 tools with 2 evaluations', () => {
  const policies = open(DEFAULT_POLICIES);
  const many = Array.from({ length: 1000 }, (_, index) => tool(TARGETS[index % 4]!, index % 10 === 0 ? `bucket_${index}_put` : `tool_${index}_list`, false));
  const visible = many.filter((resource) => policies.decide(caller('frank', ['never-seen-group']), 'list', resource).allowed);
  assert.equal(policies.evaluations, 2, 'one evaluation per class, not per tool');
  assert.equal(visible.length, 900, 'the *_put tools stay hidden');
  const writer = many.filter((resource) => policies.decide(caller('gina', ['ops-readwrite']), 'list', resource).allowed);
  assert.equal(writer.length, 1000);
  assert.equal(policies.evaluations, 4);
});

test('editing the policy file rebuilds the classes: a per-tool forbid splits its tool off', async () => {
  const file = path.join(dataDir, 'edited.cedar');
  const policies = PolicyEngine.open(file, 'ENFORCE', DEFAULT_POLICIES);
  const alice = CALLERS[0]!;
  const [first, second] = [TOOLS[0]!, TOOLS[1]!]; // *_list and *_get
  assert.equal(policies.resourceClass(first), policies.resourceClass(second), 'two read tools are alike under the default policy');
  assert.equal(policies.decide(alice, 'list', second).allowed, true);
  writeFileSync(file, `${DEFAULT_POLICIES}\nforbid (principal, action, resource == Gatehouse::Tool::"${second.name}");\n`);
  const later = new Date(Date.now() + 5000);
  utimesSync(file, later, later);
  await new Promise((resolve) => setTimeout(resolve, 1100)); // the file is checked at most once a second
  assert.equal(policies.decide(alice, 'list', second).allowed, false, 'the edit applies to a class decided before it');
  assert.equal(policies.decide(alice, 'list', first).allowed, true);
  assert.notEqual(policies.resourceClass(first), policies.resourceClass(second), 'the forbidden tool is a class of its own');
});

test('LOG_ONLY lets every class through while still counting the evaluations it records', () => {
  const file = path.join(dataDir, 'log-only.cedar');
  const policies = PolicyEngine.open(file, 'LOG_ONLY', DEFAULT_POLICIES);
  const put = TOOLS.find((resource) => resource.tool.endsWith('_put'))!;
  const decision = policies.decide(CALLERS[2]!, 'call', put);
  assert.equal(decision.allowed, true);
  assert.equal(decision.enforced, false);
  assert.equal(TOOLS.every((resource) => policies.decide(CALLERS[2]!, 'list', resource).allowed), true);
  const classes = new Set(TOOLS.map((resource) => policies.resourceClass(resource))).size;
  assert.equal(classes, 4, 'writes by *_put, *_delete, *_write, and the rest');
  assert.equal(policies.evaluations, 1 + classes, 'the call, then one list evaluation per class');
});

test('the like matcher follows Cedar: * matches any run, escaped stars are literal, everything else is exact', () => {
  assert.equal(matchesPattern(['', '_put'], 'a_put'), true);
  assert.equal(matchesPattern(['', '_put'], '_pu'), false);
  assert.equal(matchesPattern(['ab', 'ba'], 'aba'), false, 'prefix and suffix may not overlap');
  assert.equal(matchesPattern(['a', 'b', 'c'], 'axbyc'), true);
  assert.equal(matchesPattern(['a', 'b', 'c'], 'acb'), false);
  assert.equal(matchesPattern(['x*y'], 'x*y'), true);
  assert.equal(matchesPattern(['x*y'], 'xzy'), false);
  assert.equal(matchesPattern(['', ''], ''), true);
});

test('calls share a class decision while no policy reads context, and are evaluated per call once one does', () => {
  const [first, second] = [TOOLS[0]!, TOOLS[28]!]; // fs___item_0_list and fs___item_28_list: one class
  const plain = open(DEFAULT_POLICIES);
  assert.equal(plain.decide(CALLERS[0]!, 'call', first, { path: '/a' }).allowed, true);
  assert.equal(plain.decide(CALLERS[0]!, 'call', second, { path: '/b' }).allowed, true);
  assert.equal(plain.evaluations, 1, 'the second tool of the class reuses the first one’s decision');
  const readsContext = open(`permit (principal, action, resource) when { resource.target == "fs" && context.arguments has path && context.arguments.path == "/a" };`);
  assert.equal(readsContext.decide(CALLERS[0]!, 'call', first, { path: '/a' }).allowed, true);
  assert.equal(readsContext.decide(CALLERS[0]!, 'call', second, { path: '/b' }).allowed, false, 'another argument, same class: decided afresh');
  assert.equal(readsContext.evaluations, 2);
  assert.equal(readsContext.decide(CALLERS[0]!, 'call', second, { path: '/a' }).allowed, true, 'the same class with the permitted argument');
});

test('tools/list through the dispatcher: callers who see the same tools share one list array, built with one evaluation per class', async () => {
  const policy = open(DEFAULT_POLICIES);
  const catalogTools: CatalogTool[] = TOOLS.map((resource) => ({ ...resource, definition: { name: resource.name, inputSchema: { type: 'object' } } }));
  // only `tools()` is reached by tools/list; the rest of the dependencies are for tools/call
  const catalog = { tools: async () => catalogTools } as unknown as ToolCatalog;
  const dispatcher = new ToolDispatcher({ gatewayName: 'g', resourceUrl: 'http://127.0.0.1/', catalog, policy, now: Date.now } as unknown as DispatcherDeps);
  const signal = new AbortController().signal;
  const first = await dispatcher.visibleTools(caller('hana', ['never-seen-1']), signal);
  assert.equal(policy.evaluations, 4, 'one evaluation per class (writes by *_put, *_delete, *_write, and the rest)');
  const second = await dispatcher.visibleTools(caller('ivan', ['never-seen-2']), signal);
  assert.equal(policy.evaluations, 8);
  assert.equal(second, first, 'same tools visible: the same array (and so the same serialized answer)');
  assert.deepEqual(first.map((tool) => tool.name), TOOLS.filter((resource) => !/_(put|delete|write)$/.test(resource.tool)).map((resource) => resource.name));
  const writer = await dispatcher.visibleTools(caller('jack', ['ops-readwrite']), signal);
  assert.equal(writer.length, TOOLS.length);
  assert.equal((await dispatcher.listTools(caller('kim', ['never-seen-3']), signal)).length, first.length + 1, 'plus the search tool');
});
