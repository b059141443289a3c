import type { Counter, Gauge, Histogram, Metrics } from './metrics.ts';

/** Why a request was refused at a perimeter; a closed set so the label cannot grow without bound. */
export type AuthFailureReason =
  | 'missing_token' | 'malformed_token' | 'bad_signature' | 'unknown_key' | 'expired' | 'not_yet_valid'
  | 'wrong_issuer' | 'wrong_client' | 'wrong_audience' | 'missing_scope' | 'claim_mismatch' | 'wrong_token_use'
  | 'revoked' | 'bad_sigv4' | 'session_owner_mismatch' | 'rate_limited' | 'other';

/**
 * The metric names every component shares (issue 8): requests, latencies, auth failures by reason,
 * sessions, agent processes, tool calls by decision. Calling this again on the same registry returns the same metrics.
 */
export interface StandardMetrics {
  /** labels: component, method, status */
  readonly requests: Counter;
  /** labels: component, method — seconds from request to the end of the response (streams included) */
  readonly requestDuration: Histogram;
  /** labels: component, reason (an `AuthFailureReason`) */
  readonly authFailures: Counter;
  /** labels: runtime — sessions with a live agent process on this instance */
  readonly sessions: Gauge;
  /** labels: runtime — agent processes running on this instance */
  readonly agentProcesses: Gauge;
  /** labels: gateway, target, decision (`allow` | `deny`), outcome (`ok` | `error` | `timeout` | `denied`) */
  readonly toolCalls: Counter;
  /** labels: store (`embedded` | `redis`), operation — calls that failed closed because the shared store was down */
  readonly storeUnavailable: Counter;
}

export function standardMetrics(metrics: Metrics): StandardMetrics {
  return {
    requests: metrics.counter('gatehouse_http_requests_total', 'HTTP requests handled, by component, method and status.', ['component', 'method', 'status']),
    requestDuration: metrics.histogram('gatehouse_http_request_duration_seconds', 'Time from request to the end of the response, in seconds.', ['component', 'method']),
    authFailures: metrics.counter('gatehouse_auth_failures_total', 'Requests refused by an authorizer, by component and reason.', ['component', 'reason']),
    sessions: metrics.gauge('gatehouse_runtime_sessions', 'Runtime sessions with a live agent process on this instance.', ['runtime']),
    agentProcesses: metrics.gauge('gatehouse_agent_processes', 'Agent processes running on this instance.', ['runtime']),
    toolCalls: metrics.counter('gatehouse_tool_calls_total', 'Gateway tool calls, by gateway, target, policy decision and outcome.', ['gateway', 'target', 'decision', 'outcome']),
    storeUnavailable: metrics.counter('gatehouse_store_unavailable_total', 'Operations refused (503) because the shared store was unreachable.', ['store', 'operation']),
  };
}
