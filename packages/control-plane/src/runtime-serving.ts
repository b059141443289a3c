import { runtimeSchema, type CustomJwtAuthorizerConfig, type RuntimeConfig } from '@gatehouse/core';
import type { ControlPlaneContext } from './control-plane-context.ts';
import type { StoredResource } from './resource-store.ts';

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
export function servedConfig(version: VersionRow): RuntimeConfig | undefined {
  const agent = version.gatehouseAgent as { url?: unknown } | undefined;
  if (!agent || typeof agent.url !== 'string') return undefined;
  const parsed = runtimeSchema.safeParse({
    agentRuntimeName: version.agentRuntimeName,
    ...(typeof version.description === 'string' ? { description: version.description } : {}),
    agent: { url: agent.url },
    ...(version.authorizerConfiguration ? { authorizerConfiguration: version.authorizerConfiguration } : {}),
    ...(version.requestHeaderConfiguration ? { requestHeaderConfiguration: version.requestHeaderConfiguration } : {}),
    ...(version.lifecycleConfiguration ? { lifecycleConfiguration: version.lifecycleConfiguration } : {}),
    ...(version.environmentVariables ? { environmentVariables: version.environmentVariables } : {}),
  });
  return parsed.success ? parsed.data : undefined;
}

/** Brings the runtime component in line with what the store says of one runtime (served, or not at all). */
export async function syncRuntime(context: ControlPlaneContext, host: RuntimeHost, runtimeId: string): Promise<void> {
  const row = context.store.get<RuntimeRow>('runtime', runtimeId)?.body;
  const version = (number: string): RuntimeConfig | undefined => {
    const stored = context.store.get<VersionRow>('runtime-version', `${runtimeId}:${number}`);
    return stored && servedConfig(stored.body);
  };
  const latest = row && version(row.latestVersion);
  if (!row || !latest) {
    await host.removeRuntime(runtimeId);
    return;
  }
  const endpoints = new Map<string, RuntimeConfig>();
  for (const endpoint of context.store.list<EndpointRow>('runtime-endpoint', runtimeId)) {
    if (endpoint.body.name === 'DEFAULT' || !endpoint.body.targetVersion) continue;
    const config = version(endpoint.body.targetVersion);
    if (config) endpoints.set(endpoint.body.name, config);
  }
  await host.addRuntime({ id: row.agentRuntimeId, arn: row.agentRuntimeArn, config: latest, endpoints });
}

/** Every served runtime in the store, as at start. */
export async function syncAllRuntimes(context: ControlPlaneContext, host: RuntimeHost): Promise<void> {
  for (const runtime of context.store.list<RuntimeRow>('runtime')) await syncRuntime(context, host, runtime.id);
}

/**
 * The workload identities created through the API, with the inbound authorizer of the runtime each belongs to;
 * a served runtime's named endpoints act as workloads of their own (`{id}.{endpoint}`), as the runtime names them.
 */
export function workloadAnnouncements(context: ControlPlaneContext): WorkloadAnnouncement[] {
  const announcements: WorkloadAnnouncement[] = [];
  for (const identity of context.store.list<{ ownedBy?: string }>('workload-identity')) {
    const owner = identity.body.ownedBy;
    if (!owner) {
      announcements.push({ name: identity.name });
      continue;
    }
    const row = context.store.get<RuntimeRow>('runtime', owner);
    const latest = row && context.store.get<VersionRow>('runtime-version', `${owner}:${row.body.latestVersion}`);
    announcements.push(withInbound(identity.name, latest && servedConfig(latest.body)));
    for (const endpoint of context.store.list<EndpointRow>('runtime-endpoint', owner) as StoredResource<EndpointRow>[]) {
      if (endpoint.body.name === 'DEFAULT' || !endpoint.body.targetVersion) continue;
      const pinned = context.store.get<VersionRow>('runtime-version', `${owner}:${endpoint.body.targetVersion}`);
      const config = pinned && servedConfig(pinned.body);
      if (config) announcements.push(withInbound(`${owner}.${endpoint.body.name}`, config));
    }
  }
  return announcements;
}

function withInbound(name: string, config: RuntimeConfig | undefined): WorkloadAnnouncement {
  const inbound = config?.authorizerConfiguration?.customJWTAuthorizer;
  return inbound ? { name, inbound } : { name };
}
