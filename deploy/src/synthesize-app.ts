import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Aws, type Environment } from 'aws-cdk-lib';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import type { GatehouseConfig } from '@gatehouse/core';
import { bundleFunction } from './bundle-function.ts';
import { CognitoStack } from './cognito-stack.ts';
import { DeployConfigError } from './deploy-error.ts';
import { DEFAULT_GATEWAY_NAME } from './deploy-names.ts';
import { planDeployment, roleNameOf, type DeployPlan } from './deploy-plan.ts';
import { FrontendStack } from './frontend-stack.ts';
import { GatewayStack } from './gateway-stack.ts';
import { MemberAccountStack } from './member-account-stack.ts';
import { RegistryStack } from './registry-stack.ts';
import { RuntimeStack } from './runtime-stack.ts';
import { ToolsStack } from './tools-stack.ts';
import { WebContentStack } from './web-content-stack.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The module Gatehouse runs as the `gatehouse:ops-tools` function target, and the tools Lambda's source. */
export const TOOLS_LAMBDA_ENTRY = path.join(REPO_ROOT, 'packages', 'tools', 'src', 'lambda-handler.ts');
export const DEFAULT_WEB_DIST = path.join(REPO_ROOT, 'packages', 'web', 'dist');

export interface SynthesizeOptions {
  readonly config: Readonly<GatehouseConfig>;
  /** Where the config's relative paths start (the config file's directory); default the working directory. */
  readonly configDir?: string;
  /** The cloud assembly directory (`cdk.out`). */
  readonly outDir: string;
  /** The built web app; default packages/web/dist. */
  readonly webDist?: string;
  /** Stack names are `{prefix}-Cognito`, `{prefix}-Runtime`, …; default `Gatehouse`. */
  readonly stackPrefix?: string;
}

export interface StackNames {
  readonly frontend: string;
  readonly cognito: string;
  readonly registry: string;
  readonly tools: string;
  readonly gateway: string;
  readonly runtime: string;
  readonly webContent: string;
  readonly members: readonly string[];
}

export interface SynthesizedApp {
  readonly plan: DeployPlan;
  readonly assembly: CloudAssembly;
  readonly stackNames: StackNames;
  /** The synthesized CloudFormation template of one stack, by name. */
  template(stackName: string): Record<string, unknown>;
}

/**
 * gatehouse.yaml → a CDK app (seed 004's stacks) → a cloud assembly in `outDir`. Offline: no AWS
 * account, no network, no container engine (Docker images are built by `cdk deploy`, not here).
 */
export async function synthesizeApp(options: SynthesizeOptions): Promise<SynthesizedApp> {
  const plan = planDeployment(options.config, { configDir: path.resolve(options.configDir ?? '.'), repoRoot: REPO_ROOT });
  const webDist = path.resolve(options.webDist ?? DEFAULT_WEB_DIST);
  if (!existsSync(path.join(webDist, 'index.html'))) {
    throw new DeployConfigError('webDist', `no built web app at ${path.relative(process.cwd(), webDist) || '.'}: run \`npm run build -w @gatehouse/web\` first.`);
  }
  const prefix = options.stackPrefix ?? 'Gatehouse';
  const bundles = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-deploy-'));
  try {
    const toolsBundle = path.join(bundles, 'ops-tools');
    await bundleFunction(TOOLS_LAMBDA_ENTRY, toolsBundle, 'lambda-handler');
    const lambdaBundles = new Map<string, { dir: string; handler: string }>();
    for (const gateway of plan.gateways) {
      for (const target of gateway.targets) {
        if (target.kind !== 'lambda') continue;
        const dir = path.join(bundles, `${gateway.name}-${target.name}`);
        await bundleFunction(target.entry, dir, 'index');
        lambdaBundles.set(`${gateway.name}/${target.name}`, { dir, handler: `index.${target.handler}` });
      }
    }

    const app = new App({ outdir: options.outDir, analyticsReporting: false });
    const env: Environment = plan.region ? { region: plan.region } : {};
    const names: StackNames = {
      frontend: `${prefix}-Frontend`,
      cognito: `${prefix}-Cognito`,
      registry: `${prefix}-Registry`,
      tools: `${prefix}-Tools`,
      gateway: `${prefix}-Gateway`,
      runtime: `${prefix}-Runtime`,
      webContent: `${prefix}-WebContent`,
      members: (plan.accounts.length > 0 ? plan.accounts.map((account) => account.accountId) : ['Template']).map((id) => `${prefix}-Member-${id}`),
    };
    const frontend = new FrontendStack(app, names.frontend, { env, description: 'Gatehouse web app: private S3 bucket behind CloudFront (OAC, HTTPS only)' });
    const cognito = new CognitoStack(app, names.cognito, { env, web: plan.web, appUrl: frontend.appUrl, description: 'Gatehouse users: Cognito user pool, public web client, hosted domain' });
    const registry = new RegistryStack(app, names.registry, { env, tableName: plan.registryTableName, accounts: plan.accounts, description: 'Gatehouse account registry (DynamoDB)' });
    const tools = new ToolsStack(app, names.tools, {
      env,
      table: registry.table,
      bundleDir: toolsBundle,
      bridgeRoleName: plan.bridgeRoleName,
      targetRoleNames: plan.targetRoleNames,
      allowOperations: plan.allowOperations,
      description: 'Gatehouse operations tools as a Lambda function (the gateway target)',
    });
    const gateway = new GatewayStack(app, names.gateway, {
      env,
      gateways: plan.gateways,
      webClient: cognito.webClient,
      discoveryUrl: cognito.discoveryUrl,
      toolsFunction: tools.function,
      lambdaBundles,
      description: 'Gatehouse AgentCore Gateway(s) with JWT inbound auth',
    });
    const defaultGateway = gateway.gateways.get(DEFAULT_GATEWAY_NAME) ?? [...gateway.gateways.values()][0];
    const runtime = new RuntimeStack(app, names.runtime, {
      env,
      runtimes: plan.runtimes,
      userPool: cognito.userPool,
      webClient: cognito.webClient,
      gatewayUrl: defaultGateway?.gatewayUrl,
      modelEnvironment: plan.modelEnvironment,
      bedrockModelId: plan.bedrockModelId,
      description: 'Gatehouse agents on AgentCore Runtime',
    });
    const webRuntime = [...runtime.runtimes.values()][0]!;
    new WebContentStack(app, names.webContent, {
      env,
      bucket: frontend.bucket,
      distribution: frontend.distribution,
      webDist,
      config: {
        region: Aws.REGION,
        userPoolId: cognito.userPool.userPoolId,
        clientId: cognito.webClient.userPoolClientId,
        issuer: cognito.issuer,
        runtimeArn: webRuntime.agentRuntimeArn,
        gatewayUrl: defaultGateway?.gatewayUrl ?? '',
        oauthBase: cognito.domain.baseUrl(),
        runtimeEndpoint: `https://bedrock-agentcore.${Aws.REGION}.${Aws.URL_SUFFIX}`,
        runtimeProtocol: plan.runtimes[0]?.protocol ?? 'HTTP',
      },
      description: 'Gatehouse web build and its config.json',
    });
    const memberAccounts = plan.accounts.length > 0 ? plan.accounts : [undefined];
    memberAccounts.forEach((account, index) => {
      new MemberAccountStack(app, names.members[index]!, {
        ...(account ? { env: memberEnvironment(account.accountId, account.region ?? plan.region) } : {}),
        targetRoleName: account ? roleNameOf(account.roleName) : plan.targetRoleNames[0]!,
        bridgeRoleName: plan.bridgeRoleName,
        externalId: account?.externalId,
        description: `Gatehouse read-only target role${account ? ` for ${account.name}` : ''} (deploy in the member account)`,
      });
    });
    const assembly = app.synth();
    return {
      plan,
      assembly,
      stackNames: names,
      template: (stackName) => assembly.getStackByName(stackName).template as Record<string, unknown>,
    };
  } finally {
    await rm(bundles, { recursive: true, force: true });
  }
}

function memberEnvironment(account: string, region: string | undefined): Environment {
  return region ? { account, region } : { account };
}
