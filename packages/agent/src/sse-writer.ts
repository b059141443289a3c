import type { ServerResponse } from 'node:http';
import type { AgentEvent } from './agent-event.ts';

/** Starts an SSE response; proxies are told not to buffer so deltas arrive as they are produced. */
export function startSse(response: ServerResponse): void {
  response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no', connection: 'keep-alive' });
  response.flushHeaders();
}

/** Writes one event. A CR or LF in the event name would let data forge extra SSE fields, so it is refused. */
export function writeSseEvent(response: ServerResponse, event: AgentEvent): void {
  if (/[\r\n]/.test(event.type)) throw new TypeError('SSE event names must not contain CR or LF');
  // JSON.stringify escapes CR/LF inside strings, so the data line is always a single line.
  response.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
}
