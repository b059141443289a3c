import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { AgentEvent } from '@gatehouse/agent/events';
import type { TraceSpan } from '@gatehouse/core';
import { clientResponseHeaders } from './agent-headers.ts';
import { endHop } from './invocation-trace.ts';
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
  /** The agent's path for this runtime's protocol (`/invocations`, `/mcp`, `/`); default `/invocations`. */
  readonly path?: string;
  /** An answer that shows the agent does not speak the runtime's protocol becomes this error (424) instead of passing through. */
  readonly checkAnswer?: (status: number, contentType: string | undefined) => RuntimeError | undefined;
}

/** 499 is what the log shows when the client went away first (nginx's convention). */
export const CLIENT_CLOSED = 499;

/**
 * POST /invocations to the session's agent on its keep-alive pool. The payload goes out untouched;
 * the answer is written to the client chunk by chunk as it arrives (paused while the client cannot
 * take more), so an SSE stream is never buffered. A client that disconnects aborts the agent request;
 * an agent that dies mid-stream ends an SSE stream with an `error` event instead of a silent
 * truncation. Resolves with the status sent.
 */
export function proxyInvocation(call: ProxyInvocation): Promise<number> {
  const endpoint = call.session.endpoint;
  if (call.trace?.isRecording()) {
    call.trace.setAttributes(endpoint.socketPath ? { 'server.address': endpoint.socketPath } : { 'server.address': endpoint.host, 'server.port': endpoint.port });
  }
  // call.headers is built for this request alone (agentHeaders), so it is completed in place, not copied.
  call.headers['content-length'] = call.body.length;
  return new Promise((resolve) => new InvocationHop(call, resolve).send(false));
}

/** One invocation's hop to the agent: an undici dispatch handler, resent once on a stale keep-alive socket. */
class InvocationHop implements Dispatcher.DispatchHandler {
  readonly #call: ProxyInvocation;
  readonly #resolve: (status: number) => void;
  #controller: Dispatcher.DispatchController | undefined;
  #retried = false;
  #started = false;
  #streaming = false;
  #status = 0;
  #settled = false;
  #clientGone = false;
  /** The answer was refused by `checkAnswer`: its body is read and dropped. */
  #refused = false;

  constructor(call: ProxyInvocation, resolve: (status: number) => void) {
    this.#call = call;
    this.#resolve = resolve;
    call.response.on('close', () => {
      if (call.response.writableFinished || this.#settled) return;
      this.#clientGone = true;
      this.#controller?.abort(new Error('client closed'));
      this.#done(CLIENT_CLOSED);
    });
  }

  send(retried: boolean): void {
    this.#retried = retried;
    this.#call.session.endpoint.pool.dispatch({ method: 'POST', path: this.#call.path ?? '/invocations', headers: this.#call.headers as Record<string, string>, body: this.#call.body }, this);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#clientGone) controller.abort(new Error('client closed'));
  }

  onResponseStart(_controller: Dispatcher.DispatchController, status: number, agentHeaders: IncomingHttpHeaders): void {
    const { response, responseHeaders, session } = this.#call;
    this.#started = true;
    this.#status = status;
    const refused = this.#call.checkAnswer?.(status, agentHeaders['content-type'] as string | undefined);
    if (refused) {
      this.#refused = true;
      this.#call.sendError(refused);
      this.#done(refused.status, refused.code);
      return;
    }
    this.#streaming = (agentHeaders['content-type'] ?? '').startsWith('text/event-stream');
    const headers = clientResponseHeaders(agentHeaders);
    headers[SESSION_HEADER] = session.id;
    for (const name in responseHeaders) headers[name] = responseHeaders[name];
    response.writeHead(status, headers);
    if (this.#streaming) response.flushHeaders();
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const { response } = this.#call;
    if (this.#refused || response.destroyed) return;
    if (!response.write(chunk)) {
      // Backpressure: the agent's socket is read again once the client has taken what was sent.
      controller.pause();
      response.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    if (this.#settled) return;
    this.#call.response.end();
    this.#done(this.#status);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error & { code?: string; socket?: { bytesRead?: number } }): void {
    if (this.#clientGone || this.#settled) return;
    const { response } = this.#call;
    const endpoint = this.#call.session.endpoint;
    if (!this.#started) {
      // The agent closed an idle keep-alive socket just as it was reused (bytes were read on it
      // before, none for this request): it never answered this request, so sending it once more on
      // a fresh connection is safe (the rule Node documents for `reusedSocket`).
      if (!this.#retried && error.code === 'UND_ERR_SOCKET' && (error.socket?.bytesRead ?? 0) > 0 && !endpoint.exited) return this.send(true);
      if (response.headersSent) return;
      this.#call.onAgentFailure();
      const why = endpoint.exited ? `the agent process exited with code ${endpoint.exitCode ?? 'null'}` : `the agent connection failed (${connectionCode(error)})`;
      this.#call.sendError(new RuntimeError('RuntimeClientError', `The agent did not answer: ${why}. The session was reset; the next call starts a fresh process.`));
      return this.#done(424, endpoint.exited ? 'AgentExited' : connectionCode(error));
    }
    this.#call.onAgentFailure();
    if (this.#streaming && !response.writableEnded && !response.destroyed) {
      const exit = endpoint.exited ? ` (exit code ${endpoint.exitCode ?? 'null'})` : '';
      // An event of the agents' own stream union, so clients parse it like any agent's error.
      const event: AgentEvent = { type: 'error', code: 'AgentCrashed', message: `The agent process ended in the middle of the response${exit}; the session was reset and the next call starts a fresh process.` };
      response.end(`event: error\ndata: ${JSON.stringify(event)}\n\n`);
    } else {
      response.destroy();
    }
    this.#done(this.#status, 'AgentCrashed');
  }

  #done(status: number, failure?: string): void {
    if (this.#settled) return;
    this.#settled = true;
    endHop(this.#call.trace, status, failure);
    this.#resolve(status);
  }
}

/** The connection failure's errno (ECONNREFUSED, ECONNRESET…), or undici's own code for a socket it closed. */
function connectionCode(error: Error & { code?: string; cause?: unknown }): string {
  const cause = error.cause as { code?: unknown } | undefined;
  if (typeof cause?.code === 'string') return cause.code;
  if (error.code === 'UND_ERR_SOCKET') return 'ECONNRESET';
  return error.code ?? 'AgentUnreachable';
}
