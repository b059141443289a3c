import { createHash } from 'node:crypto';
import type { ToolSpec } from '../model-provider.ts';

const SAFE = /^[a-zA-Z0-9_-]{1,64}$/;

export interface ToolNameAliases {
  /** The name the model sees (Bedrock, Anthropic and OpenAI accept only `[a-zA-Z0-9_-]{1,64}`). */
  toModel(name: string): string;
  /** The gateway's name for what the model called. */
  fromModel(name: string): string;
}

/**
 * Gateway tool names may be up to 256 characters and come from any MCP server (dots, slashes); model APIs
 * refuse those. Safe names pass unchanged; others get a stable, readable alias with a short hash.
 */
export function toolNameAliases(tools: readonly ToolSpec[]): ToolNameAliases {
  const forward = new Map<string, string>();
  const backward = new Map<string, string>();
  const alias = (name: string): string => {
    const known = forward.get(name);
    if (known) return known;
    if (SAFE.test(name)) return name;
    const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
    const readable = name.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64 - hash.length - 1);
    const made = `${readable}_${hash}`;
    forward.set(name, made);
    backward.set(made, name);
    return made;
  };
  for (const tool of tools) alias(tool.name);
  return { toModel: alias, fromModel: (name) => backward.get(name) ?? name };
}
