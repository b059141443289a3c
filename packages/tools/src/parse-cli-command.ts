import { ToolError } from './tool-error.ts';

/** An AWS API call in SDK terms: service as in `@aws-sdk/client-{service}`, operation in PascalCase. */
export interface AwsCall {
  readonly service: string;
  readonly operation: string;
  readonly params: Record<string, unknown>;
  readonly region?: string;
}

/** AWS CLI service names whose SDK v3 package is named differently. */
const CLI_SERVICES: Readonly<Record<string, string>> = {
  s3api: 's3',
  logs: 'cloudwatch-logs',
  elbv2: 'elastic-load-balancing-v2',
  elb: 'elastic-load-balancing',
  events: 'eventbridge',
  es: 'elasticsearch-service',
  stepfunctions: 'sfn',
  configservice: 'config-service',
  'cognito-idp': 'cognito-identity-provider',
  ddb: 'dynamodb',
};

const IGNORED_GLOBAL_OPTIONS = new Set(['--output', '--profile', '--color', '--cli-read-timeout', '--cli-connect-timeout', '--endpoint-url']);
const IGNORED_GLOBAL_FLAGS = new Set(['--no-cli-pager', '--no-paginate', '--debug', '--no-verify-ssl', '--no-sign-request', '--recursive', '--human-readable', '--summarize']);

/** `list-objects-v2` / `list_objects_v2` / `listObjectsV2` → `ListObjectsV2`. */
export function pascalCase(name: string): string {
  return name
    .split(/[-_\s]+/)
    .filter((part) => part.length > 0)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

export function sdkServiceName(service: string): string {
  const lower = service.trim().toLowerCase();
  return CLI_SERVICES[lower] ?? lower;
}

/** Splits a command line like a POSIX shell would for plain words and quotes (no expansion, no operators). */
export function tokenize(command: string): string[] {
  const tokens: string[] = [];
  let current = '';
  let quote: '"' | "'" | undefined;
  let started = false;
  for (let index = 0; index < command.length; index++) {
    const character = command[index]!;
    if (quote) {
      if (character === quote) quote = undefined;
      else if (character === '\\' && quote === '"' && index + 1 < command.length) current += command[++index];
      else current += character;
    } else if (character === '"' || character === "'") {
      quote = character;
      started = true;
    } else if (character === '\\' && index + 1 < command.length) {
      current += command[++index];
      started = true;
    } else if (/\s/.test(character)) {
      if (started) tokens.push(current);
      current = '';
      started = false;
    } else if (/[|;&<>`$]/.test(character)) {
      throw new ToolError('InvalidArguments', `cli_command is one aws command, not a shell line: "${character}" is not allowed`);
    } else {
      current += character;
      started = true;
    }
  }
  if (quote) throw new ToolError('InvalidArguments', 'cli_command has an unterminated quote');
  if (started) tokens.push(current);
  return tokens;
}

function parseValue(text: string): unknown {
  if (/^-?\d+(\.\d+)?$/.test(text) && text.length < 16) return Number(text);
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (/^[[{]/.test(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new ToolError('InvalidArguments', `cli_command option value ${text.slice(0, 60)} looks like JSON but does not parse`);
    }
  }
  return text;
}

/**
 * Parses `aws s3 ls [s3://bucket[/prefix]]`, `aws s3api <op> --k v` and `aws <service> <kebab-op> --k v`
 * into the same call shape `call_aws` takes. Option names become PascalCase parameters.
 */
export function parseCliCommand(command: string): AwsCall {
  const tokens = tokenize(command);
  if (tokens[0] !== 'aws') throw new ToolError('InvalidArguments', 'cli_command must start with "aws", e.g. "aws s3 ls"');
  const positional: string[] = [];
  const options = new Map<string, string[]>();
  let region: string | undefined;
  for (let index = 1; index < tokens.length; index++) {
    const token = tokens[index]!;
    if (!token.startsWith('--')) {
      positional.push(token);
      continue;
    }
    const [name, inline] = token.includes('=') ? [token.slice(0, token.indexOf('=')), token.slice(token.indexOf('=') + 1)] : [token, undefined];
    const values: string[] = inline !== undefined ? [inline] : [];
    while (inline === undefined && index + 1 < tokens.length && !tokens[index + 1]!.startsWith('--')) {
      // Values of an option run until the next option; the AWS CLI's list options work this way.
      values.push(tokens[++index]!);
      if (positional.length < 2 || IGNORED_GLOBAL_OPTIONS.has(name) || name === '--region' || name === '--query') break;
    }
    if (name === '--region') region = values[0];
    else if (name === '--query') throw new ToolError('InvalidArguments', '--query (JMESPath) is not supported; the full result is returned');
    else if (!IGNORED_GLOBAL_OPTIONS.has(name) && !IGNORED_GLOBAL_FLAGS.has(name)) options.set(name, [...(options.get(name) ?? []), ...values]);
    else if (name === '--recursive') options.set(name, []);
  }
  const [service, subcommand, ...rest] = positional;
  if (!service || !subcommand) throw new ToolError('InvalidArguments', 'cli_command needs a service and an operation, e.g. "aws s3 ls" or "aws s3api list-objects-v2 --bucket NAME"');
  const withRegion = <T extends object>(call: T): T & { region?: string } => (region ? { ...call, region } : call);

  if (service === 's3') {
    if (subcommand !== 'ls') {
      throw new ToolError('OperationNotAllowed', `"aws s3 ${subcommand}" is not supported here (only "aws s3 ls" is); use bucket_objects_list / bucket_object_get / bucket_objects_put, or "aws s3api <operation>"`);
    }
    const target = rest[0];
    if (!target) return withRegion({ service: 's3', operation: 'ListBuckets', params: {} });
    const match = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(target);
    if (!match) throw new ToolError('InvalidArguments', `"aws s3 ls" takes s3://bucket[/prefix] (got ${target.slice(0, 100)})`);
    const params: Record<string, unknown> = { Bucket: match[1] };
    if (match[2]) params.Prefix = match[2];
    if (!options.has('--recursive')) params.Delimiter = '/';
    return withRegion({ service: 's3', operation: 'ListObjectsV2', params });
  }

  const operation = pascalCase(subcommand);
  // `aws s3api get-object … OUTFILE`: the output file has no meaning here; the body is returned instead.
  const allowedExtra = operation === 'GetObject' ? 1 : 0;
  if (rest.length > allowedExtra) throw new ToolError('InvalidArguments', `Unexpected argument ${rest[allowedExtra]!.slice(0, 60)} in cli_command; options take the form --name value`);
  const params: Record<string, unknown> = {};
  for (const [name, values] of options) {
    const bare = name.slice(2);
    if (bare.startsWith('no-') && values.length === 0) params[pascalCase(bare.slice(3))] = false;
    else params[pascalCase(bare)] = values.length === 0 ? true : values.length === 1 ? parseValue(values[0]!) : values.map(parseValue);
  }
  return withRegion({ service: sdkServiceName(service), operation, params });
}
