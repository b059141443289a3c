import type { Readable } from 'node:stream';
import type { z } from 'zod';
import { S3Client, ListObjectsV2Command, GetObjectCommand, PutObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import type { Logger } from '@gatehouse/core';
import type { AccountRegistry } from './account-registry.ts';
import { roleArnFor, type Account } from './account.ts';
import { parseCliCommand, pascalCase, sdkServiceName, type AwsCall } from './parse-cli-command.ts';
import { RoleCredentialProvider, type RoleCredentials } from './role-credentials.ts';
import { runAwsCall } from './run-aws-call.ts';
import { callerFrom, toolNameFrom, type ToolCaller } from './tool-context.ts';
import { ToolError } from './tool-error.ts';
import { TOOL_ARGUMENTS, TOOL_SCHEMA, type ToolName, type ToolSchemaEntry } from './tool-schema.ts';
import { READ_WRITE_ROLE } from './ops-roles.ts';

export interface OpsToolsOptions {
  readonly registry: AccountRegistry;
  /** Sandbox (or other) STS endpoint; default the SDK's. */
  readonly stsEndpoint?: string;
  /** Sandbox S3 endpoint (path-style); default the SDK's. */
  readonly s3Endpoint?: string;
  readonly region: string;
  /** Operations beyond List*, Describe*, Get*, Head* that call_aws may run (`Operation` or `service:Operation`). */
  readonly allowOperations?: readonly string[];
  readonly logger?: Logger;
  /** Only for a real Lambda deployment (env GATEHOUSE_TOOLS_USE_EXECUTION_ROLE=1): assume roles with the function's own role. */
  readonly useExecutionRole?: boolean;
}

export interface OpsTools {
  handler(event: unknown, context: unknown): Promise<unknown>;
  readonly toolSchema: readonly ToolSchemaEntry[];
  /** STS AssumeRole calls made so far (diagnostics, tests). */
  readonly stats: { readonly assumeRoleCalls: number };
}

const READ_ONLY_OPERATION = /^(List|Describe|Get|Head)[A-Z0-9]/;
const TEXT_LIMIT = 64 * 1024;

const schemas = TOOL_ARGUMENTS;

function parseArguments<T extends ToolName>(tool: T, event: unknown): z.infer<(typeof schemas)[T]> {
  const result = schemas[tool].safeParse(event ?? {});
  if (!result.success) {
    const details = result.error.issues.map((issue) => {
      if (issue.code === 'unrecognized_keys') return unknownArguments(tool, issue.path, issue.keys);
      return `${issue.path.join('.') || '(arguments)'}: ${issue.message}`;
    }).join('; ');
    throw new ToolError('InvalidArguments', `Invalid arguments for ${tool}: ${details}`);
  }
  return result.data as z.infer<(typeof schemas)[T]>;
}

/** Names the unknown keys (shortened) and what the tool takes instead; never the schema itself. */
function unknownArguments(tool: ToolName, path: readonly PropertyKey[], keys: readonly string[]): string {
  const named = keys.slice(0, 5).map((key) => JSON.stringify(key.slice(0, 64))).join(', ') + (keys.length > 5 ? ` and ${keys.length - 5} more` : '');
  if (path.length > 0) return `${path.map(String).join('.')}: unknown ${keys.length === 1 ? 'field' : 'fields'} ${named}`;
  const accepted = Object.keys(TOOL_SCHEMA.find((entry) => entry.name === tool)?.inputSchema.properties ?? {});
  return `unknown ${keys.length === 1 ? 'argument' : 'arguments'} ${named}: ${tool} takes ${accepted.length ? accepted.join(', ') : 'no arguments'}`;
}

function describeAccounts(accounts: readonly Account[]): string {
  const enabled = accounts.filter((account) => account.enabled);
  return enabled.length ? enabled.map((account) => `${account.name} (${account.accountId})`).join(', ') : 'none are registered';
}

function awsErrorMessage(error: unknown, action: string): ToolError {
  if (error instanceof ToolError) return error;
  const name = (error as Error).name;
  const message = (error as Error).message;
  if (name === 'AccessDenied' || name === 'AccessDeniedException') return new ToolError('AccessDenied', `${action} was refused: ${message}`);
  return new ToolError('AwsError', `${action} failed: ${name}: ${message}`);
}

/**
 * The operations tools as one Lambda-shaped handler (the gateway's function-target contract):
 * `event` is the tool's arguments, `context.clientContext.custom.bedrockAgentCoreToolName` names the tool,
 * `context.identity` the user and the credentials the gateway derived for them.
 */
export function createOpsTools(options: OpsToolsOptions): OpsTools {
  const roles = new RoleCredentialProvider({ stsEndpoint: options.stsEndpoint, region: options.region });
  const allowed = new Set(options.allowOperations ?? []);
  const useExecutionRole = options.useExecutionRole ?? false;

  async function resolveAccount(name: string): Promise<Account> {
    const account = await options.registry.get(name);
    if (account?.enabled) return account;
    const known = describeAccounts(await options.registry.list());
    const state = account ? 'is disabled' : 'is not registered';
    throw new ToolError('UnknownAccount', `Account "${name.slice(0, 80)}" ${state}. Known accounts: ${known}`);
  }

  function s3Client(credentials: RoleCredentials, account: Account): S3Client {
    return new S3Client({
      region: account.region ?? options.region,
      credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey, sessionToken: credentials.sessionToken },
      maxAttempts: 2,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      ...(options.s3Endpoint ? { endpoint: options.s3Endpoint, forcePathStyle: true } : {}),
    });
  }

  async function withS3<T>(caller: ToolCaller, account: Account, roleArn: string, action: string, work: (client: S3Client) => Promise<T>): Promise<T> {
    const credentials = await roles.credentialsFor(caller, account, roleArn);
    const client = s3Client(credentials, account);
    try {
      return await work(client);
    } catch (error) {
      throw awsErrorMessage(error, action);
    } finally {
      client.destroy();
    }
  }

  function readWriteRoleArn(account: Account): string {
    return `arn:aws:iam::${account.accountId}:role/${READ_WRITE_ROLE}`;
  }

  function toCall(input: z.infer<typeof schemas.call_aws>): AwsCall {
    if (input.cli_command !== undefined) {
      if (input.service !== undefined || input.operation !== undefined) throw new ToolError('InvalidArguments', 'Give either cli_command or service + operation, not both');
      const parsed = parseCliCommand(input.cli_command);
      return input.region && !parsed.region ? { ...parsed, region: input.region } : parsed;
    }
    if (!input.service || !input.operation) throw new ToolError('InvalidArguments', 'call_aws needs service + operation (e.g. "s3", "ListBuckets") or cli_command (e.g. "aws s3 ls")');
    return { service: sdkServiceName(input.service), operation: pascalCase(input.operation), params: input.params ?? {}, ...(input.region ? { region: input.region } : {}) };
  }

  const tools: Record<ToolName, (event: unknown, context: unknown) => Promise<unknown>> = {
    async list_accounts(event) {
      parseArguments('list_accounts', event);
      const accounts = (await options.registry.list()).filter((account) => account.enabled);
      return {
        accounts: accounts.map((account) => ({
          account_id: account.accountId,
          name: account.name,
          environment: account.environment,
          ...(account.region ? { region: account.region } : {}),
        })),
      };
    },

    async call_aws(event, context) {
      const input = parseArguments('call_aws', event);
      const call = toCall(input);
      // Refused before any request leaves: not even STS hears of a mutating call.
      if (!READ_ONLY_OPERATION.test(call.operation) && !allowed.has(call.operation) && !allowed.has(`${call.service}:${call.operation}`)) {
        throw new ToolError('OperationNotAllowed', `${call.service}:${call.operation} is not read-only; call_aws runs only List*, Describe*, Get* and Head* operations${allowed.size ? ` and ${[...allowed].join(', ')}` : ''}`);
      }
      if (options.s3Endpoint && call.service !== 's3' && call.service !== 'sts') {
        throw new ToolError('ServiceNotAvailable', `The local sandbox accounts serve only s3 and sts (asked for ${call.service})`);
      }
      const caller = callerFrom(context, useExecutionRole);
      const account = await resolveAccount(input.account);
      const credentials = await roles.credentialsFor(caller, account, roleArnFor(account));
      const result = await runAwsCall(call, { credentials, region: account.region ?? options.region, s3Endpoint: options.s3Endpoint, stsEndpoint: options.stsEndpoint });
      return { account: account.name, account_id: account.accountId, service: call.service, operation: call.operation, result };
    },

    async bucket_objects_list(event, context) {
      const input = parseArguments('bucket_objects_list', event);
      const caller = callerFrom(context, useExecutionRole);
      const account = await resolveAccount(input.account);
      return withS3(caller, account, roleArnFor(account), `Listing s3://${input.bucket}`, async (client) => {
        const page = await client.send(new ListObjectsV2Command({
          Bucket: input.bucket,
          MaxKeys: input.max_keys,
          ...(input.prefix ? { Prefix: input.prefix } : {}),
          ...(input.continuation_token ? { ContinuationToken: input.continuation_token } : {}),
        }));
        return {
          account: account.name,
          bucket: input.bucket,
          prefix: input.prefix ?? '',
          objects: (page.Contents ?? []).map((object) => ({ key: object.Key, size: object.Size, last_modified: object.LastModified?.toISOString() })),
          truncated: page.IsTruncated === true,
          ...(page.NextContinuationToken ? { next_continuation_token: page.NextContinuationToken } : {}),
        };
      });
    },

    async bucket_object_get(event, context) {
      const input = parseArguments('bucket_object_get', event);
      const caller = callerFrom(context, useExecutionRole);
      const account = await resolveAccount(input.account);
      return withS3(caller, account, roleArnFor(account), `Reading s3://${input.bucket}/${input.key}`, async (client) => {
        const object = await client.send(new GetObjectCommand({ Bucket: input.bucket, Key: input.key }));
        const chunks: Buffer[] = [];
        let size = 0;
        const body = object.Body as Readable | undefined;
        if (body) {
          for await (const chunk of body) {
            chunks.push(Buffer.from(chunk as Uint8Array));
            size += (chunk as Uint8Array).length;
            if (size > TEXT_LIMIT) {
              body.destroy();
              break;
            }
          }
        }
        const bytes = Buffer.concat(chunks).subarray(0, TEXT_LIMIT);
        const text = bytes.toString('utf8');
        const base = { account: account.name, bucket: input.bucket, key: input.key, content_type: object.ContentType, size: object.ContentLength };
        if (bytes.includes(0) || text.includes('\uFFFD')) return { ...base, binary: true, note: 'binary object: content not shown' };
        return { ...base, text, truncated: size > TEXT_LIMIT, ...(size > TEXT_LIMIT ? { note: `only the first ${TEXT_LIMIT} bytes are shown` } : {}) };
      });
    },

    async bucket_objects_put(event, context) {
      const input = parseArguments('bucket_objects_put', event);
      const caller = callerFrom(context, useExecutionRole);
      const account = await resolveAccount(input.account);
      return withS3(caller, account, readWriteRoleArn(account), `Writing s3://${input.bucket}/${input.key}`, async (client) => {
        const result = await client.send(new PutObjectCommand({ Bucket: input.bucket, Key: input.key, Body: input.body, ContentType: input.content_type ?? 'text/plain; charset=utf-8' }));
        return { account: account.name, bucket: input.bucket, key: input.key, size: Buffer.byteLength(input.body), etag: result.ETag };
      });
    },

    async bucket_access_check(event, context) {
      const input = parseArguments('bucket_access_check', event);
      const caller = callerFrom(context, useExecutionRole);
      const account = await resolveAccount(input.account);
      const details: Record<string, string> = {};
      const summary: Record<string, boolean> = {};
      let firstKey: string | undefined;
      if (input.operations.includes('list') || input.operations.includes('read')) {
        try {
          await withS3(caller, account, roleArnFor(account), `Listing s3://${input.bucket}`, async (client) => {
            const page = await client.send(new ListObjectsV2Command({ Bucket: input.bucket, MaxKeys: 1 }));
            firstKey = page.Contents?.[0]?.Key;
          });
          summary.can_list = true;
          details.list = `allowed with ${roleArnFor(account)}`;
        } catch (error) {
          summary.can_list = false;
          details.list = (error as Error).message;
        }
      }
      if (input.operations.includes('read')) {
        if (!summary.can_list) {
          summary.can_read = false;
          details.read = 'not checked: the bucket cannot be listed';
        } else if (firstKey === undefined) {
          summary.can_read = true;
          details.read = 'bucket is empty; the role allows s3:GetObject';
        } else {
          try {
            const key = firstKey;
            await withS3(caller, account, roleArnFor(account), `Reading s3://${input.bucket}/${key}`, (client) => client.send(new HeadObjectCommand({ Bucket: input.bucket, Key: key })));
            summary.can_read = true;
            details.read = `allowed (checked with HeadObject on ${key})`;
          } catch (error) {
            summary.can_read = false;
            details.read = (error as Error).message;
          }
        }
      }
      if (input.operations.includes('write')) {
        // Decided by whether the user may assume the read-write role; nothing is written.
        try {
          await roles.credentialsFor(caller, account, readWriteRoleArn(account));
          summary.can_write = true;
          details.write = `allowed with ${readWriteRoleArn(account)} (not exercised)`;
        } catch (error) {
          summary.can_write = false;
          details.write = (error as Error).message;
        }
      }
      return { account: account.name, bucket: input.bucket, access_summary: summary, details };
    },
  };

  return {
    toolSchema: TOOL_SCHEMA,
    get stats() {
      return { assumeRoleCalls: roles.assumeRoleCalls };
    },
    async handler(event, context) {
      const tool = toolNameFrom(context);
      const run = Object.hasOwn(tools, tool) ? tools[tool as ToolName] : undefined;
      if (!run) throw new ToolError('UnknownTool', `Unknown tool ${tool.slice(0, 80)}; this target serves ${TOOL_SCHEMA.map((entry) => entry.name).join(', ')}`);
      try {
        const result = await run(event, context);
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
