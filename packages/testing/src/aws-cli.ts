/**
 * The real AWS CLI (v1, `pip install awscli`) against a local endpoint, isolated from the developer's own AWS set-up.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface AwsCliCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface AwsCliResult {
  /** The exit code: 0 on success. */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `aws --endpoint-url {endpoint} ...args` path-style (S3) in region us-east-1, with only `credentials` in its
 * environment: `home` (a scratch directory) holds its config, no profile or shared credentials file is read and
 * instance metadata is off. A failing command is answered with its exit code; a missing CLI throws with the fix.
 */
export async function awsCli(options: { endpoint: string; home: string; credentials: AwsCliCredentials }, args: readonly string[]): Promise<AwsCliResult> {
  const { endpoint, home, credentials } = options;
  const config = path.join(home, 'aws-config');
  writeFileSync(config, '[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '', HOME: home, AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'no-credentials'),
    AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey, AWS_EC2_METADATA_DISABLED: 'true',
    ...(credentials.sessionToken ? { AWS_SESSION_TOKEN: credentials.sessionToken } : {}),
  };
  try {
    const { stdout, stderr } = await run('aws', ['--endpoint-url', endpoint, ...args], { env, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { code?: number | string; stdout?: string; stderr?: string };
    if (failure.code === 'ENOENT') throw new Error('The AWS CLI is not installed: pip install awscli (v1) or see https://aws.amazon.com/cli/', { cause: error });
    return { code: Number(failure.code), stdout: failure.stdout ?? '', stderr: failure.stderr ?? '' };
  }
}
