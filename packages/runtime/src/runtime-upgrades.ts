import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '@gatehouse/core';
import { customHeadersFromQuery } from './agent-headers.ts';
import { endRequestTrace, startHop, startRequestTrace, type RequestTrace } from './invocation-trace.ts';
import { RuntimeError } from './runtime-error.ts';
import { checkWebSocketProtocol } from './runtime-protocols.ts';
import type { RuntimeRegistry } from './runtime-registry.ts';
import { singleHeader, type RuntimeRequest, type RuntimeSteps } from './runtime-steps.ts';
import { SESSION_HEADER, resolveSessionId } from './session-id.ts';
import type { Session, SessionManager } from './session-manager.ts';
import type { WebSocketProxy } from './websocket-proxy.ts';

export interface UpgradeParts {
  readonly steps: RuntimeSteps;
  readonly sessions: SessionManager;
  readonly registry: RuntimeRegistry;
  readonly sockets: WebSocketProxy;
  readonly logger: Logger;
  readonly clock: () => number;
  /** True once the runtime is shutting down. */
  readonly closing: () => boolean;
}

/**
 * GET /runtimes/{ARN or name}/ws: the invoke path's steps (origin, authenticate, rate limit, place,
 * workload token) and then the link to the agent's /ws (websocket-proxy.ts). A refusal is written on
 * the raw socket as an HTTP answer, since no WebSocket exists yet.
 */
export class RuntimeUpgrades {
  readonly #parts: UpgradeParts;

  constructor(parts: UpgradeParts) {
    this.#parts = parts;
  }

  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer, url: URL): boolean {
    if (!url.pathname.startsWith('/runtimes/')) return false;
    const log: Record<string, unknown> = { method: 'GET', path: url.pathname };
    let route;
    try {
      route = this.#parts.registry.route(url);
      if (!route) return false;
      if (route.action !== 'ws') throw new RuntimeError('ResourceNotFoundException', 'WebSocket connections go to /runtimes/{ARN or name}/ws.');
    } catch (error) {
      this.#reject(socket, error, { log, trace: undefined });
      return true;
    }
    log.runtime = route.runtime.name;
    socket.on('error', () => socket.destroy());
    const call: RuntimeRequest = { runtime: route.runtime, request, url, log, trace: startRequestTrace(route.runtime, request.headers, 'ws'), corsHeaders: {} };
    this.#link(call, socket, head).catch((error: unknown) => this.#reject(socket, error, call));
    return true;
  }

  async #link(call: RuntimeRequest, socket: Duplex, head: Buffer): Promise<void> {
    const { steps, sessions } = this.#parts;
    const { runtime, request, url } = call;
    // Browsers do not apply CORS to WebSockets, so the Origin check is the only guard here.
    steps.origin(call);
    if (this.#parts.closing()) throw new RuntimeError('ServiceUnavailableException', 'The runtime is shutting down; retry on another instance.');
    checkWebSocketProtocol(call.runtime);
    const caller = await steps.authenticate(call, true);
    steps.setSession(call, resolveSessionId(url.searchParams.get(SESSION_HEADER) ?? url.searchParams.get('X-Amzn-Bedrock-AgentCore-Runtime-Session-Id') ?? singleHeader(request, SESSION_HEADER)).sessionId);
    // A WebSocket is never forwarded between instances: every upgrade counts against the rate limit.
    await steps.rateLimit(call);
    const placement = await sessions.acquire(runtime, call.sessionId!, caller.owner, false);
    if (placement.kind !== 'local') throw new Error('unreachable: local placement was requested');
    const session: Session = placement.session;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      sessions.release(session);
    };
    try {
      const headers = steps.agentHeaders(call, await steps.workloadToken(call), customHeadersFromQuery(runtime, url.searchParams));
      delete headers['content-type'];
      delete headers.accept;
      const hop = startHop(call.trace, 'agent /ws', { 'gatehouse.runtime.name': runtime.name, 'gatehouse.session.id': session.id }, headers);
      this.#parts.sockets.link({
        runtime,
        session,
        request,
        socket,
        head,
        agentHeaders: headers,
        acceptedProtocol: caller.acceptedProtocol,
        responseHeaders: { [SESSION_HEADER]: session.id, ...call.corsHeaders },
        onAgentFailure: () => void sessions.end(session, 'agent failure'),
        now: this.#parts.clock,
        reject: (error) => this.#reject(socket, error, call),
        trace: { request: call.trace, hop },
        onClosed: ({ opened, code }) => {
          release();
          if (opened) this.#parts.logger.info({ ...call.log, code }, 'runtime websocket closed');
        },
      });
    } catch (error) {
      release();
      throw error;
    }
  }

  /** The refusal as an HTTP answer on the raw socket, with its access line and trace status. */
  #reject(socket: Duplex, error: unknown, call: { readonly log: Record<string, unknown>; readonly trace: RequestTrace | undefined }): void {
    const runtimeError = this.#parts.steps.toRuntimeError(error, call.log);
    const wire = runtimeError.toResponse();
    endRequestTrace(call.trace, wire.status, runtimeError.code);
    this.#parts.logger.info({ ...call.log, status: wire.status }, 'runtime websocket refused');
    if (socket.destroyed) return;
    const headers = Object.entries({ ...wire.headers, 'content-length': String(Buffer.byteLength(wire.body)), connection: 'close' })
      .map(([name, value]) => `${name}: ${value}`)
      .join('\r\n');
    socket.end(`HTTP/1.1 ${wire.status} ${STATUS_CODES[wire.status] ?? 'Error'}\r\n${headers}\r\n\r\n${wire.body}`);
  }
}
