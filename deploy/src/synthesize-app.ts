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
 * The steps: plan → bundle the Lambda functions → add the stacks → synthesize.
 */
export async function synthesizeApp(options: SynthesizeOptions): Promise<SynthesizedApp> {
  const plan = planDeployment(options.config, { configDir: path.resolve(options.configDir ?? '.'), repoRoot: REPO_ROOT });
  const webDist = path.resolve(options.webDist ?? DEFAULT_WEB_DIST);
  if (!existsSync(path.join(webDist, 'index.html'))) {
    throw new DeployConfigError('webDist', `no built web app at ${path.relative(process.cwd(), webDist) || '.'}: run \`npm run build -w @gatehouse/web\` first.`);
  }
  const names = stackNamesFor(options.stackPrefix ?? 'Gatehouse', plan);
  const bundlesDir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-deploy-'));
  try {
    const bundles = await bundleFunctions(plan, bundlesDir);
    const app = new App({ outdir: options.outDir, analyticsReporting: false });
    const stacks: StackRequest = { app, plan, names, env: plan.region ? { region: plan.region } : {} };
    const services = addServiceStacks(stacks, bundles);
    addWebContentStack(stacks, services, webDist);
    addMemberStacks(stacks);
    const assembly = app.synth();
    return {
      plan,
      assembly,
      stackNames: names,
      template: (stackName) => assembly.getStackByName(stackName).template as Record<string, unknown>,
    };
  } finally {
    await rm(bundlesDir, { recursive: true, force: true });
  }
}

function stackNamesFor(prefix: string, plan: DeployPlan): StackNames {
  return {
    frontend: `${prefix}-Frontend`,
    cognito: `${prefix}-Cognito`,
    registry: `${prefix}-Registry`,
    tools: `${prefix}-Tools`,
    gateway: `${prefix}-Gateway`,
    runtime: `${prefix}-Runtime`,
    webContent: `${prefix}-WebContent`,
    members: (plan.accounts.length > 0 ? plan.accounts.map((account) => account.accountId) : ['Template']).map((id) => `${prefix}-Member-${id}`),
  };
}

interface FunctionBundles {
  /** The operations tools' Lambda. */
  readonly tools: string;
  /** Each declared Lambda target, by `{gateway}/{target}`. */
  readonly targets: Map<string, { dir: string; handler: string }>;
}

async function bundleFunctions(plan: DeployPlan, bundlesDir: string): Promise<FunctionBundles> {
  const tools = path.join(bundlesDir, 'ops-tools');
  await bundleFunction(TOOLS_LAMBDA_ENTRY, tools, 'lambda-handler');
  const targets = new Map<string, { dir: string; handler: string }>();
  for (const gateway of plan.gateways) {
    for (const target of gateway.targets) {
      if (target.kind !== 'lambda') continue;
      const dir = path.join(bundlesDir, `${gateway.name}-${target.name}`);
      await bundleFunction(target.entry, dir, 'index');
      targets.set(`${gateway.name}/${target.name}`, { dir, handler: `index.${target.handler}` });
    }
  }
  return { tools, targets };
}

/** What every stack step adds to. */
interface StackRequest {
  readonly app: App;
  readonly plan: DeployPlan;
  readonly names: StackNames;
  readonly env: Environment;
}

interface ServiceStacks {
  readonly frontend: FrontendStack;
  readonly cognito: CognitoStack;
  readonly runtime: RuntimeStack;
  readonly defaultGatewayUrl: string | undefined;
}

/** The web front, users, registry, tools Lambda, gateway(s) and runtime(s), each a stack. */
function addServiceStacks({ app, plan, names, env }: StackRequest, bundles: FunctionBundles): ServiceStacks {
  const frontend = new FrontendStack(app, names.frontend, { env, description: 'Gatehouse web app: private S3 bucket behind CloudFront (OAC, HTTPS only)' });
  const cognito = new CognitoStack(app, names.cognito, { env, web: plan.web, appUrl: frontend.appUrl, description: 'Gatehouse users: Cognito user pool, public web client, hosted domain' });
  const registry = new RegistryStack(app, names.registry, { env, tableName: plan.registryTableName, accounts: plan.accounts, description: 'Gatehouse account registry (DynamoDB)' });
  const tools = new ToolsStack(app, names.tools, {
    env,
    table: registry.table,
    bundleDir: bundles.tools,
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
    lambdaBundles: bundles.targets,
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
  return { frontend, cognito, runtime, defaultGatewayUrl: defaultGateway?.gatewayUrl };
}

/** The built web app and the `config.json` that points it at the deployed pool, runtime and gateway. */
function addWebContentStack({ app, plan, names, env }: StackRequest, { frontend, cognito, runtime, defaultGatewayUrl }: ServiceStacks, webDist: string): void {
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
      gatewayUrl: defaultGatewayUrl ?? '',
      oauthBase: cognito.domain.baseUrl(),
      runtimeEndpoint: `https://bedrock-agentcore.${Aws.REGION}.${Aws.URL_SUFFIX}`,
      runtimeProtocol: plan.runtimes[0]?.protocol ?? 'HTTP',
    },
    description: 'Gatehouse web build and its config.json',
  });
}

/** One target-role stack per registered account (deployed in that account), or one template stack. */
function addMemberStacks({ app, plan, names }: StackRequest): void {
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
}

function memberEnvironment(account: string, region: string | undefined): Environment {
  return region ? { account, region } : { account };
}
