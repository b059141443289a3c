import { authFailureChannel, startTracing, toolCallChannel, type AuthFailureEvent, type GatehouseConfig, type Logger, type SharedStore, type ToolCallEvent } from '@gatehouse/core';
import { createMetrics, createStore, standardMetrics, type Metrics } from '@gatehouse/cluster';

/** What one Gatehouse process shares between its components: metrics, the store and tracing. */
export interface ProcessServices {
  readonly metrics: Metrics;
  readonly standard: ReturnType<typeof standardMetrics>;
  readonly store: SharedStore;
  readonly tracing: ReturnType<typeof startTracing>;
  /** Stops counting the components' diagnostics-channel events. */
  unsubscribe(): void;
}

export interface ProcessServicesRequest {
  readonly config: Readonly<GatehouseConfig>;
  readonly env: NodeJS.ProcessEnv;
  readonly logger: Logger;
}

export async function openProcessServices({ config, env, logger }: ProcessServicesRequest): Promise<ProcessServices> {
  const metrics = createMetrics();
  const standard = standardMetrics(metrics);
  const store = await createStore(config.store, { logger, onUnavailable: (operation) => standard.storeUnavailable.inc({ store: 'redis', operation }) });
  // Spans are exported only when an OTLP endpoint is configured (telemetry.otlpEndpoint or OTEL_*).
  const tracing = startTracing({ serviceName: 'gatehouse', endpoint: config.telemetry.otlpEndpoint, env, logger });
  // Components publish auth failures and tool calls on diagnostics channels; count them here.
  const onAuthFailure = (message: unknown): void => {
    const event = message as AuthFailureEvent;
    standard.authFailures.inc({ component: event.component, reason: event.reason });
  };
  const onToolCall = (message: unknown): void => {
    const event = message as ToolCallEvent;
    standard.toolCalls.inc({ gateway: event.gateway, target: event.target, decision: event.decision, outcome: event.outcome });
  };
  authFailureChannel.subscribe(onAuthFailure);
  toolCallChannel.subscribe(onToolCall);
  const unsubscribe = (): void => {
    authFailureChannel.unsubscribe(onAuthFailure);
    toolCallChannel.unsubscribe(onToolCall);
  };
  return { metrics, standard, store, tracing, unsubscribe };
}
