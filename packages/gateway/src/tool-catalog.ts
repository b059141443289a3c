import { redactText, type Logger } from '@gatehouse/core';
import type { GatewayTargetConfig } from '@gatehouse/core';
import type { ConcurrencyLimiter } from './concurrency-limiter.ts';
import type { TargetCallScope, ToolTarget } from './targets/tool-target.ts';
import type { ToolDefinition } from './tool-definition.ts';

/** A tool as the gateway exposes it: prefixed name, where it comes from, and the definition clients see. */
export interface CatalogTool {
  readonly name: string;
  readonly target: string;
  readonly tool: string;
  readonly readOnly: boolean;
  readonly definition: ToolDefinition;
}

export interface CatalogTarget {
  readonly target: ToolTarget;
  readonly config: GatewayTargetConfig;
  readonly limiter: ConcurrencyLimiter;
}

export const TOOL_SEPARATOR = '___';

function isReadOnly(definition: ToolDefinition): boolean {
  if (definition.annotations?.readOnlyHint === true) return true;
  return /(^|_)(list|get|read|describe|search|query|head)(_|$)/i.test(definition.name);
}

/**
 * The gateway's tools, `{target}___{tool}` (or unprefixed for a lone target with exposeUnprefixed).
 * Each target's list is loaded once and the combined catalog memoized, so tools/list does no
 * upstream work after the first time; a target whose list fails is retried on the next list.
 */
export class ToolCatalog {
  readonly #targets: readonly CatalogTarget[];
  readonly #unprefixed: boolean;
  readonly #logger: Logger;
  readonly #loaded = new Map<string, readonly CatalogTool[]>();
  #all: readonly CatalogTool[] | undefined;
  #byName = new Map<string, CatalogTool>();

  constructor(targets: readonly CatalogTarget[], unprefixed: boolean, logger: Logger) {
    this.#targets = targets;
    this.#unprefixed = unprefixed && targets.length === 1;
    this.#logger = logger;
  }

  get targets(): readonly CatalogTarget[] {
    return this.#targets;
  }

  target(name: string): CatalogTarget | undefined {
    return this.#targets.find((entry) => entry.config.name === name);
  }

  /** All tools; `scopeFor` gives the caller's credentials for a target whose list is not loaded yet. */
  async tools(scopeFor: (entry: CatalogTarget) => Promise<TargetCallScope>): Promise<readonly CatalogTool[]> {
    if (this.#all) return this.#all;
    await Promise.all(
      this.#targets.map(async (entry) => {
        if (this.#loaded.has(entry.config.name)) return;
        try {
          const definitions = await entry.target.listTools(await scopeFor(entry));
          this.#loaded.set(entry.config.name, definitions.map((definition) => this.#expose(entry.config.name, definition)));
        } catch (error) {
          this.#logger.warn({ target: entry.config.name, err: error instanceof Error ? { name: error.name, message: redactText(error.message) } : 'non-error thrown' }, 'could not list tools of target');
        }
      }),
    );
    const all = this.#targets.flatMap((entry) => this.#loaded.get(entry.config.name) ?? []);
    this.#byName = new Map(all.map((tool) => [tool.name, tool]));
    if (this.#loaded.size === this.#targets.length) this.#all = all;
    return all;
  }

  async find(name: string, scopeFor: (entry: CatalogTarget) => Promise<TargetCallScope>): Promise<CatalogTool | undefined> {
    if (!this.#all && !this.#byName.has(name)) await this.tools(scopeFor);
    return this.#byName.get(name);
  }

  #expose(targetName: string, definition: ToolDefinition): CatalogTool {
    const name = this.#unprefixed ? definition.name : `${targetName}${TOOL_SEPARATOR}${definition.name}`;
    return { name, target: targetName, tool: definition.name, readOnly: isReadOnly(definition), definition: { ...definition, name } };
  }
}
