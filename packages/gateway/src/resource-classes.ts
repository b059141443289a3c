// Which tools the policies cannot tell apart. A tool's signature is the value of exactly what the
// policies can read of it (its scope tests, `resource.<attr>` comparisons and values, `resource ==`
// and `resource in` an entity); tools with equal signatures get the same decision for the same
// caller and action, so a tools/list evaluates Cedar once per class instead of once per tool.
import { policySetTextToParts, policyToJson } from '@cedar-policy/cedar-wasm/nodejs';
import type { PolicyResource } from './policy-engine.ts';
import { isVariable, walkCedarExpression } from './cedar-expression-walk.ts';

/** What the policies can distinguish of a tool; equal strings ⇒ equal decisions. */
export type ResourceSignature = (resource: PolicyResource) => string;

type Attribute = 'name' | 'target' | 'tool' | 'readOnly';
const ATTRIBUTES: ReadonlySet<string> = new Set<Attribute>(['name', 'target', 'tool', 'readOnly']);
const TOOL_TYPE = 'Gatehouse::Tool';
const TARGET_TYPE = 'Gatehouse::Target';

interface EntityRef {
  readonly type: string;
  readonly id: string;
}

/** What the policies read of a resource: boolean tests (keyed for de-duplication) and attributes read whole. */
interface ResourceReads {
  readonly tests: Map<string, (resource: PolicyResource) => boolean>;
  readonly attributes: Set<Attribute>;
}

/** Fail-safe signature: the tool itself (one Cedar evaluation per tool, as without classes). */
export function perToolSignature(resource: PolicyResource): string {
  return `T${JSON.stringify([resource.name, resource.target, resource.tool, resource.readOnly])}`;
}

/**
 * The signature function for a policy set. Any policy shape not fully understood (templates, a
 * resource used other than as listed in the file header, JSON that does not parse) gives the
 * per-tool signature for every tool.
 */
export function resourceSignature(text: string): ResourceSignature {
  const reads = policiesReadResource(text);
  if (!reads) return perToolSignature;
  const tests = [...reads.tests.values()];
  const attributes = [...reads.attributes].sort();
  return (resource) => {
    let signature = 'S';
    for (const test of tests) signature += test(resource) ? '1' : '0';
    return attributes.length === 0 ? signature : `${signature}${JSON.stringify(attributes.map((attribute) => resource[attribute]))}`;
  };
}

function policiesReadResource(text: string): ResourceReads | undefined {
  const parts = policySetTextToParts(text);
  if (parts.type !== 'success' || parts.policy_templates.length > 0) return undefined;
  const reads: ResourceReads = { tests: new Map(), attributes: new Set() };
  for (const policy of parts.policies) {
    const json = policyToJson(policy);
    if (json.type !== 'success') return undefined;
    const { resource, conditions } = json.json as { resource?: unknown; conditions?: unknown };
    if (!readScope(resource, reads) || !readConditions(conditions ?? [], reads)) return undefined;
  }
  return reads;
}

/** `resource in E`: E is the tool itself or its target (the tool's only parent); anything else is never an ancestor. */
function addMembership(entity: EntityRef, reads: ResourceReads): void {
  reads.tests.set(`in\u0000${entity.type}\u0000${entity.id}`, (resource) =>
    entity.type === TOOL_TYPE ? resource.name === entity.id : entity.type === TARGET_TYPE && resource.target === entity.id);
}

function addEquality(entity: EntityRef, reads: ResourceReads): void {
  reads.tests.set(`==\u0000${entity.type}\u0000${entity.id}`, (resource) => entity.type === TOOL_TYPE && resource.name === entity.id);
}

function entityRef(value: unknown): EntityRef | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { type, id } = value as { type?: unknown; id?: unknown };
  return typeof type === 'string' && typeof id === 'string' ? { type, id } : undefined;
}

/** The policy's resource scope: `All`, `== E`, `in E`, `is T`, `is T in E`; slots or unknown shapes fail. */
function readScope(scope: unknown, reads: ResourceReads): boolean {
  const { op, entity, entity_type: entityType, in: within } = (scope ?? {}) as { op?: unknown; entity?: unknown; entity_type?: unknown; in?: { entity?: unknown } };
  if (op === 'All') return true;
  if (op === '==' || op === 'in') {
    const ref = entityRef(entity);
    if (!ref) return false;
    if (op === '==') addEquality(ref, reads);
    else addMembership(ref, reads);
    return true;
  }
  if (op !== 'is' || typeof entityType !== 'string') return false;
  // every resource is a Gatehouse::Tool: the type test is the same for all of them
  if (within === undefined) return true;
  const ref = entityRef(within.entity);
  if (!ref) return false;
  addMembership(ref, reads);
  return true;
}

function isResourceVar(node: unknown): boolean {
  return isVariable(node, 'resource');
}

/** `resource.<known attribute>` → that attribute; undefined otherwise. */
function resourceAttribute(node: unknown): Attribute | undefined {
  const access = (node as { '.'?: { left?: unknown; attr?: unknown } } | null)?.['.'];
  if (!access || !isResourceVar(access.left) || typeof access.attr !== 'string' || !ATTRIBUTES.has(access.attr)) return undefined;
  return access.attr as Attribute;
}

/** An entity literal `{"Value": {"__entity": …}}`. */
function entityLiteral(node: unknown): EntityRef | undefined {
  const value = (node as { Value?: unknown } | null)?.Value;
  return typeof value === 'object' && value !== null ? entityRef((value as { __entity?: unknown }).__entity) : undefined;
}

/** The entities of `E` or `[E1, E2, …]` (literals only); undefined when anything else. */
function entityLiterals(node: unknown): EntityRef[] | undefined {
  const single = entityLiteral(node);
  if (single) return [single];
  const set = (node as { Set?: unknown } | null)?.Set;
  if (!Array.isArray(set)) return undefined;
  const refs = set.map(entityLiteral);
  return refs.every((ref) => ref !== undefined) ? (refs as EntityRef[]) : undefined;
}

/** `resource.attr like "…"`: the match result is all the policy reads. */
function readLike(operand: { left?: unknown; pattern?: unknown }, reads: ResourceReads): boolean {
  const attribute = resourceAttribute(operand.left);
  const pattern = parsePattern(operand.pattern);
  if (!attribute || !pattern) return false;
  reads.tests.set(`like\u0000${attribute}\u0000${JSON.stringify(operand.pattern)}`, (resource) => matchesPattern(pattern, String(resource[attribute])));
  return true;
}

/** `resource.attr == <scalar>` (either side) or `resource == <entity>`. */
function readEquality(operand: { left?: unknown; right?: unknown }, reads: ResourceReads): boolean {
  for (const [side, other] of [[operand.left, operand.right], [operand.right, operand.left]]) {
    const attribute = resourceAttribute(side);
    const value = (other as { Value?: unknown } | null)?.Value;
    if (attribute && (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number')) {
      reads.tests.set(`=\u0000${attribute}\u0000${JSON.stringify(value)}`, (resource) => resource[attribute] === value);
      return true;
    }
    const entity = isResourceVar(side) ? entityLiteral(other) : undefined;
    if (entity) {
      addEquality(entity, reads);
      return true;
    }
  }
  return false;
}

/** `resource in E`, `resource in [E…]`, `resource is T`, `resource is T in E`. */
function readMembership(operator: 'in' | 'is', operand: { left?: unknown; right?: unknown; in?: unknown }, reads: ResourceReads): boolean {
  if (!isResourceVar(operand.left)) return false;
  if (operator === 'is' && operand.in === undefined) return true;
  const entities = entityLiterals(operator === 'in' ? operand.right : operand.in);
  if (!entities) return false;
  for (const entity of entities) addMembership(entity, reads);
  return true;
}

/** One node the walk recognizes as a whole; false = look at its children. */
function readKnownShape(record: Record<string, unknown>, reads: ResourceReads): boolean {
  if (resourceAttribute(record)) {
    reads.attributes.add(resourceAttribute(record)!);
    return true;
  }
  const has = record.has as { left?: unknown } | undefined;
  // every tool has every attribute: `resource has …` is the same for all of them
  if (has && isResourceVar(has.left)) return true;
  if (record.like && readLike(record.like as { left?: unknown; pattern?: unknown }, reads)) return true;
  for (const operator of ['==', '!='] as const) if (record[operator] && readEquality(record[operator] as { left?: unknown; right?: unknown }, reads)) return true;
  for (const operator of ['in', 'is'] as const) if (record[operator] && readMembership(operator, record[operator] as { left?: unknown; right?: unknown }, reads)) return true;
  return false;
}

/** A `resource` in any shape not recognized fails (core of the walk: cedar-expression-walk). */
function readConditions(root: unknown, reads: ResourceReads): boolean {
  return walkCedarExpression(root, 'resource', (record) => (readKnownShape(record, reads) ? 'understood' : 'look-inside'));
}

/** Cedar's `like` pattern (JSON: "Wildcard" or {"Literal": char}) as the literal runs between wildcards. */
function parsePattern(pattern: unknown): string[] | undefined {
  if (!Array.isArray(pattern)) return undefined;
  const runs = [''];
  for (const element of pattern) {
    if (element === 'Wildcard') runs.push('');
    else if (typeof (element as { Literal?: unknown } | null)?.Literal === 'string') runs[runs.length - 1] += (element as { Literal: string }).Literal;
    else return undefined;
  }
  return runs;
}

/** Glob match with `*` only: first run a prefix, last a suffix, the others leftmost in order between. */
export function matchesPattern(runs: readonly string[], text: string): boolean {
  if (runs.length === 1) return text === runs[0];
  const first = runs[0]!;
  const last = runs[runs.length - 1]!;
  if (text.length < first.length + last.length || !text.startsWith(first) || !text.endsWith(last)) return false;
  const end = text.length - last.length;
  let position = first.length;
  for (const run of runs.slice(1, -1)) {
    const found = text.indexOf(run, position);
    if (found < 0 || found + run.length > end) return false;
    position = found + run.length;
  }
  return true;
}
