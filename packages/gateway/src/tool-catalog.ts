import { redactText, type Logger } from '@gatehouse/core';
import type { GatewayTargetConfig } from '@gatehouse/core';
import type { ConcurrencyLimiter } from './concurrency-limiter.ts';
import type { TargetCallScope, ToolTarget } from './targets/tool-target.ts';
import type { ToolDefinition } from './tool-definition.ts';
import { ConsentRequiredError } from './credentials/vault-credentials.ts';

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
/** Stands in for the tools of a target that cannot be listed before the user connects their SaaS account. */
export const CONNECT_TOOL = 'connect';

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
  /** Targets whose list needs a user's consent first: a `{target}___connect` tool until someone connects. */
  readonly #awaitingConsent = new Map<string, CatalogTool>();
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
          if (error instanceof ConsentRequiredError) {
            this.#awaitingConsent.set(entry.config.name, this.#connectTool(entry.config.name, error.elicitation.provider));
            return;
          }
          this.#logger.warn({ target: entry.config.name, err: error instanceof Error ? { name: error.name, message: redactText(error.message) } : 'non-error thrown' }, 'could not list tools of target');
        }
      }),
    );
    for (const name of this.#loaded.keys()) this.#awaitingConsent.delete(name);
    const all = this.#targets.flatMap((entry) => this.#loaded.get(entry.config.name) ?? (this.#awaitingConsent.has(entry.config.name) ? [this.#awaitingConsent.get(entry.config.name)!] : []));
    this.#byName = new Map(all.map((tool) => [tool.name, tool]));
    if (this.#loaded.size === this.#targets.length) this.#all = all;
    return all;
  }

  async find(name: string, scopeFor: (entry: CatalogTarget) => Promise<TargetCallScope>): Promise<CatalogTool | undefined> {
    if (!this.#all && !this.#byName.has(name)) await this.tools(scopeFor);
    return this.#byName.get(name);
  }

  /** Whether the target's real tools are listed (the connect stand-in is no longer needed). */
  isLoaded(targetName: string): boolean {
    return this.#loaded.has(targetName);
  }

  #connectTool(targetName: string, provider: string): CatalogTool {
    const definition: ToolDefinition = {
      name: CONNECT_TOOL,
      description: `Connect the user's ${provider} account, so the tools of ${targetName} can act for them. Answers with a link the user must open; list the tools again afterwards.`,
      inputSchema: { type: 'object', properties: {} },
      annotations: { readOnlyHint: true },
    };
    return this.#expose(targetName, definition);
  }

  #expose(targetName: string, definition: ToolDefinition): CatalogTool {
    const name = this.#unprefixed ? definition.name : `${targetName}${TOOL_SEPARATOR}${definition.name}`;
    return { name, target: targetName, tool: definition.name, readOnly: isReadOnly(definition), definition: { ...definition, name } };
  }
}
