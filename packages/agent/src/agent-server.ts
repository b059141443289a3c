import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';
import { SpanKind, failureFor, type FailureTable, endSpanWithStatus, extractTraceContext, failSpan, headerValue, readBody, redactText, sendJson, sendWire, startSpan, withTraceContext, type Logger, type TraceContext } from '@gatehouse/core';
import { AgentError } from './agent-error.ts';
import type { AgentEvent } from './agent-event.ts';
import { runAgentTurn } from './agent-loop.ts';
import { openGatewaySession } from './gateway-session.ts';
import type { ModelProvider } from './model-provider.ts';
import type { GatewayCredential } from './agent-settings.ts';
import { SessionMemory } from './session-memory.ts';
import { startSse, writeSseEvent } from './sse-writer.ts';

export interface AgentServerOptions {
  readonly model: ModelProvider;
  /** The gateway's MCP endpoint, e.g. `http://localhost:8080/mcp`. */
  readonly gatewayUrl: string;
  /** Default `workload-token`; see GatewayCredential. */
  readonly gatewayCredential?: GatewayCredential;
  readonly logger: Logger;
  readonly system?: string;
  readonly maxBodyBytes?: number;
  readonly now?: () => number;
}

export interface AgentServer {
  readonly server: Server;
  /** Number of turns running now; `/ping` says HealthyBusy while it is above zero. */
  readonly activeTurns: () => number;
}

const SESSION_HEADER = 'x-amzn-bedrock-agentcore-runtime-session-id';
const REQUEST_HEADER = 'x-amzn-bedrock-agentcore-runtime-request-id';
const USER_HEADER = 'x-amzn-bedrock-agentcore-runtime-user-id';

/** `{"prompt": …}` as AgentCore samples send it, or `{"input": {"prompt": …}}`; other fields are ignored. */
const invocationSchema = z.union([
  z.object({ prompt: z.string().min(1).max(100_000) }),
  z.object({ input: z.object({ prompt: z.string().min(1).max(100_000) }) }),
]);

interface InvocationContext {
  readonly sessionId: string;
  readonly requestId: string;
  readonly userId: string | undefined;
  readonly workloadToken: string | undefined;
  /** The runtime's span for the hop to this agent, from `traceparent`. */
  readonly trace: TraceContext;
}

/**
 * The AgentCore HTTP container contract on one node:http server: GET /ping, POST /invocations (SSE or JSON),
 * WS /ws. Every invocation gets its own gateway connection with that request's workload token.
 */
export function createAgentServer(options: AgentServerOptions): AgentServer {
  const now = options.now ?? Date.now;
  const memory = new SessionMemory();
  const maxBody = options.maxBodyBytes ?? 1_000_000;
  /** The agent's answers to internal failures. */
  const failures: FailureTable<AgentError> = {
    bodyTooLarge: () => new AgentError('BadRequest', `The request body exceeds ${maxBody} bytes.`, 'Send a shorter prompt.'),
  };
  let active = 0;
  let lastStatus: 'Healthy' | 'HealthyBusy' = 'Healthy';
  let lastChange = Math.floor(now() / 1000);

  function setActive(delta: number): void {
    active += delta;
    const status = active > 0 ? 'HealthyBusy' : 'Healthy';
    if (status !== lastStatus) {
      lastStatus = status;
      lastChange = Math.floor(now() / 1000);
    }
  }

  async function* invoke(prompt: string, context: InvocationContext, signal: AbortSignal): AsyncGenerator<AgentEvent> {
    const gateway = openGatewaySession({ url: options.gatewayUrl, workloadToken: context.workloadToken });
    setActive(1);
    const log = options.logger.child({ sessionId: context.sessionId, requestId: context.requestId, ...(context.userId ? { userId: context.userId } : {}) });
    log.info({ model: options.model.label, hasWorkloadToken: Boolean(context.workloadToken) }, 'invocation started');
    const span = startSpan('invoke_agent', SpanKind.SERVER, context.trace, {
      'gen_ai.operation.name': 'invoke_agent',
      'gatehouse.session.id': context.sessionId,
      'gatehouse.request.id': context.requestId,
    });
    let failure: string | undefined;
    try {
      for await (const event of runAgentTurn({
        model: options.model,
        gateway,
        history: memory.get(context.sessionId),
        prompt,
        onCommit: (history) => memory.set(context.sessionId, history),
        signal,
        logger: log,
        trace: span.context,
        ...(options.system ? { system: options.system } : {}),
      })) {
        if (event.type === 'error') failure = event.code;
        yield event;
      }
    } finally {
      setActive(-1);
      // Ending the MCP session (DELETE) is part of this invocation's trace too.
      await withTraceContext(span.context, () => gateway.close());
      if (failure) failSpan(span.span, failure);
      endSpanWithStatus(span.span, 200);
      log.info('invocation finished');
    }
  }

  /** Runs a turn after earlier turns of the same session, handing each event to `emit`. */
  function runSerialized(prompt: string, context: InvocationContext, signal: AbortSignal, emit: (event: AgentEvent) => void): Promise<void> {
    return memory.serialize(context.sessionId, async () => {
      for await (const event of invoke(prompt, context, signal)) emit(event);
    });
  }

  async function handleInvocation(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let body: unknown;
    try {
      body = JSON.parse((await readBody(request, maxBody)).toString('utf8'));
    } catch (error) {
      const failure = failureFor(failures, error);
      if (failure) {
        sendWire(response, failure.toResponse());
        return;
      }
      sendJson(response, 400, { error: 'Invalid JSON', details: 'The request body must be a JSON object such as {"prompt":"…"}.' });
      return;
    }
    const parsed = invocationSchema.safeParse(body);
    if (!parsed.success) {
      sendWire(response, new AgentError('BadRequest', 'The request needs a non-empty string "prompt" (or "input.prompt").', 'Send {"prompt":"List my accounts"}.').toResponse());
      return;
    }
    const prompt = 'prompt' in parsed.data ? parsed.data.prompt : parsed.data.input.prompt;
    const context = contextOf(request, undefined);
    const controller = new AbortController();
    response.on('close', () => {
      if (!response.writableFinished) controller.abort();
    });
    const streaming = (headerValue(request, 'accept') ?? '').includes('text/event-stream');
    if (streaming) {
      startSse(response);
      await runSerialized(prompt, context, controller.signal, (event) => {
        if (!response.destroyed) writeSseEvent(response, event);
      });
      response.end();
      return;
    }
    const events: AgentEvent[] = [];
    await runSerialized(prompt, context, controller.signal, (event) => events.push(event));
    const message = events.findLast((event) => event.type === 'message');
    const error = events.find((event) => event.type === 'error');
    sendJson(response, 200, { message: message?.type === 'message' ? message.text : '', events, ...(error ? { error } : {}) }, { [SESSION_HEADER]: context.sessionId });
  }

  function contextOf(request: IncomingMessage, url: URL | undefined): InvocationContext {
    const sessionId = headerValue(request, SESSION_HEADER) ?? url?.searchParams.get('X-Amzn-Bedrock-AgentCore-Runtime-Session-Id') ?? `ephemeral-${randomUUID()}`;
    return {
      sessionId,
      requestId: headerValue(request, REQUEST_HEADER) ?? randomUUID(),
      userId: headerValue(request, USER_HEADER),
      workloadToken:
        options.gatewayCredential === 'caller-token'
          ? /^Bearer ([^\s]+)$/i.exec(headerValue(request, 'authorization') ?? '')?.[1]
          : (headerValue(request, 'x-amz-bedrock-agentcore-identity-wat') ?? headerValue(request, 'workloadaccesstoken')),
      trace: extractTraceContext(request.headers),
    };
  }

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://agent.invalid');
    if (request.method === 'GET' && url.pathname === '/ping') {
      sendJson(response, 200, { status: lastStatus, time_of_last_update: lastChange });
      return;
    }
    if (request.method === 'POST' && url.pathname === '/invocations') {
      handleInvocation(request, response).catch((error: unknown) => {
        options.logger.error({ err: redactText(String(error)) }, 'invocation failed');
        if (!response.headersSent) sendWire(response, new AgentError('AgentFailure', 'The agent failed unexpectedly.').toResponse());
        else response.end();
      });
      return;
    }
    sendJson(response, 404, { error: `No route for ${request.method ?? 'GET'} ${url.pathname}` });
  });

  const sockets = new WebSocketServer({ noServer: true, maxPayload: maxBody });
  server.on('upgrade', (request, socket, head) => {
    const url = new URL(request.url ?? '/', 'http://agent.invalid');
    if (url.pathname !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    sockets.handleUpgrade(request, socket, head, (webSocket) => serveWebSocket(webSocket, contextOf(request, url)));
  });

  function serveWebSocket(webSocket: WebSocket, context: InvocationContext): void {
    const controller = new AbortController();
    webSocket.on('close', () => controller.abort());
    const send = (event: AgentEvent): void => {
      if (webSocket.readyState === webSocket.OPEN) webSocket.send(JSON.stringify(event));
    };
    webSocket.on('message', (data, isBinary) => {
      let prompt: string | undefined;
      try {
        const parsed = invocationSchema.safeParse(JSON.parse(isBinary ? Buffer.from(data as Buffer).toString('utf8') : String(data)));
        if (parsed.success) prompt = 'prompt' in parsed.data ? parsed.data.prompt : parsed.data.input.prompt;
      } catch {
        prompt = undefined;
      }
      if (!prompt) {
        send(new AgentError('BadRequest', 'Each WebSocket message must be JSON with a non-empty string "prompt".', 'Send {"prompt":"List my accounts"}.').toEvent());
        return;
      }
      runSerialized(prompt, { ...context, requestId: randomUUID() }, controller.signal, send).catch((error: unknown) => {
        options.logger.error({ err: redactText(String(error)) }, 'websocket invocation failed');
        webSocket.close(1011, 'agent failure');
      });
    });
  }

  server.on('close', () => sockets.close());
  return { server, activeTurns: () => active };
}
