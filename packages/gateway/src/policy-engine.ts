import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { checkParsePolicySet, policySetTextToParts, policyToJson, preparsePolicySet, statefulIsAuthorized, type CedarValueJson, type EntityJson } from '@cedar-policy/cedar-wasm/nodejs';
import type { Caller } from './caller.ts';
import { perToolSignature, resourceSignature, type ResourceSignature } from './resource-classes.ts';
import { isVariable, walkCedarExpression } from './cedar-expression-walk.ts';

export type PolicyAction = 'list' | 'call';

export interface PolicyDecision {
  readonly allowed: boolean;
  /** Policy ids that decided (the permits that allowed, or the forbids that denied); empty = default deny. */
  readonly policies: readonly string[];
  /** ENFORCE or LOG_ONLY: in LOG_ONLY a deny is recorded but the call goes ahead. */
  readonly enforced: boolean;
  /** Set when Cedar could not evaluate the request (it then denies): Cedar's own words, for the server log only. */
  readonly failure?: string;
}

/**
 * Written on a gateway's first start to `{dataDir}/policies/{gateway}.cedar`; the user edits it.
 * Read tools for everyone who is signed in, writes only for `ops-readwrite`.
 */
export const DEFAULT_POLICIES = `// Gatehouse gateway policy (Cedar). Edit freely; the gateway reloads this file when it changes.
// principal: Gatehouse::User::"<sub>" { sub, username, client, groups: Set<String>, scopes: Set<String> },
//            member of Gatehouse::Group::"<group>" for each of its groups
// action:    Gatehouse::Action::"list" (tools/list visibility) or Gatehouse::Action::"call" (tools/call)
// resource:  Gatehouse::Tool::"<target>___<tool>" { name, target, tool, readOnly }, member of Gatehouse::Target::"<target>"
// context:   { arguments: <the call's arguments> } (empty for list)
// Anything not permitted is denied; forbid beats permit.

@id("signed-in-users-use-tools")
permit (principal, action in [Gatehouse::Action::"list", Gatehouse::Action::"call"], resource)
unless { resource.tool like "*_put" || resource.tool like "*_delete" || resource.tool like "*_write" };

@id("ops-readwrite-may-write")
permit (principal in Gatehouse::Group::"ops-readwrite", action in [Gatehouse::Action::"list", Gatehouse::Action::"call"], resource);
`;

export interface PolicyResource {
  readonly name: string;
  readonly target: string;
  readonly tool: string;
  readonly readOnly: boolean;
}

let setCounter = 0;

/**
 * Cedar over the gateway's tools. The policy text is parsed once into cedar-wasm's preparsed cache
 * and re-parsed only when the file's mtime changes; decisions for `list` are memoized per
 * caller attributes and resource class (resource-classes.ts: tools the policies cannot tell apart)
 * until the policy changes, so a 1,000-tool list costs one evaluation per class, not per tool.
 */
export class PolicyEngine {
  readonly file: string;
  readonly mode: 'ENFORCE' | 'LOG_ONLY';
  #setId = '';
  #mtimeMs = -1;
  #lastCheck = 0;
  #listCache = new Map<string, boolean>();
  /** `call` decisions per caller attributes and tool, kept only while no policy reads `context`. */
  #callCache = new Map<string, PolicyDecision>();
  #readsContext = true;
  /** Whether any policy can tell two callers with the same client, groups and scopes apart (their sub, username or uid). */
  #readsIdentity = true;
  /** What the policies can tell apart of a tool (resource-classes.ts); rebuilt with the policy set. */
  #signature: ResourceSignature = perToolSignature;
  #reported: string | undefined;
  readonly #onReloadProblem: (message: string) => void;
  /** Bumped whenever the policy set is re-parsed, so callers can key memos on it. */
  version = 0;
  /** Cedar evaluations so far (memo misses): what the memo saves is measured by it. */
  evaluations = 0;
  /** False: one Cedar evaluation per tool, as without resource classes (for comparing the two). */
  resourceClasses = true;

  constructor(file: string, mode: 'ENFORCE' | 'LOG_ONLY', onReloadProblem: (message: string) => void = () => undefined) {
    this.file = file;
    this.mode = mode;
    this.#onReloadProblem = onReloadProblem;
  }

  /**
   * Writes the default policy when absent, then parses; a file that does not parse refuses to start.
   * Later, a file that vanishes or does not parse keeps the last good set and is told to `onReloadProblem`.
   */
  static open(file: string, mode: 'ENFORCE' | 'LOG_ONLY', defaultText = DEFAULT_POLICIES, onReloadProblem?: (message: string) => void): PolicyEngine {
    if (!existsSync(file)) {
      mkdirSync(path.dirname(file), { recursive: true });
      try {
        writeFileSync(file, defaultText, { flag: 'wx', mode: 0o644 });
      } catch (error) {
        // another instance sharing the data dir wrote it first: use theirs
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    const engine = new PolicyEngine(file, mode, onReloadProblem);
    engine.#reload(true);
    return engine;
  }

  #reload(force: boolean): void {
    const now = Date.now();
    if (!force && now - this.#lastCheck < 1000) return;
    this.#lastCheck = now;
    let mtimeMs: number;
    let text: string;
    try {
      mtimeMs = statSync(this.file).mtimeMs;
      if (!force && mtimeMs === this.#mtimeMs) return;
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if (force) throw error;
      // removed or unreadable while running: as for a bad edit, the last good set stays in force
      this.#problem(`Policy file ${this.file} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}); the last good policy stays in force until it can`);
      return;
    }
    const check = checkParsePolicySet({ staticPolicies: text });
    if (check.type === 'failure') {
      const detail = check.errors.map((error) => error.message).join('; ');
      if (force) throw new Error(`Policy file ${this.file} does not parse: ${detail}`);
      // keep the last good policy set rather than failing open or closed on a half-saved edit
      this.#problem(`Policy file ${this.file} does not parse (${detail}); the last good policy stays in force until it does`);
      return;
    }
    const setId = `gatehouse-${++setCounter}-${randomUUID()}`;
    const parsed = preparsePolicySet(setId, { staticPolicies: text });
    if (parsed.type === 'failure') throw new Error(`Policy file ${this.file} does not parse`);
    this.#setId = setId;
    this.#mtimeMs = mtimeMs;
    this.#listCache = new Map();
    this.#callCache = new Map();
    this.#readsContext = policiesReadContext(text);
    this.#readsIdentity = policiesReadIdentity(text);
    this.#signature = resourceSignature(text);
    this.#reported = undefined;
    this.version++;
  }

  /** Tells the administrator (the server log) once per distinct problem, not once a second. */
  #problem(message: string): void {
    if (message === this.#reported) return;
    this.#reported = message;
    this.#onReloadProblem(message);
  }

  /**
   * Memo key: only what the policies can read of the caller. Unless a policy names a user (by uid,
   * sub or username), callers with the same client, groups and scopes share their decisions (and
   * their visible tool lists), so a new user's first tools/list costs no Cedar evaluation once anyone
   * like them has listed. Checks the file for edits first (at most once a second), so the key is
   * valid for `version` read right after.
   */
  callerKey(caller: Caller): string {
    this.#reload(false);
    const who = this.#readsIdentity ? `${caller.issuer}\u0000${caller.subject}\u0000${caller.username}` : '';
    return `${who}\u0000${caller.clientId ?? ''}\u0000${caller.groups.join(',')}\u0000${caller.scopes.join(',')}`;
  }

  decide(caller: Caller, action: PolicyAction, resource: PolicyResource, args: Record<string, unknown> = {}): PolicyDecision {
    // Tools of one class get the same decision for the same caller and action: the first one of the
    // class evaluated stands for all of them (calls too, while no policy reads context).
    const key = `${this.callerKey(caller)}\u0000${this.resourceClass(resource)}`;
    if (action === 'list') return this.#listDecision(key, caller, resource);
    // Without a policy that reads `context`, the arguments cannot change the answer: one Cedar
    // evaluation per caller attributes and tool, until the policy file changes.
    const memo = this.#readsContext ? undefined : this.#callCache.get(key);
    const decision = memo ?? this.#evaluate(caller, action, resource, args);
    if (!this.#readsContext && !memo) {
      if (this.#callCache.size > 100_000) this.#callCache.clear();
      this.#callCache.set(key, decision);
    }
    return this.mode === 'LOG_ONLY' ? { ...decision, allowed: true, enforced: false, policies: decision.policies } : decision;
  }

  /**
   * `list` decisions for a whole catalog (tools/list): the caller key is built once and each class
   * looked up once. Each answer equals `decide(caller, 'list', tool).allowed`.
   */
  visible(caller: Caller, tools: readonly PolicyResource[]): boolean[] {
    const who = this.callerKey(caller);
    const byClass = new Map<string, boolean>();
    return tools.map((resource) => {
      const signature = this.resourceClass(resource);
      let allowed = byClass.get(signature);
      if (allowed === undefined) {
        allowed = this.#listDecision(`${who}\u0000${signature}`, caller, resource).allowed;
        byClass.set(signature, allowed);
      }
      return allowed;
    });
  }

  /** A `list` decision memoized under `key` (caller key and resource class) until the policy changes. */
  #listDecision(key: string, caller: Caller, resource: PolicyResource): PolicyDecision {
    const cached = this.#listCache.get(key);
    if (cached !== undefined) return { allowed: cached || this.mode === 'LOG_ONLY', policies: [], enforced: this.mode === 'ENFORCE' };
    const decision = this.#evaluate(caller, 'list', resource, {});
    if (this.#listCache.size > 100_000) this.#listCache.clear();
    this.#listCache.set(key, decision.allowed);
    return this.mode === 'LOG_ONLY' ? { ...decision, allowed: true, enforced: false } : decision;
  }

  /** The tool's resource class for the current policy: tools with equal classes get equal decisions. */
  resourceClass(resource: PolicyResource): string {
    return this.resourceClasses ? this.#signature(resource) : perToolSignature(resource);
  }

  /** The raw Cedar decision (what LOG_ONLY records). */
  #evaluate(caller: Caller, action: PolicyAction, resource: PolicyResource, args: Record<string, unknown>): PolicyDecision {
    this.evaluations++;
    const principalUid = { type: 'Gatehouse::User', id: `${caller.issuer}|${caller.subject}` };
    const resourceUid = { type: 'Gatehouse::Tool', id: resource.name };
    const entities: EntityJson[] = [
      {
        uid: principalUid,
        attrs: {
          sub: caller.subject,
          username: caller.username,
          client: caller.clientId ?? '',
          groups: [...caller.groups],
          scopes: [...caller.scopes],
        },
        parents: caller.groups.map((group) => ({ type: 'Gatehouse::Group', id: group })),
      },
      {
        uid: resourceUid,
        attrs: { name: resource.name, target: resource.target, tool: resource.tool, readOnly: resource.readOnly },
        parents: [{ type: 'Gatehouse::Target', id: resource.target }],
      },
    ];
    let answer: ReturnType<typeof statefulIsAuthorized>;
    try {
      answer = statefulIsAuthorized({
        principal: principalUid,
        action: { type: 'Gatehouse::Action', id: action },
        resource: resourceUid,
        context: { arguments: toCedarValue(args) ?? {} },
        preparsedPolicySetId: this.#setId,
        entities,
      });
    } catch (error) {
      // cedar-wasm throws (rather than answering failure) on input its parser refuses, e.g. nesting past its recursion limit
      return { allowed: false, policies: [], enforced: true, failure: `Cedar could not read the request: ${error instanceof Error ? error.message : String(error)}`.slice(0, 500) };
    }
    if (answer.type === 'failure') return { allowed: false, policies: [], enforced: true, failure: answer.errors.map((error) => error.message).join('; ').slice(0, 500) || 'Cedar refused the request' };
    return { allowed: answer.response.decision === 'allow', policies: answer.response.diagnostics.reason, enforced: true };
  }
}

/**
 * Whether any policy's conditions mention `context` (Cedar's own JSON form of each policy, so
 * comments and string literals do not count). Unknown shapes count as "reads context" (no memo).
 */
function policiesReadContext(text: string): boolean {
  const parts = policySetTextToParts(text);
  if (parts.type !== 'success') return true;
  for (const policy of [...parts.policies, ...parts.policy_templates]) {
    const json = policyToJson(policy);
    if (json.type !== 'success' || JSON.stringify(json.json).includes('"Var":"context"')) return true;
  }
  return false;
}

/** Principal attributes every caller with the same client, groups and scopes has alike. */
const SHARED_ATTRIBUTES: ReadonlySet<string> = new Set(['client', 'groups', 'scopes']);

/**
 * Whether any policy can tell apart two callers whose client, groups and scopes are equal: a
 * principal scope naming a user, or a condition reading `principal` other than as `principal.client`,
 * `.groups`, `.scopes`, `principal has …` or `principal in <a Gatehouse::Group>`. Templates and any
 * unknown shape count as "reads identity" (decisions then stay per user, as before).
 */
function policiesReadIdentity(text: string): boolean {
  const parts = policySetTextToParts(text);
  if (parts.type !== 'success' || parts.policy_templates.length > 0) return true;
  for (const policy of parts.policies) {
    const json = policyToJson(policy);
    if (json.type !== 'success') return true;
    const { principal, conditions } = json.json as { principal?: { op?: string; entity?: { type?: string }; in?: { entity?: { type?: string } } }; conditions?: unknown[] };
    const op = principal?.op;
    const groupOnly = (entity: { type?: string } | undefined): boolean => entity?.type === 'Gatehouse::Group';
    if (op === 'in' ? !groupOnly(principal?.entity) : op === 'is' ? principal?.in !== undefined && !groupOnly(principal.in.entity) : op !== 'All') return true;
    if (readsPrincipalIdentity(conditions ?? [])) return true;
  }
  return false;
}

const isPrincipalVar = (node: unknown): boolean => isVariable(node, 'principal');

/** See policiesReadIdentity for what may be read of `principal` without telling callers apart. */
function readsPrincipalIdentity(root: unknown): boolean {
  return !walkCedarExpression(root, 'principal', (record) => {
    const access = record['.'] as { left?: unknown; attr?: unknown } | undefined;
    if (access && isPrincipalVar(access.left)) return typeof access.attr === 'string' && SHARED_ATTRIBUTES.has(access.attr) ? 'understood' : 'refused';
    const has = record.has as { left?: unknown } | undefined;
    // every caller has every attribute (sub, username, client, groups, scopes): `has` cannot tell them apart
    if (has && isPrincipalVar(has.left)) return 'understood';
    const membership = record.in as { left?: unknown; right?: { Value?: { __entity?: { type?: string } } } } | undefined;
    if (membership && isPrincipalVar(membership.left)) return membership.right?.Value?.__entity?.type === 'Gatehouse::Group' ? 'understood' : 'refused';
    return 'look-inside';
  });
}

/** Keys Cedar's JSON reads as escapes, and prototype keys: never copied into the context. */
const SKIPPED_KEYS: ReadonlySet<string> = new Set(['__entity', '__extn', '__proto__', 'constructor', 'prototype']);

/** A JSON value's Cedar form without its children: scalars converted, containers empty; undefined = dropped. */
function cedarShell(value: unknown): CedarValueJson | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : String(value);
  if (Array.isArray(value)) return [];
  if (typeof value === 'object') return {};
  return undefined;
}

/**
 * JSON → Cedar value: Cedar has no null or floats, so nulls are dropped and non-integers become
 * strings. Converted with its own stack rather than recursion, so no nesting can exhaust the call stack.
 */
function toCedarValue(root: unknown): CedarValueJson | undefined {
  const converted = cedarShell(root);
  if (typeof converted !== 'object') return converted;
  const pending: [unknown, CedarValueJson[] | Record<string, CedarValueJson>][] = [[root, converted as CedarValueJson[] | Record<string, CedarValueJson>]];
  while (pending.length > 0) {
    const [source, target] = pending.pop()!;
    const children: [string | undefined, unknown][] = Array.isArray(source)
      ? (source as unknown[]).map((item) => [undefined, item])
      : Object.keys(source as object).filter((key) => !SKIPPED_KEYS.has(key)).map((key) => [key, (source as Record<string, unknown>)[key]]);
    for (const [key, item] of children) {
      const shell = cedarShell(item);
      if (shell === undefined) continue;
      if (key === undefined) (target as CedarValueJson[]).push(shell);
      else (target as Record<string, CedarValueJson>)[key] = shell;
      if (typeof shell === 'object') pending.push([item, shell as CedarValueJson[] | Record<string, CedarValueJson>]);
    }
  }
  return converted;
}
