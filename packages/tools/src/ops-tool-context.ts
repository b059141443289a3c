import { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '@gatehouse/core';
import type { AccountRegistry } from './account-registry.ts';
import type { Account } from './account.ts';
import { READ_WRITE_ROLE } from './ops-roles.ts';
import { RoleCredentialProvider, type RoleCredentials } from './role-credentials.ts';
import { callerFrom, type ToolCaller } from './tool-context.ts';
import { ToolError } from './tool-error.ts';

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

/** Who a tool call acts for and in which account. */
export interface ToolTarget {
  readonly caller: ToolCaller;
  readonly account: Account;
}

/** One S3 job: acting for `target` with `roleArn`; `action` names it in the error if AWS refuses. */
export interface S3Job {
  readonly target: ToolTarget;
  readonly roleArn: string;
  readonly action: string;
}

/** What every tool uses: the options, the role sessions (cached per user) and the account lookup. */
export class OpsToolContext {
  readonly options: OpsToolsOptions;
  readonly roles: RoleCredentialProvider;

  constructor(options: OpsToolsOptions) {
    this.options = options;
    this.roles = new RoleCredentialProvider({ stsEndpoint: options.stsEndpoint, region: options.region });
  }

  /** The caller (from the gateway's `context.identity`) and the enabled account named `accountName`. */
  async target(accountName: string, context: unknown): Promise<ToolTarget> {
    const caller = callerFrom(context, this.options.useExecutionRole ?? false);
    return { caller, account: await this.resolveAccount(accountName) };
  }

  async resolveAccount(name: string): Promise<Account> {
    const { registry } = this.options;
    const account = await registry.get(name);
    if (account?.enabled) return account;
    const known = describeAccounts(await registry.list());
    const state = account ? 'is disabled' : 'is not registered';
    throw new ToolError('UnknownAccount', `Account "${name.slice(0, 80)}" ${state}. Known accounts: ${known}`);
  }

  /** Runs `work` with an S3 client on the assumed role's session; AWS failures become `ToolError`s. */
  async withS3<T>(job: S3Job, work: (client: S3Client) => Promise<T>): Promise<T> {
    const credentials = await this.roles.credentialsFor(job.target.caller, job.target.account, job.roleArn);
    const client = this.#s3Client(credentials, job.target.account);
    try {
      return await work(client);
    } catch (error) {
      throw awsErrorMessage(error, job.action);
    } finally {
      client.destroy();
    }
  }

  #s3Client(credentials: RoleCredentials, account: Account): S3Client {
    return new S3Client({
      region: account.region ?? this.options.region,
      credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey, sessionToken: credentials.sessionToken },
      maxAttempts: 2,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      ...(this.options.s3Endpoint ? { endpoint: this.options.s3Endpoint, forcePathStyle: true } : {}),
    });
  }
}

export function readWriteRoleArn(account: Account): string {
  return `arn:aws:iam::${account.accountId}:role/${READ_WRITE_ROLE}`;
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
