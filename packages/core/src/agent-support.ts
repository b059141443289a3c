/**
 * What an agent process needs from core (`@gatehouse/core/agent-support`): logging, the HTTP helpers, wire errors,
 * tracing, the model config schema and the SSE reader — without the server side (database engines, the YAML
 * config and every component's schema), which the index loads and an agent's cold start would pay for.
 */
export { WireError, isWireError, wireErrorOf } from './wire-error.ts';
export { asCallTimeout, isConnectionFailure } from './call-failure.ts';
export type { WireErrorOptions, WireResponse } from './wire-error.ts';
export { createLogger, redactText } from './logger.ts';
export type { Logger } from './logger.ts';
export { readBody, sendWire, sendJson, headerValue, listen } from './http.ts';
export { failureFor } from './internal-failure.ts';
export type { FailureTable } from './internal-failure.ts';
export { modelSchema } from './config/model-config.ts';
export type { ModelConfig } from './config/model-config.ts';
export { readSse } from './read-sse.ts';
export {
  startTracing,
  extractTraceContext,
  startSpan,
  endSpanWithStatus,
  failSpan,
  withTraceContext,
  tracingFetch,
  SpanKind,
} from './tracing.ts';
export type { TraceContext } from './tracing.ts';
