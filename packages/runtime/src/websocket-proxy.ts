import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { TraceSpan } from '@gatehouse/core';
import { jsonFrameTooDeep } from './check-payload-depth.ts';
import { annotateRequestTrace, endHop, endRequestTrace, type RequestTrace } from './invocation-trace.ts';
import { RuntimeError } from './runtime-error.ts';
import type { RuntimeEntry } from './runtime-registry.ts';
import type { Session } from './session-manager.ts';

export interface WebSocketLink {
  readonly runtime: RuntimeEntry;
  readonly session: Session;
  readonly request: IncomingMessage;
  readonly socket: Duplex;
  readonly head: Buffer;
  readonly agentHeaders: OutgoingHttpHeaders;
  readonly acceptedProtocol: string | undefined;
  readonly responseHeaders: Readonly<Record<string, string>>;
  /** Called exactly once when both sides are closed (or the link never opened). */
  readonly onClosed: (outcome: { opened: boolean; code: number }) => void;
  readonly onAgentFailure: () => void;
  /** The platform clock, so idle reaping sees WebSocket traffic on the same time line. */
  readonly now: () => number;
  readonly reject: (error: RuntimeError) => void;
  /** The request's SERVER span and the hop's CLIENT span (its context is on agentHeaders); both last as long as the connection. */
  readonly trace?: { readonly request: RequestTrace | undefined; readonly hop: TraceSpan | undefined };
}

/** Send buffers above this pause the other side (backpressure across the proxy). */
const HIGH_WATER = 1024 * 1024;

/** Close codes that may not be sent in a close frame are mapped to ones that may. */
function sendableCode(code: number, fallback: number): number {
  return code === 1005 || code === 1006 || code === 1015 || code < 1000 || code >= 5000 ? fallback : code;
}

/**
 * Pipes a client WebSocket to the session agent's /ws, frames unchanged both ways, with
 * AgentCore's limits: frame size (1009, enforced by `ws` through maxPayload), frames per second and
 * connection duration (1008). The agent side is connected first, so a client only gets a 101 when
 * the agent accepted.
 */
export class WebSocketProxy {
  readonly #servers = new Map<string, WebSocketServer>();
  readonly #protocols = new WeakMap<IncomingMessage, string>();
  readonly #open = new Set<WebSocket>();

  #server(runtime: RuntimeEntry): WebSocketServer {
    let server = this.#servers.get(runtime.name);
    if (!server) {
      server = new WebSocketServer({
        noServer: true,
        maxPayload: runtime.config.limits.websocket.maxFrameBytes,
        perMessageDeflate: false,
        // Echo only the bare marker, never the token-bearing offer (Chromium needs one offered protocol back).
        handleProtocols: (_offers, request) => this.#protocols.get(request) ?? false,
      });
      this.#servers.set(runtime.name, server);
    }
    return server;
  }

  link(link: WebSocketLink): void {
    const { runtime, session, request, socket } = link;
    const { host, port, socketPath } = session.endpoint;
    // `ws+unix://{socket}:/ws` is how `ws` reaches an agent in its own namespace (through the sandbox's Unix socket).
    const agent = new WebSocket(socketPath ? `ws+unix://${socketPath}:/ws` : `ws://${host.includes(':') ? `[${host}]` : host}:${port}/ws`, {
      headers: link.agentHeaders as Record<string, string>,
      perMessageDeflate: false,
      maxPayload: 0,
      handshakeTimeout: 10_000,
    });
    let opened = false;
    let finished = false;
    // The spans of a WebSocket invocation last as long as the connection; 101 when it opened.
    let failure: { status: number; reason: string } | undefined;
    const finish = (code: number): void => {
      if (finished) return;
      finished = true;
      const status = failure?.status ?? (opened ? 101 : 499);
      annotateRequestTrace(link.trace?.request, { 'websocket.close_code': code });
      endHop(link.trace?.hop, status, failure?.reason);
      endRequestTrace(link.trace?.request, status, failure ? 'RuntimeClientError' : undefined);
      link.onClosed({ opened, code });
    };
    const abandon = (): void => {
      agent.terminate();
      finish(0);
    };
    socket.once('close', () => {
      if (!opened) abandon();
    });
    agent.on('unexpected-response', (_req, answer) => {
      answer.resume();
      failure = { status: 424, reason: 'AgentRefusedWebSocket' };
      link.reject(new RuntimeError('RuntimeClientError', `The agent refused the WebSocket at /ws (status ${answer.statusCode ?? 'unknown'}).`));
      agent.terminate();
      finish(0);
    });
    agent.on('error', (error: NodeJS.ErrnoException) => {
      if (opened || finished) return;
      failure = { status: 424, reason: error.code ?? 'AgentUnreachable' };
      link.onAgentFailure();
      link.reject(new RuntimeError('RuntimeClientError', `The agent did not accept the WebSocket (${error.code ?? error.message}). The session was reset; the next call starts a fresh process.`));
      finish(0);
    });
    agent.once('open', () => {
      if (socket.destroyed) return abandon();
      if (link.acceptedProtocol) this.#protocols.set(request, link.acceptedProtocol);
      const server = this.#server(runtime);
      const addHeaders = (headers: string[]): void => {
        for (const [name, value] of Object.entries(link.responseHeaders)) headers.push(`${name}: ${value}`);
      };
      server.once('headers', addHeaders);
      server.handleUpgrade(request, socket, link.head, (client) => {
        server.off('headers', addHeaders);
        opened = true;
        this.#open.add(client);
        this.#pipe({ client, agent }, link, {
          finish,
          markFailed: (reason) => {
            failure = { status: 101, reason };
          },
        });
      });
    });
  }

  /** Both directions of an opened pair, under the runtime's WebSocket limits; `outcome` hears how it ended. */
  #pipe(pair: { readonly client: WebSocket; readonly agent: WebSocket }, link: WebSocketLink, outcome: { readonly finish: (code: number) => void; readonly markFailed: (reason: string) => void }): void {
    const { client, agent } = pair;
    const { finish, markFailed } = outcome;
    const limits = link.runtime.config.limits.websocket;
    let windowStart = Date.now();
    let frames = 0;
    const lifetime = setTimeout(() => {
      client.close(1008, `Max connection duration of ${formatDuration(limits.maxConnectionSeconds)} is exceeded`);
    }, limits.maxConnectionSeconds * 1000);
    lifetime.unref();
    const forward = (from: WebSocket, to: WebSocket) => (data: RawData, isBinary: boolean) => {
      link.session.lastActivity = link.now();
      if (to.readyState !== WebSocket.OPEN) return;
      to.send(data, { binary: isBinary }, () => {
        if (to.bufferedAmount < HIGH_WATER && from.isPaused) from.resume();
      });
      if (to.bufferedAmount >= HIGH_WATER) from.pause();
    };
    const toAgent = forward(client, agent);
    client.on('message', (data, isBinary) => {
      const now = Date.now();
      if (now - windowStart >= 1000) {
        windowStart = now;
        frames = 0;
      }
      if (++frames > limits.maxFramesPerSecond) {
        client.close(1008, `Rate limit of ${limits.maxFramesPerSecond} frames per second exceeded`);
        return;
      }
      const maxJsonDepth = link.runtime.config.limits.maxJsonDepth;
      if (!isBinary && Buffer.isBuffer(data) && jsonFrameTooDeep(data, maxJsonDepth)) {
        client.close(1008, `JSON nested deeper than ${maxJsonDepth} levels (limits.maxJsonDepth)`);
        return;
      }
      toAgent(data, isBinary);
    });
    agent.on('message', forward(agent, client));
    client.on('error', () => client.terminate());
    agent.on('error', () => agent.terminate());
    client.on('close', (code, reason) => {
      clearTimeout(lifetime);
      this.#open.delete(client);
      if (agent.readyState === WebSocket.OPEN) agent.close(sendableCode(code, 1000), reason);
      else agent.terminate();
      finish(code);
    });
    agent.on('close', (code, reason) => {
      // 1006: the agent's connection dropped without a close frame — treat it as the process failing.
      if (link.session.endpoint.exited || code === 1006) {
        markFailed('AgentCrashed');
        link.onAgentFailure();
        if (client.readyState === WebSocket.OPEN) client.close(1011, 'The agent process ended; the session was reset');
        return;
      }
      if (client.readyState === WebSocket.OPEN) client.close(sendableCode(code, 1011), reason);
    });
  }

  /** Closes every proxied connection (1001 going away) and the servers. */
  close(): void {
    for (const client of this.#open) client.close(1001, 'Gatehouse is shutting down');
    for (const server of this.#servers.values()) server.close();
  }
}

function formatDuration(seconds: number): string {
  if (seconds % 3600 === 0) return seconds === 3600 ? '1 hour' : `${seconds / 3600} hours`;
  if (seconds % 60 === 0) return `${seconds / 60} minutes`;
  return `${seconds} seconds`;
}
