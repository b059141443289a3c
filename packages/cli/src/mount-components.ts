import type { GatehouseConfig, HttpComponent } from '@gatehouse/core';
import type { IdentityService } from '@gatehouse/identity';
import { instrumentComponent } from '@gatehouse/cluster';
import { DEFAULT_GATEWAY_NAME, DEFAULT_RUNTIME_NAME } from './default-config.ts';
import type { ProcessServices } from './process-services.ts';
import type { ComponentName, StartedComponents } from './start-components.ts';
import { createWebComponent, type Readiness, type WebSettings } from './web-component.ts';

export interface WebSettingsRequest {
  /** The configuration with defaults filled in. */
  readonly config: Readonly<GatehouseConfig>;
  /** Whether the configuration as written declared runtimes (then only their listed clients are accepted). */
  readonly declaredRuntimes: boolean;
  readonly identity: IdentityService;
  readonly components: StartedComponents;
  readonly baseUrl: string;
}

/** `/config.json` for the web UI: the default pool, runtime and gateway. */
export function webSettingsFor({ config, declaredRuntimes, identity, components, baseUrl }: WebSettingsRequest): WebSettings {
  const pool = identity.defaultPool;
  const { runtime, gateway } = components;
  const runtimeEntry = runtime?.runtimes.find((entry) => entry.name === DEFAULT_RUNTIME_NAME) ?? runtime?.runtimes[0];
  const gatewayEntry = gateway?.gateways.find((entry) => entry.name === DEFAULT_GATEWAY_NAME) ?? gateway?.gateways[0];
  return {
    region: config.region,
    userPoolId: pool.userPoolId,
    clientId: pool.webClientId,
    issuer: pool.issuer,
    authority: pool.issuer,
    runtimeArn: runtimeEntry?.arn ?? `arn:aws:bedrock-agentcore:${config.region}:${config.accountId}:runtime/${DEFAULT_RUNTIME_NAME}`,
    gatewayUrl: gatewayEntry?.url ?? `${baseUrl}/mcp`,
    runtimeProtocol: config.runtimes?.find((declared) => declared.agentRuntimeName === runtimeEntry?.name)?.protocolConfiguration.serverProtocol ?? 'HTTP',
    acceptedClients: declaredRuntimes ? 'listed' : 'pool',
  };
}

export interface MountRequest {
  readonly identity: IdentityService;
  readonly components: StartedComponents;
  readonly only: ReadonlySet<ComponentName>;
  readonly services: ProcessServices;
  readonly settings: WebSettings;
  /** True once shutdown has begun: `/ready` then answers 503. */
  isDraining(): boolean;
  readonly webDistDirectory: string | undefined;
}

/** The components in the order requests are offered to them, each instrumented; the web UI last. */
export function mountComponents(request: MountRequest): HttpComponent[] {
  const { identity, components, only, services, settings } = request;
  const { controlPlane, runtime, gateway, sandbox } = components;
  // Order matters: specific API prefixes first, the identity's `POST /` + OAuth paths, then the web UI.
  const mounted: HttpComponent[] = [];
  // The control plane first: it claims only its own paths (`PUT /runtimes/`, `GET /gateways/{id}/`, `POST /identities/CreateWorkloadIdentity`…),
  // which the runtime, gateway and identity would otherwise answer as unknown operations of theirs.
  if (controlPlane) mounted.push(controlPlane);
  if (runtime) mounted.push(runtime);
  if (gateway) mounted.push(gateway);
  if (sandbox) mounted.push(sandbox);
  if (only.has('identity')) mounted.push(identity);
  // Gauges are read from the live state when scraped rather than kept in step by every change.
  const renderMetrics = (): string => {
    for (const [name, stats] of runtime?.stats() ?? []) {
      services.standard.sessions.set({ runtime: name }, stats.sessions);
      services.standard.agentProcesses.set({ runtime: name }, stats.agentProcesses);
    }
    return services.metrics.render();
  };
  const readiness = (): Promise<Readiness> => checkReadiness(mounted, services, request.isDraining());
  const distDirectory = request.webDistDirectory ? { distDirectory: request.webDistDirectory } : {};
  mounted.push(createWebComponent(() => settings, { metrics: renderMetrics, readiness, ...distDirectory }));
  return mounted.map((component) => instrumentComponent(component, services.metrics));
}

async function checkReadiness(mounted: readonly HttpComponent[], { store }: ProcessServices, draining: boolean): Promise<Readiness> {
  const checks: Record<string, string> = {};
  for (const component of mounted) checks[component.name] = draining ? 'draining' : 'serving';
  let storeOk = true;
  if (store.ping) {
    // Bounded by the store's own command timeout (2 s); a probe never hangs.
    storeOk = await store.ping().then(() => true, () => false);
    checks.store = storeOk ? 'ok' : 'unavailable';
  } else checks.store = store.kind;
  return { ready: !draining && storeOk, checks };
}
