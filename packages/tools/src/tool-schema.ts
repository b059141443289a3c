/** The tools' MCP definitions (names unprefixed; the gateway adds `{target}___`). */
export interface ToolSchemaEntry {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: { readonly type: 'object'; readonly properties: Readonly<Record<string, unknown>>; readonly required?: readonly string[]; readonly additionalProperties?: boolean };
}

const account = { type: 'string', description: 'Account name (case-insensitive, e.g. "Production") or 12-digit account id; see list_accounts' };
const bucket = { type: 'string', description: 'Bucket name, or s3://bucket' };

export const TOOL_SCHEMA: readonly ToolSchemaEntry[] = [
  {
    name: 'list_accounts',
    description: 'List the AWS accounts the operations tools can act in (name, id, environment).',
    inputSchema: { type: 'object', properties: {}, additionalProperties: false },
  },
  {
    name: 'call_aws',
    description:
      'Run one read-only AWS API call in a named account with the caller\'s own assumed role. Give either service + operation (+ params), or cli_command such as "aws s3 ls" or "aws s3api list-objects-v2 --bucket NAME". Only List*, Describe*, Get* and Head* operations (plus configured ones) are allowed; results are paginated and truncated with a marker.',
    inputSchema: {
      type: 'object',
      properties: {
        account,
        service: { type: 'string', description: 'SDK service name, e.g. s3, ec2, iam, lambda' },
        operation: { type: 'string', description: 'API operation, e.g. ListBuckets or list-buckets' },
        params: { type: 'object', description: 'Operation input in the API\'s own field names, e.g. {"Bucket":"name"}' },
        region: { type: 'string', description: 'Region (default: the account\'s)' },
        cli_command: { type: 'string', description: 'An AWS CLI command line beginning with "aws", e.g. "aws s3 ls"' },
      },
      required: ['account'],
      additionalProperties: false,
    },
  },
  {
    name: 'bucket_objects_list',
    description: 'List objects in an S3 bucket of an account (read-only role).',
    inputSchema: {
      type: 'object',
      properties: {
        account,
        bucket,
        prefix: { type: 'string', description: 'Only keys starting with this' },
        max_keys: { type: 'integer', minimum: 1, maximum: 1000, description: 'At most this many keys (default 100)' },
        continuation_token: { type: 'string', description: 'From a previous truncated answer' },
      },
      required: ['account', 'bucket'],
      additionalProperties: false,
    },
  },
  {
    name: 'bucket_object_get',
    description: 'Read a text object from an S3 bucket (first 64 KiB; binary objects are described, not shown).',
    inputSchema: { type: 'object', properties: { account, bucket, key: { type: 'string' } }, required: ['account', 'bucket', 'key'], additionalProperties: false },
  },
  {
    name: 'bucket_objects_put',
    description: 'Write a text object to an S3 bucket with the read-write role (needs group ops-readwrite).',
    inputSchema: {
      type: 'object',
      properties: { account, bucket, key: { type: 'string' }, body: { type: 'string', description: 'Text content, up to 1 MiB' }, content_type: { type: 'string' } },
      required: ['account', 'bucket', 'key', 'body'],
      additionalProperties: false,
    },
  },
  {
    name: 'bucket_access_check',
    description: 'Check which of list/read/write the caller may do on a bucket, without writing anything.',
    inputSchema: {
      type: 'object',
      properties: { account, bucket, operations: { type: 'array', items: { type: 'string', enum: ['list', 'read', 'write'] }, description: 'Default: all three' } },
      required: ['account', 'bucket'],
      additionalProperties: false,
    },
  },
];
