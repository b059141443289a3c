import { runtimeSchema, type CustomJwtAuthorizerConfig, type RuntimeConfig } from '@gatehouse/core';
import type { CodeHome, ControlPlaneContext } from './control-plane-context.ts';
import type { StoredResource } from './resource-store.ts';
import { codeCommand, type CodeConfiguration } from './code-artifact.ts';

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
 * The runtime configuration a stored version runs as, or undefined when it names no agent Gatehouse can run
 * (only a Gatehouse `gatehouseAgent: {url}` is served for now). Built with the same schema as gatehouse.yaml's.
 */
export function servedConfig(version: VersionRow, codeHome: CodeHome | undefined): RuntimeConfig | undefined {
  const agent = agentSource(version, codeHome);
  if (!agent) return undefined;
  const parsed = runtimeSchema.safeParse({
    agentRuntimeName: version.agentRuntimeName,
    ...(typeof version.description === 'string' ? { description: version.description } : {}),
    agent,
    ...(version.authorizerConfiguration ? { authorizerConfiguration: version.authorizerConfiguration } : {}),
    ...(version.requestHeaderConfiguration ? { requestHeaderConfiguration: version.requestHeaderConfiguration } : {}),
    ...(version.lifecycleConfiguration ? { lifecycleConfiguration: version.lifecycleConfiguration } : {}),
    ...(version.environmentVariables ? { environmentVariables: version.environmentVariables } : {}),
  });
  return parsed.success ? parsed.data : undefined;
}

/**
 * An agent URL (`gatehouseAgent`), or the command of a code zip this instance unpacked and saw answer /ping
 * (`gatehouseCode`, written by Gatehouse only; paths are derived here, never stored or shown).
 */
function agentSource(version: VersionRow, codeHome: CodeHome | undefined): { url: string } | { command: string[]; cwd: string } | undefined {
  const agent = version.gatehouseAgent as { url?: unknown } | undefined;
  if (agent && typeof agent.url === 'string') return { url: agent.url };
  const code = (version.agentRuntimeArtifact as { codeConfiguration?: CodeConfiguration } | undefined)?.codeConfiguration;
  if (!code || !codeHome || (version.gatehouseCode as { unpacked?: unknown } | undefined)?.unpacked !== true) return undefined;
  const { command, cwd } = codeCommand(code, codeHome, String(version.agentRuntimeId), String(version.agentRuntimeVersion));
  return { command: [...command], cwd };
}

/** What a runtime is served as: its DEFAULT configuration and named endpoints, or undefined when not served. */
async function servingPlan(context: ControlPlaneContext, runtimeId: string): Promise<{ row: RuntimeRow; config: RuntimeConfig; endpoints: Map<string, RuntimeConfig> } | undefined> {
  const row = (await context.store.get<RuntimeRow>('runtime', runtimeId))?.body;
  const version = async (number: string): Promise<RuntimeConfig | undefined> => {
    const stored = await context.store.get<VersionRow>('runtime-version', `${runtimeId}:${number}`);
    return stored && servedConfig(stored.body, context.codeHome);
  };
  const config = row && await version(row.latestVersion);
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
 * other instances' commits to the same file (`poll`, cheap: SQLite's data_version says whether anyone else wrote).
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
    const row = await context.store.get<RuntimeRow>('runtime', owner);
    const latest = row && await context.store.get<VersionRow>('runtime-version', `${owner}:${row.body.latestVersion}`);
    announcements.push(withInbound(identity.name, latest && servedConfig(latest.body, context.codeHome)));
    for (const endpoint of await context.store.list<EndpointRow>('runtime-endpoint', owner) as StoredResource<EndpointRow>[]) {
      if (endpoint.body.name === 'DEFAULT' || !endpoint.body.targetVersion) continue;
      const pinned = await context.store.get<VersionRow>('runtime-version', `${owner}:${endpoint.body.targetVersion}`);
      const config = pinned && servedConfig(pinned.body, context.codeHome);
      if (config) announcements.push(withInbound(`${owner}.${endpoint.body.name}`, config));
    }
  }
  return announcements;
}

function withInbound(name: string, config: RuntimeConfig | undefined): WorkloadAnnouncement {
  const inbound = config?.authorizerConfiguration?.customJWTAuthorizer;
  return inbound ? { name, inbound } : { name };
}
