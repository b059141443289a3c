import { roleArnFor } from './account.ts';
import type { OpsToolContext } from './ops-tool-context.ts';
import { parseCliCommand, pascalCase, sdkServiceName, type AwsCall } from './parse-cli-command.ts';
import { runAwsCall } from './run-aws-call.ts';
import { parseArguments, type ToolArguments } from './tool-arguments.ts';
import { ToolError } from './tool-error.ts';

const READ_ONLY_OPERATION = /^(List|Describe|Get|Head)[A-Z0-9]/;

/** `call_aws`: one read-only (or allowed) AWS API call in an account, with the caller's assumed role. */
export async function callAws(tools: OpsToolContext, event: unknown, context: unknown): Promise<unknown> {
  const input = parseArguments('call_aws', event);
  const call = toCall(input);
  const { options } = tools;
  const allowed = new Set(options.allowOperations ?? []);
  // Refused before any request leaves: not even STS hears of a mutating call.
  if (!READ_ONLY_OPERATION.test(call.operation) && !allowed.has(call.operation) && !allowed.has(`${call.service}:${call.operation}`)) {
    throw new ToolError('OperationNotAllowed', `${call.service}:${call.operation} is not read-only; call_aws runs only List*, Describe*, Get* and Head* operations${allowed.size ? ` and ${[...allowed].join(', ')}` : ''}`);
  }
  if (options.s3Endpoint && call.service !== 's3' && call.service !== 'sts') {
    throw new ToolError('ServiceNotAvailable', `The local sandbox accounts serve only s3 and sts (asked for ${call.service})`);
  }
  const { caller, account } = await tools.target(input.account, context);
  const credentials = await tools.roles.credentialsFor(caller, account, roleArnFor(account));
  const result = await runAwsCall(call, { credentials, region: account.region ?? options.region, s3Endpoint: options.s3Endpoint, stsEndpoint: options.stsEndpoint });
  return { account: account.name, account_id: account.accountId, service: call.service, operation: call.operation, result };
}

function toCall(input: ToolArguments<'call_aws'>): AwsCall {
  if (input.cli_command !== undefined) {
    if (input.service !== undefined || input.operation !== undefined) throw new ToolError('InvalidArguments', 'Give either cli_command or service + operation, not both');
    const parsed = parseCliCommand(input.cli_command);
    return input.region && !parsed.region ? { ...parsed, region: input.region } : parsed;
  }
  if (!input.service || !input.operation) throw new ToolError('InvalidArguments', 'call_aws needs service + operation (e.g. "s3", "ListBuckets") or cli_command (e.g. "aws s3 ls")');
  return { service: sdkServiceName(input.service), operation: pascalCase(input.operation), params: input.params ?? {}, ...(input.region ? { region: input.region } : {}) };
}
