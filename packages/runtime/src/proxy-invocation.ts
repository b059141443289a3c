import { request as httpRequest, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { agentAddress } from './agent-endpoint.ts';
import { clientResponseHeaders } from './agent-headers.ts';
import { endHop } from './invocation-trace.ts';
import type { TraceSpan } from '@gatehouse/core';
import { RuntimeError } from './runtime-error.ts';
import { SESSION_HEADER } from './session-id.ts';
import type { Session } from './session-manager.ts';

export interface ProxyInvocation {
  readonly session: Session;
  readonly headers: OutgoingHttpHeaders;
  readonly body: Buffer;
  readonly response: ServerResponse;
  readonly responseHeaders: Readonly<Record<string, string>>;
  /** The agent ended mid-request: the caller resets the session so the next call starts a fresh process. */
  readonly onAgentFailure: () => void;
  readonly sendError: (error: RuntimeError) => void;
  /** The CLIENT span of this hop, whose context is already on `headers`; ended here with the hop's status. */
  readonly trace?: TraceSpan | undefined;
}

/** 499 is what the log shows when the client went away first (nginx's convention). */
export const CLIENT_CLOSED = 499;

/**
 * POST /invocations to the session's agent. The payload goes out untouched; the answer comes back
 * chunk by chunk through `pipe` (backpressure both ways), so an SSE stream is never buffered.
 * A client that disconnects aborts the agent request; an agent that dies mid-stream ends an SSE
 * stream with an `error` event instead of a silent truncation. Resolves with the status sent.
 */
export function proxyInvocation(call: ProxyInvocation): Promise<number> {
  const { session, response } = call;
  const endpoint = session.endpoint;
  const trace = call.trace;
  if (trace?.isRecording()) trace.setAttributes({ 'server.address': endpoint.host, 'server.port': endpoint.port });
  return new Promise((resolve) => {
    let settled = false;
    let clientGone = false;
    const done = (status: number, failure?: string): void => {
      if (settled) return;
      settled = true;
      endHop(trace, status, failure);
      resolve(status);
    };
    // call.headers is built for this request alone (agentHeaders), so it is completed in place, not copied.
    call.headers['content-length'] = call.body.length;
    const send = (retried: boolean): ClientRequest => {
      const upstream = httpRequest({
        ...agentAddress(endpoint),
        method: 'POST',
        path: '/invocations',
        headers: call.headers,
        agent: endpoint.agent,
      });
      upstream.on('error', (error: NodeJS.ErrnoException) => {
        if (clientGone || settled) return;
        if (response.headersSent) return;
        // The agent closed an idle keep-alive socket just as we reused it: it never read this
        // request, so sending it once more on a fresh connection is safe (Node's documented remedy).
        if (!retried && upstream.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE') && !endpoint.exited) {
          current = send(true);
          return;
        }
        call.onAgentFailure();
        const why = endpoint.exited ? `the agent process exited with code ${endpoint.exitCode ?? 'null'}` : `the agent connection failed (${error.code ?? 'error'})`;
        call.sendError(new RuntimeError('RuntimeClientError', `The agent did not answer: ${why}. The session was reset; the next call starts a fresh process.`));
        done(424, endpoint.exited ? 'AgentExited' : (error.code ?? 'AgentUnreachable'));
      });
      upstream.on('response', (agentResponse: IncomingMessage) => onResponse(agentResponse));
      upstream.end(call.body);
      return upstream;
    };
    response.on('close', () => {
      if (response.writableFinished) return;
      clientGone = true;
      current.destroy();
      done(CLIENT_CLOSED);
    });
    const onResponse = (agentResponse: IncomingMessage): void => {
      const status = agentResponse.statusCode ?? 502;
      const streaming = (agentResponse.headers['content-type'] ?? '').startsWith('text/event-stream');
      const headers = clientResponseHeaders(agentResponse.headers);
      headers[SESSION_HEADER] = session.id;
      for (const name in call.responseHeaders) headers[name] = call.responseHeaders[name];
      response.writeHead(status, headers);
      if (streaming) response.flushHeaders();
      agentResponse.on('error', () => {
        // Reported through 'close' below with `complete === false`.
      });
      agentResponse.pipe(response, { end: false });
      agentResponse.on('end', () => {
        response.end();
        done(status);
      });
      agentResponse.on('close', () => {
        if (agentResponse.complete || clientGone) return;
        call.onAgentFailure();
        if (streaming && !response.writableEnded && !response.destroyed) {
          agentResponse.unpipe(response);
          const exit = endpoint.exited ? ` (exit code ${endpoint.exitCode ?? 'null'})` : '';
          const event = { type: 'error', code: 'AgentCrashed', message: `The agent process ended in the middle of the response${exit}; the session was reset and the next call starts a fresh process.` };
          response.end(`event: error\ndata: ${JSON.stringify(event)}\n\n`);
        } else {
          response.destroy();
        }
        done(status, 'AgentCrashed');
      });
    };
    let current = send(false);
  });
}
