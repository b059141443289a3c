import type { Logger } from '@gatehouse/core';
import type { ControlPlaneContext, Operation, OperationResult } from './control-plane-context.ts';
import type { ControlPlaneCredentialProviders } from './credential-provider-source.ts';
import { gatewayOperations } from './gateway-operations.ts';
import { GatewayFollower, type GatewayHost } from './gateway-serving.ts';
import { RuntimeFollower, workloadAnnouncements, type RuntimeHost, type WorkloadAnnouncement } from './runtime-serving.ts';

export interface ChangeFollowingOptions {
  readonly context: ControlPlaneContext;
  readonly credentialProviders: ControlPlaneCredentialProviders;
  readonly logger: Logger;
  readonly runtimes: RuntimeHost | undefined;
  readonly gateways: GatewayHost | undefined;
  onWorkloadIdentities?(workloads: readonly WorkloadAnnouncement[]): void;
}

/**
 * Keeps what this process serves in step with the store: workload identities announced, runtimes and gateways
 * followed after this instance's changes and, by polling the store's data version, after other instances' too.
 */
export class ChangeFollowing {
  readonly #options: ChangeFollowingOptions;
  readonly #runtimes: RuntimeFollower | undefined;
  readonly gateways: GatewayFollower | undefined;
  // Identity rebuilds its workload authorizers on each announcement: announce only a changed set.
  #announced: string | undefined;
  #poll: NodeJS.Timeout | undefined;

  constructor(options: ChangeFollowingOptions) {
    this.#options = options;
    this.#runtimes = options.runtimes && new RuntimeFollower(options.context, options.runtimes);
    this.gateways = options.gateways && new GatewayFollower(options.context, options.gateways);
  }

  async announceWorkloads(): Promise<void> {
    const workloads = await workloadAnnouncements(this.#options.context);
    const text = JSON.stringify(workloads);
    if (text === this.#announced) return;
    this.#announced = text;
    this.#options.onWorkloadIdentities?.(workloads);
  }

  /** Everything as stored now: workload identities, every runtime, every gateway. */
  async followAll(): Promise<void> {
    await this.announceWorkloads();
    await this.#runtimes?.followAll();
    await this.gateways?.followAll();
  }

  /** Other instances on the same database (or data dir) write too: follow their changes. */
  async startPolling(intervalMs: number): Promise<void> {
    const { context, credentialProviders, logger } = this.#options;
    let seenVersion = await context.store.dataVersion();
    let polling = false;
    this.#poll = setInterval(() => {
      if (polling) return;
      polling = true;
      (async () => {
        const version = await context.store.dataVersion();
        if (version === seenVersion) return;
        seenVersion = version;
        await credentialProviders.refresh();
        await this.followAll();
      })()
        .catch((error: unknown) => logger.error({ err: error }, 'could not follow another instance’s control-plane change'))
        .finally(() => {
          polling = false;
        });
    }, intervalMs);
    this.#poll.unref();
  }

  stopPolling(): void {
    clearInterval(this.#poll);
  }

  /** After a change to a runtime or its endpoints: serve it as stored now (or stop serving it). */
  async followRuntime(result: unknown, params: Readonly<Record<string, string>>): Promise<void> {
    await this.announceWorkloads();
    if (!this.#runtimes) return;
    const named = (result as { agentRuntimeId?: unknown } | undefined)?.agentRuntimeId ?? params.agentRuntimeId;
    if (typeof named !== 'string') return;
    const id = (await this.#options.context.store.byName<{ agentRuntimeId: string }>('runtime', named))?.body.agentRuntimeId ?? named;
    try {
      await this.#runtimes.follow(id);
    } catch (error) {
      this.#options.logger.error({ err: error, runtime: id }, 'the runtime component could not follow a control-plane change');
    }
  }

  /**
   * After a change to a gateway or its targets: serve it as stored now (SynchronizeGatewayTargets: rebuilt, tool
   * lists reloaded), then answer with the gateway or target as it is now served (a refused build shows at once).
   */
  async followGateway(operationName: string, result: OperationResult, params: Readonly<Record<string, string>>): Promise<OperationResult> {
    if (this.gateways) {
      const named = (result.body as { gatewayId?: unknown } | undefined)?.gatewayId ?? params.gatewayIdentifier;
      if (typeof named === 'string') {
        try {
          await this.gateways.follow(named, operationName === 'SynchronizeGatewayTargets');
        } catch (error) {
          this.#options.logger.error({ err: error, gateway: named }, 'the gateway component could not follow a control-plane change');
        }
      }
    }
    return this.#asServed(operationName, result, params);
  }

  async #asServed(operationName: string, result: OperationResult, params: Readonly<Record<string, string>>): Promise<OperationResult> {
    const body = result.body as { gatewayId?: string; targetId?: string } | undefined;
    const reread = async (operation: Operation, readParams: Record<string, string>): Promise<OperationResult> => ({
      status: result.status, body: (await operation(this.#options.context, { params: readParams, query: new URLSearchParams(), body: {} })).body,
    });
    if ((operationName === 'CreateGateway' || operationName === 'UpdateGateway') && body?.gatewayId) return reread(gatewayOperations.GetGateway, { gatewayIdentifier: body.gatewayId });
    if ((operationName === 'CreateGatewayTarget' || operationName === 'UpdateGatewayTarget') && body?.targetId && params.gatewayIdentifier) {
      return reread(gatewayOperations.GetGatewayTarget, { gatewayIdentifier: params.gatewayIdentifier, targetId: body.targetId });
    }
    return result;
  }
}
