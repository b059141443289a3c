/** How a visitor classifies one object node of a Cedar JSON expression. */
export type NodeVerdict = 'understood' | 'refused' | 'look-inside';

/**
 * Walks Cedar's JSON expression tree (`policyToJson` conditions) with its own stack, so no nesting can exhaust
 * the call stack. `visit` sees every object node: `understood` skips its children, `refused` ends the walk,
 * `look-inside` walks its children. The variable `variable` (`{"Var": …}`) met anywhere the visitor did not
 * understand also ends the walk. True when the walk ended with nothing refused.
 */
export function walkCedarExpression(root: unknown, variable: string, visit: (node: Record<string, unknown>) => NodeVerdict): boolean {
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const node = pending.pop();
    if (isVariable(node, variable)) return false;
    if (typeof node !== 'object' || node === null) continue;
    if (Array.isArray(node)) {
      pending.push(...(node as unknown[]));
      continue;
    }
    const record = node as Record<string, unknown>;
    const verdict = visit(record);
    if (verdict === 'refused') return false;
    if (verdict === 'look-inside') pending.push(...Object.values(record));
  }
  return true;
}

/** `{"Var": variable}`. */
export function isVariable(node: unknown, variable: string): boolean {
  return typeof node === 'object' && node !== null && (node as { Var?: unknown }).Var === variable;
}
