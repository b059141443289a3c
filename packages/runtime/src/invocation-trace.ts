import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import {
  SpanKind,
  endSpanWithStatus,
  extractTraceContext,
  failSpan,
  injectTraceContext,
  startSpan,
  tracingEnabled,
  type TraceAttributes,
  type TraceContext,
  type TraceSpan,
} from '@gatehouse/core';
import type { RuntimeEntry } from './runtime-registry.ts';

/**
 * The SERVER span of one runtime request (an invocation, a stop, a WebSocket), open from routing to
 * the last byte, so authentication, session placement and token exchange are inside it and a refused
 * request is traced with its error type. Outbound hops (to the agent, to another instance) are its
 * CLIENT children, and only their context leaves the process as `traceparent`.
 */
export interface RequestTrace {
  readonly span: TraceSpan;
  readonly context: TraceContext;
  ended: boolean;
}

const OPERATIONS: Record<string, string> = { invocations: 'InvokeAgentRuntime', ws: 'InvokeAgentRuntime', stopruntimesession: 'StopRuntimeSession' };

/** Continues the caller's valid `traceparent` (a new trace otherwise). Nothing at all with tracing off and no caller context. */
export function startRequestTrace(runtime: RuntimeEntry, incoming: IncomingHttpHeaders, action: string): RequestTrace | undefined {
  if (!tracingEnabled() && incoming.traceparent === undefined) return undefined;
  const operation = OPERATIONS[action] ?? action;
  const { span, context } = startSpan(operation, SpanKind.SERVER, extractTraceContext(incoming), {
    'rpc.system': 'aws-api',
    'rpc.service': 'BedrockAgentCore',
    'rpc.method': operation,
    'gatehouse.runtime.arn': runtime.arn,
    'gatehouse.runtime.name': runtime.name,
    ...(action === 'ws' ? { 'gatehouse.runtime.transport': 'websocket' } : {}),
  });
  return { span, context, ended: false };
}

export function annotateRequestTrace(trace: RequestTrace | undefined, attributes: TraceAttributes): void {
  if (trace?.span.isRecording()) trace.span.setAttributes(attributes);
}

/**
 * Ends the request's span once (a WebSocket can be refused by two paths). `errorType` is the wire
 * error name (`x-amzn-errortype`): a refusal is visible by its type; only 5xx marks the span failed.
 */
export function endRequestTrace(trace: RequestTrace | undefined, status: number, errorType?: string): void {
  if (!trace || trace.ended) return;
  trace.ended = true;
  if (errorType && trace.span.isRecording()) {
    if (status >= 500) failSpan(trace.span, errorType);
    else trace.span.setAttribute('error.type', errorType);
  }
  endSpanWithStatus(trace.span, status);
}

/** Starts a CLIENT child for one outbound hop and puts its context on the outgoing headers. */
export function startHop(parent: RequestTrace | undefined, name: string, attributes: TraceAttributes, outgoing: OutgoingHttpHeaders | Record<string, string | string[]>): TraceSpan | undefined {
  if (!parent) return undefined;
  const { span, context } = startSpan(name, SpanKind.CLIENT, parent.context, attributes);
  injectTraceContext(context, outgoing);
  return span;
}

/** Ends a hop; `failure` names what went wrong on it (an error code, never a message with data). */
export function endHop(span: TraceSpan | undefined, status: number, failure?: string): void {
  if (!span) return;
  if (failure) failSpan(span, failure);
  endSpanWithStatus(span, status);
}
