import { runtimeSchema, type CustomJwtAuthorizerConfig, type RuntimeConfig } from '@gatehouse/core';
import type { ControlPlaneContext } from './control-plane-context.ts';
import { codeCommand, type CodeConfiguration } from './code-artifact.ts';
import { commandAllowed, type CommandAgent } from './command-agent.ts';

/** What of the context decides whether a version can be run here. */
type Host = Pick<ControlPlaneContext, 'codeHome' | 'commandRoots'>;

/** What the control plane needs of the runtime component to serve the runtimes it creates (`RuntimeService`). */
export interface RuntimeHost {
  addRuntime(runtime: { readonly id: string; readonly arn: string; readonly config: RuntimeConfig; readonly endpoints: ReadonlyMap<string, RuntimeConfig> }): Promise<void>;
  removeRuntime(id: string): Promise<void>;
}

/** A workload identity as identity serves it: the runtime's inbound authorizer decides whose tokens it takes. */
export interface WorkloadAnnouncement {
  readonly name: string;
  readonly inbound?: CustomJwtAuthorizerConfig;
}

interface RuntimeRow {
  readonly agentRuntimeId: string;
  readonly agentRuntimeName: string;
  readonly agentRuntimeArn: string;
  readonly latestVersion: string;
}

interface EndpointRow {
  readonly name: string;
  readonly targetVersion?: string;
}

type VersionRow = Record<string, unknown>;

/**
 * The runtime configuration a stored version runs as, or undefined when it names no agent Gatehouse can run here
 * (see agentSource). Built with the same schema as gatehouse.yaml's.
 */
export function servedConfig(version: VersionRow, host: Host): RuntimeConfig | undefined {
  const agent = agentSource(version, host);
  if (!agent) return undefined;
  const parsed = runtimeSchema.safeParse({
    agentRuntimeName: version.agentRuntimeName,
    ...(typeof version.description === 'string' ? { description: version.description } : {}),
    agent,
    ...(version.authorizerConfiguration ? { authorizerConfiguration: version.authorizerConfiguration } : {}),
    ...(version.requestHeaderConfiguration ? { requestHeaderConfiguration: version.requestHeaderConfiguration } : {}),
    ...(version.lifecycleConfiguration ? { lifecycleConfiguration: version.lifecycleConfiguration } : {}),
    ...(version.environmentVariables ? { environmentVariables: version.environmentVariables } : {}),
    ...(version.protocolConfiguration ? { protocolConfiguration: version.protocolConfiguration } : {}),
  });
  return parsed.success ? parsed.data : undefined;
}

/**
 * An agent URL (`gatehouseAgent.url`); a local command (`gatehouseAgent.command`) that answered /ping when its
 * version was created and still lies under this instance's command roots; or the command of a code zip this
 * instance unpacked and saw answer /ping (`gatehouseCode`, written by Gatehouse only; zip paths are derived here,
 * never stored or shown).
 */
function agentSource(version: VersionRow, host: Host): { url: string } | { command: string[]; cwd: string } | undefined {
  const agent = version.gatehouseAgent as { url?: unknown; command?: unknown; cwd?: unknown } | undefined;
  if (agent && typeof agent.url === 'string') return { url: agent.url };
  const prepared = version.gatehouseCode as { unpacked?: unknown; probed?: unknown } | undefined;
  if (agent && Array.isArray(agent.command)) {
    const command = agent as unknown as CommandAgent;
    return prepared?.probed === true && commandAllowed(command, host.commandRoots) ? { command: [...command.command], cwd: command.cwd } : undefined;
  }
  const code = (version.agentRuntimeArtifact as { codeConfiguration?: CodeConfiguration } | undefined)?.codeConfiguration;
  const codeHome = host.codeHome;
  if (!code || !codeHome || prepared?.unpacked !== true) return undefined;
  const { command, cwd } = codeCommand(code, codeHome, String(version.agentRuntimeId), String(version.agentRuntimeVersion));
  return { command: [...command], cwd };
}

/**
 * The version DEFAULT answers from: the newest one Gatehouse can run. A version still starting or failed leaves the
 * one before it live (AWS's liveVersion), so a failed update does not take the runtime down.
 */
export async function liveVersion(context: ControlPlaneContext, runtimeId: string): Promise<{ readonly number: string; readonly config: RuntimeConfig } | undefined> {
  const versions = (await context.store.list<VersionRow>('runtime-version', runtimeId)).sort((a, b) => Number(b.name) - Number(a.name));
  for (const version of versions) {
    const config = servedConfig(version.body, context);
    if (config) return { number: version.name, config };
  }
  return undefined;
}

/** What a runtime is served as: its DEFAULT configuration and named endpoints, or undefined when not served. */
async function servingPlan(context: ControlPlaneContext, runtimeId: string): Promise<{ row: RuntimeRow; config: RuntimeConfig; endpoints: Map<string, RuntimeConfig> } | undefined> {
  const row = (await context.store.get<RuntimeRow>('runtime', runtimeId))?.body;
  const version = async (number: string): Promise<RuntimeConfig | undefined> => {
    const stored = await context.store.get<VersionRow>('runtime-version', `${runtimeId}:${number}`);
    return stored && servedConfig(stored.body, context);
  };
  const config = row && (await liveVersion(context, runtimeId))?.config;
  if (!row || !config) return undefined;
  const endpoints = new Map<string, RuntimeConfig>();
  for (const endpoint of await context.store.list<EndpointRow>('runtime-endpoint', runtimeId)) {
    if (endpoint.body.name === 'DEFAULT' || !endpoint.body.targetVersion) continue;
    const pinned = await version(endpoint.body.targetVersion);
    if (pinned) endpoints.set(endpoint.body.name, pinned);
  }
  return { row, config, endpoints };
}

/**
 * Keeps the runtime component in line with the store: after this instance's own changes (`follow`), and after
 * other instances' commits to the same file (`poll`, cheap: a revision counter every write bumps says whether anyone else wrote).
 * A runtime is re-registered only when what it is served as changed, since re-registering ends its sessions.
 */
export class RuntimeFollower {
  readonly #context: ControlPlaneContext;
  readonly #host: RuntimeHost;
  /** Runtime id → JSON of what it is served as (absent: not served). */
  readonly #served = new Map<string, string>();

  constructor(context: ControlPlaneContext, host: RuntimeHost) {
    this.#context = context;
    this.#host = host;
  }

  async follow(runtimeId: string): Promise<void> {
    const plan = await servingPlan(this.#context, runtimeId);
    const fingerprint = plan && JSON.stringify([plan.config, [...plan.endpoints]]);
    if (fingerprint === this.#served.get(runtimeId)) return;
    if (!plan || !fingerprint) {
      this.#served.delete(runtimeId);
      await this.#host.removeRuntime(runtimeId);
      return;
    }
    this.#served.set(runtimeId, fingerprint);
    await this.#host.addRuntime({ id: plan.row.agentRuntimeId, arn: plan.row.agentRuntimeArn, config: plan.config, endpoints: plan.endpoints });
  }

  /** Every runtime in the store, and those served here that the store no longer has. */
  async followAll(): Promise<void> {
    const ids = new Set([...(await this.#context.store.list<RuntimeRow>('runtime')).map((runtime) => runtime.id), ...this.#served.keys()]);
    for (const id of ids) await this.follow(id);
  }
}

/**
 * The workload identities created through the API, with the inbound authorizer of the runtime each belongs to;
 * a served runtime's named endpoints act as workloads of their own (`{id}.{endpoint}`), as the runtime names them.
 */
export async function workloadAnnouncements(context: ControlPlaneContext): Promise<WorkloadAnnouncement[]> {
  const announcements: WorkloadAnnouncement[] = [];
  for (const identity of await context.store.list<{ ownedBy?: string }>('workload-identity')) {
    const owner = identity.body.ownedBy;
    if (!owner) {
      announcements.push({ name: identity.name });
      continue;
    }
    announcements.push(withInbound(identity.name, (await liveVersion(context, owner))?.config));
    for (const endpoint of await context.store.list<EndpointRow>('runtime-endpoint', owner)) {
      if (endpoint.body.name === 'DEFAULT' || !endpoint.body.targetVersion) continue;
      const pinned = await context.store.get<VersionRow>('runtime-version', `${owner}:${endpoint.body.targetVersion}`);
      const config = pinned && servedConfig(pinned.body, context);
      if (config) announcements.push(withInbound(`${owner}.${endpoint.body.name}`, config));
    }
  }
  return announcements;
}

function withInbound(name: string, config: RuntimeConfig | undefined): WorkloadAnnouncement {
  const inbound = config?.authorizerConfiguration?.customJWTAuthorizer;
  return inbound ? { name, inbound } : { name };
}
