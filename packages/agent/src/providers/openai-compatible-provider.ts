import { readSse } from '@gatehouse/core/agent-support';
import type { ConversationMessage, ModelChunk, ModelProvider, ModelRequest } from '../model-provider.ts';
import type { ApiProviderOptions } from './anthropic-provider.ts';
import { translateModelError } from './model-error.ts';
import { httpError, MissingApiKeyError } from './model-http-error.ts';
import { withRetries } from './with-retries.ts';
import { toolNameAliases, type ToolNameAliases } from './tool-name-aliases.ts';

export interface OpenAiCompatibleSettings {
  readonly modelId: string;
  /** e.g. `http://localhost:11434/v1` (Ollama), `http://localhost:8000/v1` (vLLM). */
  readonly baseUrl: string;
  /** Environment variable holding the key; local servers usually need none. */
  readonly apiKeyEnv?: string | undefined;
}

/** Chat Completions streaming over fetch, for Ollama, vLLM, LM Studio and other OpenAI-compatible servers. */
export function createOpenAiCompatibleProvider(settings: OpenAiCompatibleSettings, options: ApiProviderOptions = {}): ModelProvider {
  const env = options.env ?? process.env;
  const doFetch = options.fetch ?? fetch;
  const base = settings.baseUrl.replace(/\/+$/, '');
  const context = { provider: 'openai-compatible' as const, modelId: settings.modelId, apiKeyEnv: settings.apiKeyEnv };
  const retry = { ...options.retry, ...(options.logger ? { logger: options.logger } : {}) };

  async function* attempt(request: ModelRequest, maxTokens: number): AsyncGenerator<ModelChunk> {
    const key = settings.apiKeyEnv ? env[settings.apiKeyEnv] : undefined;
    if (settings.apiKeyEnv && !key) throw new MissingApiKeyError();
    const names = toolNameAliases(request.tools);
    const response = await doFetch(`${base}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify({
        model: settings.modelId,
        stream: true,
        max_tokens: maxTokens,
        messages: toOpenAiMessages(request.system, request.messages, names),
        ...(request.tools.length ? { tools: request.tools.map((tool) => ({ type: 'function', function: { name: names.toModel(tool.name), description: tool.description, parameters: tool.inputSchema } })) } : {}),
      }),
      ...(request.signal ? { signal: request.signal } : {}),
    });
    if (!response.ok || !response.body) throw await httpError(response);
    const calls = new Map<number, { id: string; name: string; arguments: string }>();
    let finish: string | undefined;
    for await (const { data } of readSse(response.body)) {
      if (data.trim() === '[DONE]') break;
      const chunk = JSON.parse(data) as { choices?: Array<{ delta?: { content?: string | null; tool_calls?: Array<{ index?: number; id?: string; function?: { name?: string; arguments?: string } }> }; finish_reason?: string | null }>; error?: { message?: string } };
      if (chunk.error) throw Object.assign(new Error(chunk.error.message ?? 'stream error'), { status: 500 });
      const choice = chunk.choices?.[0];
      if (!choice) continue;
      if (choice.delta?.content) yield { type: 'text-delta', delta: choice.delta.content };
      for (const call of choice.delta?.tool_calls ?? []) {
        const index = call.index ?? 0;
        const entry = calls.get(index) ?? { id: '', name: '', arguments: '' };
        if (call.id) entry.id = call.id;
        if (call.function?.name) entry.name += call.function.name;
        if (call.function?.arguments) entry.arguments += call.function.arguments;
        calls.set(index, entry);
      }
      if (choice.finish_reason) finish = choice.finish_reason;
    }
    for (const [index, call] of [...calls.entries()].sort(([a], [b]) => a - b)) {
      yield { type: 'tool-use', id: call.id || `call-${index}`, name: names.fromModel(call.name), input: call.arguments ? (JSON.parse(call.arguments) as Record<string, unknown>) : {} };
    }
    yield { type: 'stop', reason: finish === 'tool_calls' || calls.size > 0 ? 'tool_use' : finish === 'length' ? 'max_tokens' : finish === 'stop' ? 'end_turn' : 'other' };
  }

  return {
    label: `openai-compatible ${settings.modelId} at ${base}`,
    stream: (request) => withRetries(() => attempt(request, options.maxTokens ?? 2048), (error) => translateModelError(error, context), retry),
    async check() {
      const probe = { system: '', tools: [], messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'Reply with OK.' }] }] };
      for await (const chunk of withRetries(() => attempt(probe, 5), (error) => translateModelError(error, context), retry)) void chunk;
      return `openai-compatible ${settings.modelId} at ${base}: reachable`;
    },
  };
}

function toOpenAiMessages(system: string, messages: readonly ConversationMessage[], names: ToolNameAliases): unknown[] {
  const out: unknown[] = system ? [{ role: 'system', content: system }] : [];
  for (const message of messages) {
    if (message.role === 'assistant') {
      const text = message.content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('');
      const toolCalls = message.content.flatMap((block) =>
        block.type === 'tool-use' ? [{ id: block.id, type: 'function', function: { name: names.toModel(block.name), arguments: JSON.stringify(block.input) } }] : [],
      );
      out.push({ role: 'assistant', content: text || null, ...(toolCalls.length ? { tool_calls: toolCalls } : {}) });
      continue;
    }
    for (const block of message.content) {
      if (block.type === 'tool-result') out.push({ role: 'tool', tool_call_id: block.id, content: block.content || '(empty)' });
      else if (block.type === 'text') out.push({ role: 'user', content: block.text });
    }
  }
  return out;
}
