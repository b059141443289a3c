import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { CommandHandler } from '@gatehouse/core';
import { DeployConfigError } from './deploy-error.ts';
import { synthesizeApp } from './synthesize-app.ts';

const USAGE = [
  'usage: gatehouse deploy synth [--config F] [--out D] [--web-dist D] [--stack-prefix P]',
  '       gatehouse deploy diff|deploy [--config F] [--out D] [--web-dist D] [--stack-prefix P]',
  '  synth writes the CloudFormation templates (offline). diff and deploy synthesize, then run the AWS CDK CLI',
  '  (`cdk`, npm package aws-cdk) on the result as `cdk diff|deploy --app D --all`; they need AWS credentials.',
];

/** Whether the AWS SDK's default chain has anything to start from (environment, shared files, or a container/instance role). */
export function hasAwsCredentials(env: NodeJS.ProcessEnv): boolean {
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) return true;
  if (env.AWS_PROFILE || env.AWS_WEB_IDENTITY_TOKEN_FILE || env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI || env.AWS_CONTAINER_CREDENTIALS_FULL_URI) return true;
  const home = env.HOME || os.homedir();
  return existsSync(env.AWS_SHARED_CREDENTIALS_FILE || path.join(home, '.aws', 'credentials')) || existsSync(env.AWS_CONFIG_FILE || path.join(home, '.aws', 'config'));
}

/** The AWS CDK CLI, as `npx cdk` would find it: the working directory's `node_modules/.bin/cdk`, else one on PATH. */
function findCdkCli(env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  const local = path.join(cwd, 'node_modules', '.bin', 'cdk');
  if (existsSync(local)) return local;
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, 'cdk'))) return path.join(dir, 'cdk');
  }
  return undefined;
}

/** `gatehouse deploy synth|diff|deploy`: the same gatehouse.yaml the local stack runs, as a CDK app for AWS. */
export const deployCommand: CommandHandler = async (args, context) => {
  const [verb, ...rest] = args;
  let values;
  try {
    ({ values } = parseArgs({
      args: rest,
      allowPositionals: false,
      options: { out: { type: 'string' }, 'web-dist': { type: 'string' }, 'stack-prefix': { type: 'string' }, help: { type: 'boolean' } },
    }));
  } catch (error) {
    context.stderr((error as Error).message);
    for (const line of USAGE) context.stderr(line);
    return 2;
  }
  if (values.help || !verb || !['synth', 'diff', 'deploy'].includes(verb)) {
    for (const line of USAGE) (values.help ? context.stdout : context.stderr)(line);
    return values.help ? 0 : 2;
  }
  if (verb !== 'synth' && !hasAwsCredentials(process.env)) {
    context.stderr(
      `gatehouse deploy ${verb} talks to your AWS account and needs AWS credentials, and none were found ` +
        '(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or ~/.aws/credentials). Configure them (e.g. `aws configure` or `aws sso login`), ' +
        'or run `gatehouse deploy synth` to only write the templates.',
    );
    return 2;
  }
  const cdkCli = verb === 'synth' ? undefined : findCdkCli(process.env, process.cwd());
  if (verb !== 'synth' && !cdkCli) {
    context.stderr(`gatehouse deploy ${verb} runs the AWS CDK CLI, which was not found: install it with \`npm install -D aws-cdk\` (or \`npm install -g aws-cdk\`), then run this again.`);
    return 69; // EX_UNAVAILABLE
  }
  const outDir = path.resolve(values.out ?? 'cdk.out');
  try {
    const app = await synthesizeApp({
      config: context.config,
      configDir: context.configFile ? path.dirname(path.resolve(context.configFile)) : process.cwd(),
      outDir,
      ...(values['web-dist'] ? { webDist: values['web-dist'] } : {}),
      ...(values['stack-prefix'] ? { stackPrefix: values['stack-prefix'] } : {}),
    });
    context.stdout(`Synthesized ${app.assembly.stacks.length} stacks into ${outDir}:`);
    for (const stack of app.assembly.stacks) context.stdout(`  ${stack.stackName.padEnd(28)} ${stack.templateFile}`);
  } catch (error) {
    if (error instanceof DeployConfigError) {
      context.stderr(`gatehouse deploy: cannot deploy this configuration: ${error.message}`);
      return 78; // EX_CONFIG, as for other configuration errors
    }
    throw error;
  }
  if (verb === 'synth') {
    const shown = path.relative(process.cwd(), outDir).startsWith('..') ? outDir : path.relative(process.cwd(), outDir) || '.';
    context.stdout(`Next, with AWS credentials: gatehouse deploy deploy (or npx cdk deploy --app ${shown} --all).`);
    return 0;
  }
  const cdk = spawnSync(cdkCli!, [verb, '--app', outDir, '--all'], { stdio: 'inherit' });
  if (cdk.error) {
    context.stderr(`gatehouse deploy ${verb}: could not start the AWS CDK CLI (${cdk.error.message}).`);
    return 69;
  }
  return cdk.status ?? 1;
};
