import { existsSync } from 'node:fs';
import path from 'node:path';
import type { AccountConfig, CustomJwtAuthorizerConfig, GatehouseConfig, RuntimeConfig, ServerProtocol } from '@gatehouse/core';
import { BRIDGE_ROLE, READ_ONLY_ROLE } from '@gatehouse/tools';
import { DeployConfigError } from './deploy-error.ts';
import { DEFAULT_GATEWAY_NAME, DEFAULT_RUNTIME_NAME, OPS_TARGET_NAME } from './deploy-names.ts';
import { planTarget } from './plan-target.ts';

/** Who may call a runtime or gateway on AWS. `cognito`: the deployed pool, exactly its web client. */
export type PlannedAuthorizer =
  | { readonly kind: 'cognito' }
  | { readonly kind: 'jwt'; readonly jwt: CustomJwtAuthorizerConfig }
  | { readonly kind: 'iam' };

export interface PlannedRuntime {
  readonly name: string;
  readonly description: string | undefined;
  /** Docker build context (absolute) and the Dockerfile inside it (relative to the context). */
  readonly context: string;
  readonly dockerfile: string;
  /** Docker-ignore patterns for the context (the reference agent's context is the repository). */
  readonly exclude: readonly string[];
  readonly authorizer: PlannedAuthorizer;
  readonly allowlistedHeaders: readonly string[];
  readonly idleSeconds: number;
  readonly maxLifetimeSeconds: number;
  readonly environment: Readonly<Record<string, string>>;
  /** `protocolConfiguration.serverProtocol`: HTTP, MCP, A2A or AGUI, as declared. */
  readonly protocol: ServerProtocol;
}

export type PlannedTarget =
  | { readonly kind: 'ops-tools'; readonly name: string; readonly description: string | undefined }
  | { readonly kind: 'lambda'; readonly name: string; readonly description: string | undefined; readonly entry: string; readonly handler: string; readonly toolSchema: readonly unknown[] }
  | { readonly kind: 'mcp-server'; readonly name: string; readonly description: string | undefined; readonly endpoint: string }
  | { readonly kind: 'openapi'; readonly name: string; readonly description: string | undefined; readonly inline: string };

export interface PlannedGateway {
  readonly name: string;
  readonly description: string | undefined;
  readonly authorizer: PlannedAuthorizer;
  readonly targets: readonly PlannedTarget[];
}

export interface PlannedWebClient {
  readonly poolName: string;
  readonly clientName: string;
  readonly signUpEnabled: boolean;
  readonly caseSensitive: boolean;
  readonly groups: readonly string[];
  readonly scopes: readonly string[];
  /** Extra callback/logout URLs from the config; the CloudFront URL is always added. Only https (or http://localhost). */
  readonly callbackUrls: readonly string[];
  readonly logoutUrls: readonly string[];
}

export interface DeployPlan {
  /** `undefined`: environment-agnostic stacks (the CDK CLI's region); the local default `local` is not an AWS region. */
  readonly region: string | undefined;
  readonly web: PlannedWebClient;
  readonly runtimes: readonly PlannedRuntime[];
  readonly gateways: readonly PlannedGateway[];
  /** Registry table name when the config names one; else CloudFormation names it. */
  readonly registryTableName: string | undefined;
  readonly accounts: readonly AccountConfig[];
  /** Every role name the bridge may assume (the default plus each account's own). */
  readonly targetRoleNames: readonly string[];
  readonly bridgeRoleName: string;
  readonly allowOperations: readonly string[];
  readonly modelEnvironment: Readonly<Record<string, string>>;
  readonly bedrockModelId: string | undefined;
}

export interface PlanOptions {
  /** Directory relative paths in the config are resolved against (the config file's). */
  readonly configDir: string;
  /** The repository root: build context of the reference agent. */
  readonly repoRoot: string;
}

/** The reference agent image: built from the repository with only what the agent needs in the context. */
export const REFERENCE_AGENT_DOCKERFILE = 'deploy/agent.Dockerfile';
const REFERENCE_AGENT_CONTEXT_EXCLUDE: readonly string[] = [
  '*',
  '!package.json',
  '!package-lock.json',
  '!packages/*/package.json',
  '!deploy/package.json',
  '!packages/core/src',
  '!packages/agent/src',
  '!deploy/agent.Dockerfile',
];

/** Variable names that look like credentials: they belong in AgentCore Identity or Secrets Manager, not a template. */
const SECRET_NAME = /(SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE|CREDENTIAL|ACCESS_KEY)/i;

function checkEnvironment(field: string, environment: Readonly<Record<string, string>>): void {
  for (const name of Object.keys(environment)) {
    if (SECRET_NAME.test(name)) {
      throw new DeployConfigError(
        `${field}.${name}`,
        'looks like a secret, and environment variables are written into the CloudFormation template in clear text. ' +
          'Keep it out of gatehouse.yaml for deployment: store it in AWS Secrets Manager or an AgentCore Identity API-key provider and read it at run time.',
      );
    }
  }
}

function checkDiscoveryUrl(field: string, url: string): void {
  const parsed = new URL(url);
  if (parsed.protocol !== 'https:') {
    throw new DeployConfigError(
      field,
      `"${url}" is not https. AgentCore fetches the issuer's keys over the internet and accepts only https discovery URLs; ` +
        'point it at your identity provider\'s https discovery URL, or leave authorizerConfiguration out of the runtime/gateway ' +
        'declared for the web app and deploy without `runtimes`/`gateways` to use the deployed Cognito pool.',
    );
  }
}

function authorizerFor(field: string, jwt: CustomJwtAuthorizerConfig | undefined): PlannedAuthorizer {
  if (!jwt) return { kind: 'iam' };
  checkDiscoveryUrl(`${field}.authorizerConfiguration.customJWTAuthorizer.discoveryUrl`, jwt.discoveryUrl);
  return { kind: 'jwt', jwt };
}

/** An account's role may be a bare name or a role ARN (the registry accepts both); the bridge's grant needs the name. */
export function roleNameOf(role: string): string {
  return role.startsWith('arn:') ? role.slice(role.indexOf(':role/') + ':role/'.length).split('/').at(-1)! : role;
}

function isAllowedRedirect(url: string): boolean {
  const parsed = new URL(url);
  return parsed.protocol === 'https:' || (parsed.protocol === 'http:' && parsed.hostname === 'localhost');
}

/**
 * Turns a validated gatehouse.yaml into what the CDK app creates, refusing (with the field's path)
 * what the managed service cannot express. Mirrors the local defaults: no `runtimes` → the reference
 * agent; no `gateways` → one gateway with the operations tools; no `identity` → one pool with a web client.
 */
export function planDeployment(config: Readonly<GatehouseConfig>, options: PlanOptions): DeployPlan {
  const web = planWebClient(config);
  const modelEnvironment: Record<string, string> = { GATEHOUSE_MODEL: JSON.stringify(config.model) };
  const runtimes = planRuntimes(config, options);
  const gateways = planGateways(config, options);
  const registry = config.tools.registry;
  return {
    region: config.region === 'local' ? undefined : config.region,
    web,
    runtimes,
    gateways,
    registryTableName: registry.backend === 'dynamodb' ? registry.tableName : undefined,
    accounts: config.tools.accounts,
    targetRoleNames: [...new Set([READ_ONLY_ROLE, ...config.tools.accounts.map((account) => roleNameOf(account.roleName))])],
    bridgeRoleName: BRIDGE_ROLE,
    allowOperations: config.tools.allowOperations,
    modelEnvironment,
    bedrockModelId: config.model.provider === 'bedrock' ? config.model.modelId : undefined,
  };
}

/** The Cognito pool and web client: the config's first pool and its public code-flow client, or the defaults. */
function planWebClient(config: Readonly<GatehouseConfig>): PlannedWebClient {
  const pool = config.identity?.userPools[0];
  const webClient = pool?.clients.find((client) => !client.generateSecret && client.allowedOAuthFlows.includes('code'));
  if (pool && !webClient) {
    throw new DeployConfigError('identity.userPools[0].clients', 'the web app needs a public client (generateSecret: false) with the code flow; add one or leave identity out.');
  }
  for (const [index, url] of (webClient?.callbackUrls ?? []).entries()) {
    if (!isAllowedRedirect(url)) throw new DeployConfigError(`identity.userPools[0].clients[${pool!.clients.indexOf(webClient!)}].callbackUrls[${index}]`, `"${url}": Cognito accepts only https callback URLs (http only for localhost).`);
  }
  return {
    poolName: pool?.poolName ?? 'gatehouse',
    clientName: webClient?.clientName ?? 'web',
    signUpEnabled: pool?.signUpEnabled ?? false,
    caseSensitive: pool?.usernameConfiguration.caseSensitive ?? false,
    groups: pool?.groups.map((group) => group.groupName) ?? ['ops-readonly', 'ops-readwrite'],
    scopes: webClient?.allowedOAuthScopes ?? ['openid', 'email', 'profile'],
    callbackUrls: (webClient?.callbackUrls ?? []).filter(isAllowedRedirect),
    logoutUrls: (webClient?.logoutUrls ?? []).filter(isAllowedRedirect),
  };
}

/** The declared runtimes (each refused with its field's path if AgentCore cannot run it), else the reference agent. */
function planRuntimes(config: Readonly<GatehouseConfig>, options: PlanOptions): PlannedRuntime[] {
  const runtimes: PlannedRuntime[] = config.runtimes
    ? config.runtimes.map((runtime, index) => planDeclaredRuntime(`runtimes[${index}]`, runtime, options.configDir))
    : [
        {
          name: DEFAULT_RUNTIME_NAME,
          description: 'Reference operations agent',
          context: options.repoRoot,
          dockerfile: REFERENCE_AGENT_DOCKERFILE,
          exclude: REFERENCE_AGENT_CONTEXT_EXCLUDE,
          authorizer: { kind: 'cognito' },
          // AWS's workload token is for AgentCore Identity only; the gateway accepts the web client's tokens,
          // so the runtime forwards the caller's Authorization header and the agent shows it to the gateway.
          allowlistedHeaders: ['Authorization'],
          idleSeconds: 900,
          maxLifetimeSeconds: 28_800,
          environment: { GATEHOUSE_GATEWAY_CREDENTIAL: 'caller-token' },
          protocol: 'HTTP',
        },
      ];
  const names = new Set<string>();
  for (const [index, runtime] of runtimes.entries()) {
    if (names.has(runtime.name.toLowerCase())) throw new DeployConfigError(`runtimes[${index}].agentRuntimeName`, `"${runtime.name}" is declared twice.`);
    names.add(runtime.name.toLowerCase());
  }
  return runtimes;
}

function planDeclaredRuntime(field: string, runtime: RuntimeConfig, configDir: string): PlannedRuntime {
  if (!('command' in runtime.agent)) {
    throw new DeployConfigError(`${field}.agent.url`, 'an agent already running at a URL cannot be moved into AgentCore; give agent.command with agent.cwd holding a Dockerfile.');
  }
  const context = path.resolve(configDir, runtime.agent.cwd ?? '.');
  if (!existsSync(path.join(context, 'Dockerfile'))) {
    throw new DeployConfigError(
      `${field}.agent.cwd`,
      `AgentCore runs agents as linux/arm64 containers and there is no Dockerfile in ${runtime.agent.cwd ?? '(the config file\'s directory)'}; add one that starts the agent listening on 0.0.0.0:8080.`,
    );
  }
  checkEnvironment(`${field}.environmentVariables`, runtime.environmentVariables);
  checkEnvironment(`${field}.agent.env`, runtime.agent.env);
  return {
    name: runtime.agentRuntimeName,
    description: runtime.description,
    context,
    dockerfile: 'Dockerfile',
    exclude: ['node_modules', '.git', '.gatehouse', 'cdk.out'],
    authorizer: authorizerFor(field, runtime.authorizerConfiguration?.customJWTAuthorizer),
    allowlistedHeaders: runtime.requestHeaderConfiguration?.requestHeaderAllowlist ?? [],
    idleSeconds: runtime.lifecycleConfiguration.idleRuntimeSessionTimeout,
    maxLifetimeSeconds: runtime.lifecycleConfiguration.maxLifetime,
    environment: { ...runtime.agent.env, ...runtime.environmentVariables },
    protocol: runtime.protocolConfiguration.serverProtocol,
  };
}

/** The declared gateways and their targets, else one gateway with the operations tools. */
function planGateways(config: Readonly<GatehouseConfig>, options: PlanOptions): PlannedGateway[] {
  if (!config.gateways) {
    return [
      {
        name: DEFAULT_GATEWAY_NAME,
        description: 'Multi-account operations tools',
        authorizer: { kind: 'cognito' },
        targets: [{ kind: 'ops-tools', name: OPS_TARGET_NAME, description: 'Account registry and read-only AWS calls in member accounts' }],
      },
    ];
  }
  return config.gateways.map((gateway, index) => ({
    name: gateway.name,
    description: gateway.description,
    authorizer: authorizerFor(`gateways[${index}]`, gateway.authorizerConfiguration?.customJWTAuthorizer),
    targets: gateway.targets.map((target, targetIndex) => planTarget(`gateways[${index}].targets[${targetIndex}]`, target, options.configDir)),
  }));
}
