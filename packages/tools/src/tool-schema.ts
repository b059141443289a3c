import { z } from 'zod';

/** The tools' MCP definitions (names unprefixed; the gateway adds `{target}___`). */
export interface ToolSchemaEntry {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: { readonly type: 'object'; readonly properties: Readonly<Record<string, unknown>>; readonly required?: readonly string[]; readonly additionalProperties?: boolean };
}

const PUT_LIMIT = 1024 * 1024;

const bucketName = z
  .string()
  .trim()
  .transform((value) => value.replace(/^s3:\/\//, '').replace(/\/.*$/, ''))
  .pipe(z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'bucket must be an S3 bucket name (3–63 lower-case letters, digits, dots, hyphens)'))
  .describe('Bucket name, or s3://bucket');
const accountName = z
  .string()
  .trim()
  .min(1, 'account is required (a name such as "Production" or a 12-digit id)')
  .describe('Account name (case-insensitive, e.g. "Production") or 12-digit account id; see list_accounts');

/** The one definition of each tool's arguments: checked with zod, advertised as the JSON Schema generated from it. */
export const TOOL_ARGUMENTS = {
  list_accounts: z.strictObject({}),
  call_aws: z.strictObject({
    account: accountName,
    service: z.string().optional().describe('SDK service name, e.g. s3, ec2, iam, lambda'),
    operation: z.string().optional().describe('API operation, e.g. ListBuckets or list-buckets'),
    params: z.record(z.string(), z.unknown()).optional().describe('Operation input in the API\'s own field names, e.g. {"Bucket":"name"}'),
    region: z.string().regex(/^[a-z0-9-]{1,32}$/).optional().describe('Region (default: the account\'s)'),
    cli_command: z.string().max(4000).optional().describe('An AWS CLI command line beginning with "aws", e.g. "aws s3 ls"'),
  }),
  bucket_objects_list: z.strictObject({
    account: accountName,
    bucket: bucketName,
    prefix: z.string().max(1024).optional().describe('Only keys starting with this'),
    max_keys: z.number().int().min(1).max(1000).default(100).describe('At most this many keys (default 100)'),
    continuation_token: z.string().max(2048).optional().describe('From a previous truncated answer'),
  }),
  bucket_object_get: z.strictObject({ account: accountName, bucket: bucketName, key: z.string().min(1).max(1024) }),
  bucket_objects_put: z.strictObject({
    account: accountName,
    bucket: bucketName,
    key: z.string().min(1).max(1024),
    body: z.string().refine((text) => Buffer.byteLength(text) <= PUT_LIMIT, `body must be at most ${PUT_LIMIT} bytes`).describe('Text content, up to 1 MiB'),
    content_type: z.string().max(255).optional(),
  }),
  bucket_access_check: z.strictObject({
    account: accountName,
    bucket: bucketName,
    operations: z.array(z.enum(['list', 'read', 'write'])).min(1).default(['list', 'read', 'write']).describe('Default: all three'),
  }),
};
export type ToolName = keyof typeof TOOL_ARGUMENTS;

const DESCRIPTIONS: Record<ToolName, string> = {
  list_accounts: 'List the AWS accounts the operations tools can act in (name, id, environment).',
  call_aws:
    'Run one read-only AWS API call in a named account with the caller\'s own assumed role. Give either service + operation (+ params), or cli_command such as "aws s3 ls" or "aws s3api list-objects-v2 --bucket NAME". Only List*, Describe*, Get* and Head* operations (plus configured ones) are allowed; results are paginated and truncated with a marker.',
  bucket_objects_list: 'List objects in an S3 bucket of an account (read-only role).',
  bucket_object_get: 'Read a text object from an S3 bucket (first 64 KiB; binary objects are described, not shown).',
  bucket_objects_put: 'Write a text object to an S3 bucket with the read-write role (needs group ops-readwrite).',
  bucket_access_check: 'Check which of list/read/write the caller may do on a bucket, without writing anything.',
};

/**
 * The keywords the tools advertise: the subset every MCP client and AWS AgentCore Gateway's inline tool schemas
 * take. Length limits, patterns and defaults stay in the zod check (which names the fix) instead of the schema.
 */
const ADVERTISED = new Set(['type', 'description', 'properties', 'required', 'items', 'enum', 'minimum', 'maximum']);

function advertised(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(advertised);
  if (typeof schema !== 'object' || schema === null) return schema;
  const kept: Record<string, unknown> = {};
  for (const [keyword, value] of Object.entries(schema)) {
    if (keyword === 'properties') kept[keyword] = Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([name, property]) => [name, advertised(property)]));
    else if (keyword === 'additionalProperties' && value === false) kept[keyword] = false;
    else if (ADVERTISED.has(keyword)) kept[keyword] = advertised(value);
  }
  return kept;
}

/** The input JSON Schema of one tool, generated from its zod arguments with `z.toJSONSchema` (the input side). */
function inputSchemaOf(tool: ToolName): ToolSchemaEntry['inputSchema'] {
  return advertised(z.toJSONSchema(TOOL_ARGUMENTS[tool], { io: 'input' })) as ToolSchemaEntry['inputSchema'];
}

export const TOOL_SCHEMA: readonly ToolSchemaEntry[] = (Object.keys(TOOL_ARGUMENTS) as ToolName[]).map((name) => ({
  name,
  description: DESCRIPTIONS[name],
  inputSchema: inputSchemaOf(name),
}));
