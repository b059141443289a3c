import { SpanKind, failSpan, redactText, startSpan, withTraceContext, type Logger, type TraceContext } from '@gatehouse/core/agent-support';
import { AgentError, isAgentError } from './agent-error.ts';
import type { AgentEvent } from './agent-event.ts';
import type { GatewaySession } from './gateway-session.ts';
import type { ContentBlock, ConversationMessage, ModelProvider, ToolSpec } from './model-provider.ts';

export const DEFAULT_SYSTEM_PROMPT =
  'You are the Gatehouse operations agent. You answer questions about the AWS accounts the user may access, using the tools you are given. ' +
  'Call list_accounts when you need account names. Never invent resources; say when a tool fails and why.';

export interface AgentTurnOptions {
  readonly model: ModelProvider;
  readonly gateway: GatewaySession;
  /** The session's conversation so far; replaced (not mutated) by `onCommit` only when the turn ends consistently. */
  readonly history: readonly ConversationMessage[];
  readonly prompt: string;
  readonly onCommit: (history: readonly ConversationMessage[]) => void;
  readonly system?: string;
  /** Model calls per turn; a model that keeps calling tools is stopped with an error. */
  readonly maxSteps?: number;
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
  /** The invocation's trace context: model and tool calls become its child spans. */
  readonly trace?: TraceContext;
}

/**
 * One turn of the agent: model → tool calls through the gateway → model … → final message.
 * Yields the typed events as they happen. History is committed only after a final answer, so a turn
 * that fails half-way never leaves a tool call without its result in the session's memory.
 */
export async function* runAgentTurn(options: AgentTurnOptions): AsyncGenerator<AgentEvent> {
  const maxSteps = options.maxSteps ?? 8;
  const working: ConversationMessage[] = [...options.history, { role: 'user', content: [{ type: 'text', text: options.prompt }] }];
  const trace = options.trace;
  try {
    // tools/list (and the MCP initialize before it) go out under the invocation's span.
    const { tools, unavailable } = trace ? await withTraceContext(trace, () => discoverTools(options.gateway)) : await discoverTools(options.gateway);
    for (let step = 0; step < maxSteps; step += 1) {
      if (options.signal?.aborted) throw new AgentError('AgentFailure', 'The invocation was cancelled.');
      let text = '';
      const toolUses: Array<Extract<ContentBlock, { type: 'tool-use' }>> = [];
      const modelSpan = trace ? startSpan(`chat ${options.model.label}`, SpanKind.CLIENT, trace, { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': options.model.label }) : undefined;
      try {
        for await (const chunk of options.model.stream({ system: options.system ?? DEFAULT_SYSTEM_PROMPT, messages: working, tools, ...(options.signal ? { signal: options.signal } : {}) })) {
          if (chunk.type === 'text-delta') {
            if (!chunk.delta) continue;
            text += chunk.delta;
            yield { type: 'text-delta', delta: chunk.delta };
          } else if (chunk.type === 'tool-use') {
            toolUses.push({ type: 'tool-use', id: chunk.id, name: chunk.name, input: chunk.input });
          }
        }
      } catch (error) {
        if (modelSpan) failSpan(modelSpan.span, isAgentError(error) ? error.code : 'ModelFailed');
        throw error;
      } finally {
        modelSpan?.span.end();
      }
      const assistantContent: ContentBlock[] = [...(text ? [{ type: 'text' as const, text }] : []), ...toolUses];
      if (toolUses.length === 0) {
        working.push({ role: 'assistant', content: assistantContent });
        options.onCommit(working);
        yield { type: 'message', text };
        return;
      }
      working.push({ role: 'assistant', content: assistantContent });
      const results: ContentBlock[] = [];
      for (const use of toolUses) {
        yield { type: 'tool-call', id: use.id, name: use.name, arguments: use.input };
        const name = resolveToolName(use.name, tools);
        if (!name) {
          if (unavailable) throw unavailable;
          const content = `There is no tool named ${use.name}. Available: ${tools.map((tool) => tool.name).join(', ') || 'none'}.`;
          yield { type: 'tool-result', id: use.id, name: use.name, ok: false, summary: content };
          results.push({ type: 'tool-result', id: use.id, name: use.name, content, isError: true });
          continue;
        }
        // The tool call's span goes to the gateway as `traceparent` on the MCP request (tracingFetch).
        const toolSpan = trace ? startSpan(`execute_tool ${name}`, SpanKind.CLIENT, trace, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': name, 'gen_ai.tool.call.id': use.id }) : undefined;
        let outcome: Awaited<ReturnType<GatewaySession['callTool']>>;
        try {
          outcome = toolSpan ? await withTraceContext(toolSpan.context, () => options.gateway.callTool(name, use.input)) : await options.gateway.callTool(name, use.input);
          if (!outcome.ok && toolSpan) failSpan(toolSpan.span, 'ToolError');
        } catch (error) {
          if (toolSpan) failSpan(toolSpan.span, isAgentError(error) ? error.code : 'ToolCallFailed');
          throw error;
        } finally {
          toolSpan?.span.end();
        }
        yield { type: 'tool-result', id: use.id, name, ok: outcome.ok, summary: outcome.summary, result: outcome.result };
        results.push({ type: 'tool-result', id: use.id, name, content: outcome.content, isError: !outcome.ok });
      }
      working.push({ role: 'user', content: results });
    }
    throw new AgentError('AgentFailure', `The model kept calling tools after ${maxSteps} steps, so the turn was stopped.`, 'Ask a narrower question, or raise the step limit.');
  } catch (error) {
    const agentError = isAgentError(error) ? error : new AgentError('AgentFailure', 'The agent failed unexpectedly.', 'See the agent log for this request id.', { cause: error });
    const cause = agentError.cause instanceof Error ? redactText(agentError.cause.message) : undefined;
    options.logger?.warn({ code: agentError.code, cause }, redactText(agentError.message));
    yield agentError.toEvent();
  }
}

async function discoverTools(gateway: GatewaySession): Promise<{ tools: readonly ToolSpec[]; unavailable: AgentError | undefined }> {
  try {
    return { tools: await gateway.listTools(), unavailable: undefined };
  } catch (error) {
    // A turn without tools can still be answered ("hello"); a tool call later reports why tools are missing.
    if (isAgentError(error)) return { tools: [], unavailable: error };
    throw error;
  }
}

/** Gateway tools are named `{target}___{tool}`; a model (or the planner) may use the bare tool name. */
export function resolveToolName(requested: string, tools: readonly ToolSpec[]): string | undefined {
  if (tools.some((tool) => tool.name === requested)) return requested;
  const bare = requested.includes('___') ? requested.slice(requested.lastIndexOf('___') + 3) : requested;
  const matches = tools.filter((tool) => tool.name.endsWith(`___${bare}`) || tool.name === bare);
  return matches.length === 1 ? matches[0]!.name : undefined;
}
