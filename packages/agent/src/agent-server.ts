import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';
import { SpanKind, failureFor, type FailureTable, endSpanWithStatus, extractTraceContext, failSpan, headerValue, readBody, redactText, sendJson, sendWire, startSpan, withTraceContext, type Logger, type TraceContext } from '@gatehouse/core/agent-support';
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

// Not `import … from 'node:http'`: an ES module import of node:http evaluates all of its exports, and its lazy
// WebSocket getters load Node's bundled undici (~50 ms of every cold start, docs/benchmarks.md "Agent cold start").
const { createServer } = process.getBuiltinModule('node:http');

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

/** The server's state, shared by its request handlers. */
interface ServerState {
  readonly options: AgentServerOptions;
  readonly memory: SessionMemory;
  readonly maxBody: number;
  /** The agent's answers to internal failures. */
  readonly failures: FailureTable<AgentError>;
  readonly busy: BusyStatus;
}

/** What `/ping` says: HealthyBusy while a turn runs, with the time the status last changed. */
class BusyStatus {
  active = 0;
  status: 'Healthy' | 'HealthyBusy' = 'Healthy';
  lastChange: number;
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
    this.lastChange = Math.floor(now() / 1000);
  }

  add(delta: number): void {
    this.active += delta;
    const status = this.active > 0 ? 'HealthyBusy' : 'Healthy';
    if (status === this.status) return;
    this.status = status;
    this.lastChange = Math.floor(this.#now() / 1000);
  }
}

/** One turn of a session: what was asked, by whom, and the signal that ends it when the caller goes away. */
interface Turn {
  readonly prompt: string;
  readonly context: InvocationContext;
  readonly signal: AbortSignal;
}

/**
 * The AgentCore HTTP container contract on one node:http server: GET /ping, POST /invocations (SSE or JSON),
 * WS /ws. Every invocation gets its own gateway connection with that request's workload token.
 */
export function createAgentServer(options: AgentServerOptions): AgentServer {
  const maxBody = options.maxBodyBytes ?? 1_000_000;
  const state: ServerState = {
    options,
    memory: new SessionMemory(),
    maxBody,
    failures: { bodyTooLarge: () => new AgentError('BadRequest', `The request body exceeds ${maxBody} bytes.`, 'Send a shorter prompt.') },
    busy: new BusyStatus(options.now ?? Date.now),
  };
  const server = createServer((request, response) => route(state, request, response));
  const sockets = new WebSocketServer({ noServer: true, maxPayload: maxBody });
  server.on('upgrade', (request, socket, head) => {
    const url = new URL(request.url ?? '/', 'http://agent.invalid');
    if (url.pathname !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    sockets.handleUpgrade(request, socket, head, (webSocket) => serveWebSocket(state, webSocket, contextOf(options, request, url)));
  });
  server.on('close', () => sockets.close());
  return { server, activeTurns: () => state.busy.active };
}

function route(state: ServerState, request: IncomingMessage, response: ServerResponse): void {
  const url = new URL(request.url ?? '/', 'http://agent.invalid');
  if (request.method === 'GET' && url.pathname === '/ping') {
    sendJson(response, 200, { status: state.busy.status, time_of_last_update: state.busy.lastChange });
    return;
  }
  if (request.method === 'POST' && url.pathname === '/invocations') {
    handleInvocation(state, request, response).catch((error: unknown) => {
      state.options.logger.error({ err: redactText(String(error)) }, 'invocation failed');
      if (!response.headersSent) sendWire(response, new AgentError('AgentFailure', 'The agent failed unexpectedly.').toResponse());
      else response.end();
    });
    return;
  }
  sendJson(response, 404, { error: `No route for ${request.method ?? 'GET'} ${url.pathname}` });
}

async function* invoke(state: ServerState, turn: Turn): AsyncGenerator<AgentEvent> {
  const { options, memory } = state;
  const { context } = turn;
  const gateway = openGatewaySession({ url: options.gatewayUrl, workloadToken: context.workloadToken });
  state.busy.add(1);
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
      prompt: turn.prompt,
      onCommit: (history) => memory.set(context.sessionId, history),
      signal: turn.signal,
      logger: log,
      trace: span.context,
      ...(options.system ? { system: options.system } : {}),
    })) {
      if (event.type === 'error') failure = event.code;
      yield event;
    }
  } finally {
    state.busy.add(-1);
    // Ending the MCP session (DELETE) is part of this invocation's trace too.
    await withTraceContext(span.context, () => gateway.close());
    if (failure) failSpan(span.span, failure);
    endSpanWithStatus(span.span, 200);
    log.info('invocation finished');
  }
}

/** Runs a turn after earlier turns of the same session, handing each event to `emit`. */
function runSerialized(state: ServerState, turn: Turn, emit: (event: AgentEvent) => void): Promise<void> {
  return state.memory.serialize(turn.context.sessionId, async () => {
    for await (const event of invoke(state, turn)) emit(event);
  });
}

/** The prompt of a POST /invocations body, or the answer that refuses it (already sent). */
async function readPrompt(state: ServerState, request: IncomingMessage, response: ServerResponse): Promise<string | undefined> {
  let body: unknown;
  try {
    body = JSON.parse((await readBody(request, state.maxBody)).toString('utf8'));
  } catch (error) {
    const failure = failureFor(state.failures, error);
    if (failure) sendWire(response, failure.toResponse());
    else sendJson(response, 400, { error: 'Invalid JSON', details: 'The request body must be a JSON object such as {"prompt":"…"}.' });
    return undefined;
  }
  const parsed = invocationSchema.safeParse(body);
  if (!parsed.success) {
    sendWire(response, new AgentError('BadRequest', 'The request needs a non-empty string "prompt" (or "input.prompt").', 'Send {"prompt":"List my accounts"}.').toResponse());
    return undefined;
  }
  return 'prompt' in parsed.data ? parsed.data.prompt : parsed.data.input.prompt;
}

async function handleInvocation(state: ServerState, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const prompt = await readPrompt(state, request, response);
  if (prompt === undefined) return;
  const context = contextOf(state.options, request, undefined);
  const controller = new AbortController();
  response.on('close', () => {
    if (!response.writableFinished) controller.abort();
  });
  const turn: Turn = { prompt, context, signal: controller.signal };
  if ((headerValue(request, 'accept') ?? '').includes('text/event-stream')) {
    startSse(response);
    await runSerialized(state, turn, (event) => {
      if (!response.destroyed) writeSseEvent(response, event);
    });
    response.end();
    return;
  }
  const events: AgentEvent[] = [];
  await runSerialized(state, turn, (event) => events.push(event));
  const message = events.findLast((event) => event.type === 'message');
  const error = events.find((event) => event.type === 'error');
  sendJson(response, 200, { message: message?.type === 'message' ? message.text : '', events, ...(error ? { error } : {}) }, { [SESSION_HEADER]: context.sessionId });
}

function contextOf(options: AgentServerOptions, request: IncomingMessage, url: URL | undefined): InvocationContext {
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

/** The prompt of one WebSocket message, if it is JSON with one. */
function promptOf(data: unknown, isBinary: boolean): string | undefined {
  try {
    const parsed = invocationSchema.safeParse(JSON.parse(isBinary ? Buffer.from(data as Buffer).toString('utf8') : String(data)));
    if (parsed.success) return 'prompt' in parsed.data ? parsed.data.prompt : parsed.data.input.prompt;
  } catch {
    // Not JSON: refused below.
  }
  return undefined;
}

function serveWebSocket(state: ServerState, webSocket: WebSocket, context: InvocationContext): void {
  const controller = new AbortController();
  webSocket.on('close', () => controller.abort());
  const send = (event: AgentEvent): void => {
    if (webSocket.readyState === webSocket.OPEN) webSocket.send(JSON.stringify(event));
  };
  webSocket.on('message', (data, isBinary) => {
    const prompt = promptOf(data, isBinary);
    if (!prompt) {
      send(new AgentError('BadRequest', 'Each WebSocket message must be JSON with a non-empty string "prompt".', 'Send {"prompt":"List my accounts"}.').toEvent());
      return;
    }
    runSerialized(state, { prompt, context: { ...context, requestId: randomUUID() }, signal: controller.signal }, send).catch((error: unknown) => {
      state.options.logger.error({ err: redactText(String(error)) }, 'websocket invocation failed');
      webSocket.close(1011, 'agent failure');
    });
  });
}
