import type { z } from 'zod';
import { ToolError } from './tool-error.ts';
import { TOOL_ARGUMENTS, TOOL_SCHEMA, type ToolName } from './tool-schema.ts';

export type ToolArguments<T extends ToolName> = z.infer<(typeof TOOL_ARGUMENTS)[T]>;

/** Checks a tool's arguments against its zod schema; a failure is `InvalidArguments` naming every issue. */
export function parseArguments<T extends ToolName>(tool: T, event: unknown): ToolArguments<T> {
  const result = TOOL_ARGUMENTS[tool].safeParse(event ?? {});
  if (!result.success) {
    const details = result.error.issues.map((issue) => {
      if (issue.code === 'unrecognized_keys') return unknownArguments(tool, issue.path, issue.keys);
      return `${issue.path.join('.') || '(arguments)'}: ${issue.message}`;
    }).join('; ');
    throw new ToolError('InvalidArguments', `Invalid arguments for ${tool}: ${details}`);
  }
  return result.data as ToolArguments<T>;
}

/** Names the unknown keys (shortened) and what the tool takes instead; never the schema itself. */
function unknownArguments(tool: ToolName, path: readonly PropertyKey[], keys: readonly string[]): string {
  const named = keys.slice(0, 5).map((key) => JSON.stringify(key.slice(0, 64))).join(', ') + (keys.length > 5 ? ` and ${keys.length - 5} more` : '');
  if (path.length > 0) return `${path.map(String).join('.')}: unknown ${keys.length === 1 ? 'field' : 'fields'} ${named}`;
  const accepted = Object.keys(TOOL_SCHEMA.find((entry) => entry.name === tool)?.inputSchema.properties ?? {});
  return `unknown ${keys.length === 1 ? 'argument' : 'arguments'} ${named}: ${tool} takes ${accepted.length ? accepted.join(', ') : 'no arguments'}`;
}
