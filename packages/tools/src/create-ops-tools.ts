import { bucketAccessCheck, bucketObjectGet, bucketObjectsList, bucketObjectsPut } from './bucket-tools.ts';
import { callAws } from './call-aws-tool.ts';
import { OpsToolContext, type OpsToolsOptions } from './ops-tool-context.ts';
import { parseArguments } from './tool-arguments.ts';
import { toolNameFrom } from './tool-context.ts';
import { ToolError } from './tool-error.ts';
import { TOOL_SCHEMA, type ToolName, type ToolSchemaEntry } from './tool-schema.ts';

export type { OpsToolsOptions } from './ops-tool-context.ts';

export interface OpsTools {
  handler(event: unknown, context: unknown): Promise<unknown>;
  readonly toolSchema: readonly ToolSchemaEntry[];
  /** STS AssumeRole calls made so far (diagnostics, tests). */
  readonly stats: { readonly assumeRoleCalls: number };
}

type Tool = (tools: OpsToolContext, event: unknown, context: unknown) => Promise<unknown>;

/** One row per tool: the arguments' schema is `TOOL_ARGUMENTS[name]`, the code the function named here. */
const TOOLS: Record<ToolName, Tool> = {
  list_accounts: listAccounts,
  call_aws: callAws,
  bucket_objects_list: bucketObjectsList,
  bucket_object_get: bucketObjectGet,
  bucket_objects_put: bucketObjectsPut,
  bucket_access_check: bucketAccessCheck,
};

/**
 * The operations tools as one Lambda-shaped handler (the gateway's function-target contract):
 * `event` is the tool's arguments, `context.clientContext.custom.bedrockAgentCoreToolName` names the tool,
 * `context.identity` the user and the credentials the gateway derived for them.
 */
export function createOpsTools(options: OpsToolsOptions): OpsTools {
  const tools = new OpsToolContext(options);
  return {
    toolSchema: TOOL_SCHEMA,
    get stats() {
      return { assumeRoleCalls: tools.roles.assumeRoleCalls };
    },
    async handler(event, context) {
      const tool = toolNameFrom(context);
      const run = Object.hasOwn(TOOLS, tool) ? TOOLS[tool as ToolName] : undefined;
      if (!run) throw new ToolError('UnknownTool', `Unknown tool ${tool.slice(0, 80)}; this target serves ${TOOL_SCHEMA.map((entry) => entry.name).join(', ')}`);
      try {
        const result = await run(tools, event, context);
        options.logger?.info({ tool }, 'ops tool call succeeded');
        return result;
      } catch (error) {
        if (error instanceof ToolError) {
          options.logger?.info({ tool, code: error.code }, 'ops tool call refused');
          throw error;
        }
        options.logger?.error({ tool, err: error }, 'ops tool call failed');
        throw new ToolError('AwsError', `${tool} failed unexpectedly; see the server log`);
      }
    },
  };
}

/** `list_accounts`: the enabled accounts of the registry. */
async function listAccounts(tools: OpsToolContext, event: unknown): Promise<unknown> {
  parseArguments('list_accounts', event);
  const accounts = (await tools.options.registry.list()).filter((account) => account.enabled);
  return {
    accounts: accounts.map((account) => ({
      account_id: account.accountId,
      name: account.name,
      environment: account.environment,
      ...(account.region ? { region: account.region } : {}),
    })),
  };
}
