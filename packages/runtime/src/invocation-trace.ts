import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { SpanKind, endSpanWithStatus, extractTraceContext, failSpan, injectTraceContext, startSpan, tracingEnabled, type TraceSpan } from '@gatehouse/core';
import type { RuntimeEntry } from './runtime-registry.ts';

/** The spans of one invocation: the runtime's SERVER span and its CLIENT child for the hop to the agent. */
export interface InvocationTrace {
  readonly server: TraceSpan;
  readonly client: TraceSpan;
}

/**
 * Keyed by the agent-bound header object, which `agentHeaders` builds fresh for each request: the
 * proxy that sends those headers finds the spans to end without another parameter through the route.
 */
const traces = new WeakMap<OutgoingHttpHeaders, InvocationTrace>();

/**
 * Starts `InvokeAgentRuntime` (continuing the caller's valid `traceparent`, else a new trace) and its
 * CLIENT child, and puts the child's context on the agent's headers — so the agent continues the
 * runtime's span, never the caller's raw header. With tracing off and no caller context this does nothing.
 */
export function traceInvocation(runtime: RuntimeEntry, incoming: IncomingHttpHeaders, sessionId: string, outgoing: OutgoingHttpHeaders): void {
  if (!tracingEnabled() && incoming.traceparent === undefined) return;
  const server = startSpan('InvokeAgentRuntime', SpanKind.SERVER, extractTraceContext(incoming), {
    'rpc.system': 'aws-api',
    'rpc.service': 'BedrockAgentCore',
    'rpc.method': 'InvokeAgentRuntime',
    'gatehouse.runtime.arn': runtime.arn,
    'gatehouse.runtime.name': runtime.name,
    'gatehouse.session.id': sessionId,
  });
  const client = startSpan('agent /invocations', SpanKind.CLIENT, server.context, { 'gatehouse.runtime.name': runtime.name, 'gatehouse.session.id': sessionId });
  injectTraceContext(client.context, outgoing);
  traces.set(outgoing, { server: server.span, client: client.span });
}

export function invocationTrace(outgoing: OutgoingHttpHeaders): InvocationTrace | undefined {
  return traces.get(outgoing);
}

/** Ends both spans; `failure` names what went wrong on the agent hop (an error code, never a message with data). */
export function endInvocationTrace(trace: InvocationTrace | undefined, status: number, failure?: string): void {
  if (!trace) return;
  if (failure) {
    failSpan(trace.client, failure);
    failSpan(trace.server, failure);
  }
  endSpanWithStatus(trace.client, status);
  endSpanWithStatus(trace.server, status);
}
