import { ControlPlaneError, fieldError } from './control-plane-error.ts';

export type Input = Readonly<Record<string, unknown>>;

export interface StringRule {
  readonly pattern?: RegExp;
  /** Said in the message when the pattern does not match, e.g. "start with a letter; letters, digits and _". */
  readonly patternHint?: string;
  readonly min?: number;
  readonly max?: number;
}

/** A required string field, checked against AWS's length and pattern for it. */
export function requiredString(input: Input, field: string, rule: StringRule = {}): string {
  const value = input[field];
  if (value === undefined || value === null) throw fieldError(field, 'is required');
  return checkString(value, field, rule);
}

export function optionalString(input: Input, field: string, rule: StringRule = {}): string | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  return checkString(value, field, rule);
}

export function checkString(value: unknown, field: string, rule: StringRule): string {
  if (typeof value !== 'string') throw fieldError(field, `must be a string (got ${kindOf(value)})`);
  const min = rule.min ?? 1;
  if (value.length < min) throw fieldError(field, `must be at least ${min} characters (got ${value.length})`);
  if (rule.max !== undefined && value.length > rule.max) throw fieldError(field, `must be at most ${rule.max} characters (got ${value.length})`);
  if (rule.pattern && !rule.pattern.test(value)) throw fieldError(field, `must ${rule.patternHint ?? `match ${rule.pattern.source}`}`);
  return value;
}

export function optionalObject(input: Input, field: string): Input | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw fieldError(field, `must be an object (got ${kindOf(value)})`);
  return value as Input;
}

export function requiredObject(input: Input, field: string): Input {
  const value = optionalObject(input, field);
  if (!value) throw fieldError(field, 'is required');
  return value;
}

/** A union structure (exactly one member set), as AWS's `union` shapes. */
export function oneMember(input: Input, field: string, members: readonly string[]): string {
  const set = Object.keys(input).filter((key) => input[key] !== undefined && input[key] !== null);
  const member = set[0];
  if (set.length !== 1 || member === undefined || !members.includes(member)) {
    throw fieldError(field, `must set exactly one of ${members.join(', ')} (got ${set.length === 0 ? 'none' : set.join(', ')})`);
  }
  return member;
}

export function optionalEnum<T extends string>(input: Input, field: string, values: readonly T[]): T | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) throw fieldError(field, `must be one of ${values.join(', ')}`);
  return value as T;
}

export function requiredEnum<T extends string>(input: Input, field: string, values: readonly T[]): T {
  const value = optionalEnum(input, field, values);
  if (value === undefined) throw fieldError(field, `is required (one of ${values.join(', ')})`);
  return value;
}

export function optionalStringList(input: Input, field: string, rule: StringRule & { readonly maxItems?: number } = {}): string[] | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw fieldError(field, `must be a list (got ${kindOf(value)})`);
  if (rule.maxItems !== undefined && value.length > rule.maxItems) throw fieldError(field, `may hold at most ${rule.maxItems} items (got ${value.length})`);
  return value.map((item, index) => checkString(item, `${field}[${index}]`, rule));
}

export function optionalStringMap(input: Input, field: string, maxEntries: number): Record<string, string> | undefined {
  const value = optionalObject(input, field);
  if (!value) return undefined;
  const entries = Object.entries(value);
  if (entries.length > maxEntries) throw fieldError(field, `may hold at most ${maxEntries} entries (got ${entries.length})`);
  const result: Record<string, string> = {};
  for (const [key, item] of entries) {
    if (key.length === 0 || key.length > 100) throw fieldError(field, 'keys must be 1–100 characters');
    result[key] = checkString(item, `${field}.${key}`, { min: 0, max: 5000 });
  }
  return result;
}

export function optionalInteger(input: Input, field: string, min: number, max: number): number | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw fieldError(field, `must be an integer from ${min} to ${max}`);
  return value;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value;
}

/** Runs checks of a nested structure so a failure names the full path (`agentRuntimeArtifact.codeConfiguration.runtime`). */
export function nested<T>(prefix: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    throw prefixed(prefix, error);
  }
}

/** `nested` for a check that reads the store. */
export async function nestedAsync<T>(prefix: string, check: () => Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (error) {
    throw prefixed(prefix, error);
  }
}

function prefixed(prefix: string, error: unknown): unknown {
  if (error instanceof ControlPlaneError && error.fieldList?.length === 1) {
    const [problem] = error.fieldList;
    if (problem) return fieldError(`${prefix}.${problem.name}`, problem.message);
  }
  return error;
}
