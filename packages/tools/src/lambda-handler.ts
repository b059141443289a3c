import { createDynamoDbAccountRegistry } from './dynamodb-account-registry.ts';
import { createOpsTools, type OpsTools } from './create-ops-tools.ts';
import { ToolError } from './tool-error.ts';

let tools: OpsTools | undefined;

/** Builds the tools once per Lambda container from its environment. */
function toolsFromEnvironment(env: NodeJS.ProcessEnv): OpsTools {
  const tableName = env.GATEHOUSE_ACCOUNTS_TABLE;
  if (!tableName) throw new ToolError('ServiceNotAvailable', 'GATEHOUSE_ACCOUNTS_TABLE is not set: the tools need the DynamoDB account registry table name');
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  return createOpsTools({
    registry: createDynamoDbAccountRegistry({
      tableName,
      region,
      ...(env.GATEHOUSE_DYNAMODB_ENDPOINT ? { endpoint: env.GATEHOUSE_DYNAMODB_ENDPOINT } : {}),
    }),
    region,
    ...(env.GATEHOUSE_STS_ENDPOINT ? { stsEndpoint: env.GATEHOUSE_STS_ENDPOINT } : {}),
    ...(env.GATEHOUSE_S3_ENDPOINT ? { s3Endpoint: env.GATEHOUSE_S3_ENDPOINT } : {}),
    allowOperations: (env.GATEHOUSE_ALLOW_OPERATIONS ?? '').split(',').map((entry) => entry.trim()).filter((entry) => entry.length > 0),
    // Opt-in only: a real Lambda behind AgentCore Gateway has no per-user credentials in its context.
    useExecutionRole: env.GATEHOUSE_TOOLS_USE_EXECUTION_ROLE === '1',
  });
}

/**
 * The same tools as an AWS Lambda handler (AgentCore Gateway Lambda target). Configured from the environment:
 * GATEHOUSE_ACCOUNTS_TABLE, AWS_REGION, optional GATEHOUSE_DYNAMODB_ENDPOINT, GATEHOUSE_STS_ENDPOINT,
 * GATEHOUSE_S3_ENDPOINT, GATEHOUSE_ALLOW_OPERATIONS (comma-separated) and GATEHOUSE_TOOLS_USE_EXECUTION_ROLE=1.
 */
export async function handler(event: unknown, context: unknown): Promise<unknown> {
  tools ??= toolsFromEnvironment(process.env);
  return tools.handler(event, context);
}
