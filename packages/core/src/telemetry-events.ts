import diagnosticsChannel from 'node:diagnostics_channel';

/**
 * Events components publish for metrics without depending on a metrics library: the process that
 * composes them (`gatehouse up`) subscribes and counts. Publishing with no subscriber costs a check.
 */
export interface AuthFailureEvent {
  readonly component: 'runtime' | 'gateway';
  readonly reason: string;
}
export interface ToolCallEvent {
  readonly gateway: string;
  readonly target: string;
  readonly decision: string;
  readonly outcome: string;
}

export const authFailureChannel = diagnosticsChannel.channel('gatehouse:auth-failure');
export const toolCallChannel = diagnosticsChannel.channel('gatehouse:tool-call');

export function publishAuthFailure(event: AuthFailureEvent): void {
  if (authFailureChannel.hasSubscribers) authFailureChannel.publish(event);
}

export function publishToolCall(event: ToolCallEvent): void {
  if (toolCallChannel.hasSubscribers) toolCallChannel.publish(event);
}
