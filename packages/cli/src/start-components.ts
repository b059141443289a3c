import { parseConfig, type HttpComponent, type Platform } from '@gatehouse/core';
import { createJwtAuthorizer, type SigV4Key } from '@gatehouse/auth';
import { createIdentity, type IdentityService, type PerimeterResource, type WorkloadDefinition } from '@gatehouse/identity';
import { createRuntime, probeAgentInSandbox, type RuntimeService } from '@gatehouse/runtime';
import { createGateway, type GatewayService } from '@gatehouse/gateway';
import { createControlPlane, type ControlPlaneService } from '@gatehouse/control-plane';
import { agentEntryPath } from '@gatehouse/agent';
import { createAccountRegistry, createOpsTools } from '@gatehouse/tools';
import { createSandbox, type SandboxService } from '@gatehouse/sandbox';
import { withDefaults, OPS_TOOLS_FUNCTION } from './default-config.ts';
import { perimeterDeclarations } from './perimeter-declarations.ts';
import { agentCaFile, type LocalCertificate } from './serve-https.ts';

export type ComponentName = 'identity' | 'runtime' | 'gateway';

type Perimeter = ReturnType<IdentityService['perimeter']>;

/** The URLs one process answers on: public, on this listener, and (shared store) as other instances reach it. */
export interface ProcessUrls {
  readonly baseUrl: string;
  readonly localUrl: string;
  readonly instanceUrl: string | undefined;
}

export interface IdentityRequest {
  /** The platform as configured, before the default runtime and gateway are filled in. */
  readonly basePlatform: Platform;
  readonly env: NodeJS.ProcessEnv;
  readonly tls: LocalCertificate | undefined;
  /** Identity is added once it runs, so a failure further on closes it. */
  readonly started: HttpComponent[];
}

/** Identity and what every other component takes from it; `platform.config` holds the defaults. */
export interface StartedIdentity {
  readonly identity: IdentityService;
  readonly platform: Platform;
  /** The audience workload tokens are minted for unless a runtime names its own. */
  readonly defaultAudience: string;
  readonly declaredWorkloads: readonly WorkloadDefinition[];
  perimeterOf(resource: PerimeterResource): Perimeter | undefined;
}

/**
 * Identity starts first: the defaults (the default runtime's and gateway's authorizer) name its pool,
 * and every runtime and gateway reads its live client and origin lists from it.
 */
export async function startIdentity({ basePlatform, env, tls, started }: IdentityRequest): Promise<StartedIdentity> {
  const { baseUrl } = basePlatform;
  const identity = await createIdentity(basePlatform, { env });
  started.push(identity);
  const pool = identity.defaultPool;
  const hostEnvironment = tls ? { NODE_EXTRA_CA_CERTS: agentCaFile(tls.caFile, env) } : {};
  const defaults = withDefaults(basePlatform.config, { pool, baseUrl, agentCommand: [process.execPath, agentEntryPath], env, hostEnvironment });
  const config = parseConfig(defaults, 'configuration with defaults');
  const platform: Platform = { ...basePlatform, config };
  const defaultAudience = `${baseUrl}/mcp`;
  // One workload identity per runtime, named like it (AgentCore creates one with each runtime).
  const declaredWorkloads: WorkloadDefinition[] = (config.runtimes ?? []).map((entry) => ({
    name: entry.agentRuntimeName,
    inbound: entry.authorizerConfiguration?.customJWTAuthorizer,
    audience: entry.workloadIdentity.audience ?? defaultAudience,
  }));
  identity.registerWorkloads(declaredWorkloads);
  // Live client and origin lists (config plus `gatehouse perimeter` changes), one per runtime and gateway.
  const declarations = perimeterDeclarations(basePlatform.config, pool.userPoolId, baseUrl);
  const perimeterOf = (resource: PerimeterResource): Perimeter | undefined => {
    const declaration = declarations.get(resource);
    return declaration && identity.perimeter(resource, declaration);
  };
  return { identity, platform, defaultAudience, declaredWorkloads, perimeterOf };
}

export interface ComponentContext extends StartedIdentity {
  readonly env: NodeJS.ProcessEnv;
  readonly only: ReadonlySet<ComponentName>;
  readonly urls: ProcessUrls;
  readonly drainTimeoutMs: number;
  /** Each component is added as it starts, so a failure further on closes the ones already running. */
  readonly started: HttpComponent[];
}

export interface StartedComponents {
  readonly sandbox: SandboxService | undefined;
  readonly gateway: GatewayService | undefined;
  readonly runtime: RuntimeService | undefined;
  readonly controlPlane: ControlPlaneService | undefined;
}

/** The components after identity, in the order they depend on each other. */
export async function startComponents(context: ComponentContext): Promise<StartedComponents> {
  const sandbox = context.platform.config.tools.sandbox.enabled ? await startSandbox(context) : undefined;
  const gateway = context.only.has('gateway') ? await startGateway(context, sandbox) : undefined;
  const runtime = context.only.has('runtime') ? await startRuntime(context, sandbox) : undefined;
  const controlPlane = context.only.has('identity') ? await startControlPlane(context, { sandbox, gateway, runtime, controlPlane: undefined }) : undefined;
  return { sandbox, gateway, runtime, controlPlane };
}

async function startSandbox({ platform, identity, started }: ComponentContext): Promise<SandboxService> {
  const webIdentity = createJwtAuthorizer(
    { discoveryUrl: identity.defaultPool.discoveryUrl, allowedAudience: ['sts'] },
    { isRevoked: (claims) => identity.isRevoked(claims), fetch: identity.fetch },
  );
  const sandbox = await createSandbox(platform, {
    lookupAccessKey: (id) => identity.lookupAccessKey(id),
    verifyWebIdentity: (token) => webIdentity.verify(token),
  });
  started.push(sandbox);
  return sandbox;
}

async function startGateway(context: ComponentContext, sandbox: SandboxService | undefined): Promise<GatewayService> {
  const { platform, identity, env, only, urls } = context;
  const { config, logger } = platform;
  const registry = await createAccountRegistry(config.tools.registry, platform.dataDir);
  const ops = createOpsTools({
    registry,
    region: config.region,
    ...(sandbox ? { stsEndpoint: sandbox.stsEndpoint, s3Endpoint: sandbox.s3Endpoint } : {}),
    allowOperations: config.tools.allowOperations,
    logger,
  });
  const gateway = await createGateway(platform, {
    // Identity answers in this very process: its token endpoint is reached on this listener, never
    // through the public URL (a balancer that may route it to another, possibly dead, instance).
    // (Only when this process serves identity's routes; `gatehouse gateway` alone asks the public URL.)
    serviceClient: only.has('identity') ? { ...identity.serviceClient('gateway'), tokenEndpoint: `${urls.localUrl}/oauth2/token` } : identity.serviceClient('gateway'),
    // No credentials of the gateway's own: the default target derives them per user by web identity.
    sts: sandbox ? { endpoint: sandbox.stsEndpoint, region: config.region } : { region: env.AWS_REGION ?? config.region },
    isRevoked: (claims) => identity.isRevoked(claims),
    functions: { [OPS_TOOLS_FUNCTION]: { handler: ops.handler, toolSchema: ops.toolSchema } },
    fetch: identity.fetch,
    workloadDiscoveryUrl: identity.defaultPool.discoveryUrl,
    perimeter: (entry) => context.perimeterOf(`gateway:${entry.name}`),
    // Users' SaaS tokens (token-vault providerArn targets) come from identity's vault in this process.
    vault: identity.vault,
  });
  context.started.push(gateway);
  return gateway;
}

async function startRuntime(context: ComponentContext, sandbox: SandboxService | undefined): Promise<RuntimeService> {
  const { platform, identity, urls } = context;
  const lookupAccessKey = async (accessKeyId: string): Promise<SigV4Key | undefined> =>
    (await identity.lookupAccessKey(accessKeyId)) ?? (await sandbox?.lookupTemporaryKey(accessKeyId));
  const runtime = await createRuntime(platform, {
    ...(urls.instanceUrl ? { instanceUrl: urls.instanceUrl } : {}),
    lookupAccessKey,
    // In-process: identity runs in this process whatever `only` says, so minting never goes out through the public URL.
    workloadIdentity: identity,
    defaultWorkloadAudience: context.defaultAudience,
    isRevoked: (claims) => identity.isRevoked(claims),
    fetch: identity.fetch,
    perimeter: (entry) => context.perimeterOf(`runtime:${entry.agentRuntimeName}`),
  }, { drainTimeoutMs: context.drainTimeoutMs });
  context.started.push(runtime);
  return runtime;
}

async function startControlPlane(context: ComponentContext, { sandbox, gateway, runtime }: StartedComponents): Promise<ControlPlaneService> {
  const { platform, identity, env, defaultAudience, declaredWorkloads } = context;
  // Admin keys only (identity's), never the sandbox's temporary ones: this API changes the deployment.
  const controlPlane = await createControlPlane(platform, {
    lookupAccessKey: (id) => identity.lookupAccessKey(id),
    gatewayUrl: (name) => gateway?.gateways.find((entry) => entry.name === name)?.url,
    // Workload identities created through the API (and those of the runtimes it creates) mint tokens for the default audience.
    onWorkloadIdentities: (workloads) => identity.registerWorkloads([...declaredWorkloads, ...workloads.map((workload) => ({ ...workload, audience: defaultAudience }))]),
    ...(runtime ? { runtimes: runtime } : {}),
    // Code zips come from the sandbox S3 in this process, read from its storage directly (no key of anyone's).
    ...(sandbox ? { codeSource: { getObject: (accountId: string, bucket: string, key: string, maxBytes: number) => sandbox.readObject(accountId, bucket, key, maxBytes) } } : {}),
    // An unpacked zip is tried the way its sessions will run it: in its own namespaces where the host allows.
    probeAgent: (command, cwd, timeoutMs) => probeAgentInSandbox({ command, cwd, timeoutMs, dataDir: platform.dataDir, baseUrl: platform.baseUrl, logger: platform.logger }),
    ...(gateway ? { gateways: gateway } : {}),
    env,
  });
  context.started.push(controlPlane);
  // Credential providers and workload return URLs created through the API feed the token vault.
  identity.addCredentialProviders(controlPlane.credentialProviders);
  return controlPlane;
}
