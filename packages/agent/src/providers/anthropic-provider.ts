import { readSse, type Logger } from '@gatehouse/core/agent-support';
import type { ConversationMessage, ModelChunk, ModelProvider, ModelRequest } from '../model-provider.ts';
import { translateModelError } from './model-error.ts';
import { httpError, MissingApiKeyError } from './model-http-error.ts';
import { withRetries, type RetrySettings } from './with-retries.ts';
import { toolNameAliases, type ToolNameAliases } from './tool-name-aliases.ts';

export interface AnthropicSettings {
  readonly modelId: string;
  readonly apiKeyEnv: string;
  readonly baseUrl?: string | undefined;
}

export interface ApiProviderOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly retry?: Partial<RetrySettings>;
  readonly maxTokens?: number;
  readonly logger?: Logger;
  readonly fetch?: typeof fetch;
}

/** Anthropic's Messages API, streamed over fetch. The key is read from the named environment variable at each call. */
export function createAnthropicProvider(settings: AnthropicSettings, options: ApiProviderOptions = {}): ModelProvider {
  const env = options.env ?? process.env;
  const doFetch = options.fetch ?? fetch;
  const base = (settings.baseUrl ?? 'https://api.anthropic.com').replace(/\/+$/, '');
  const context = { provider: 'anthropic' as const, modelId: settings.modelId, apiKeyEnv: settings.apiKeyEnv };
  const retry = { ...options.retry, ...(options.logger ? { logger: options.logger } : {}) };

  async function* attempt(request: ModelRequest, maxTokens: number): AsyncGenerator<ModelChunk> {
    const key = env[settings.apiKeyEnv];
    if (!key) throw new MissingApiKeyError();
    const names = toolNameAliases(request.tools);
    const response = await doFetch(`${base}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key, 'anthropic-version': '2023-06-01', accept: 'text/event-stream' },
      body: JSON.stringify({
        model: settings.modelId,
        max_tokens: maxTokens,
        stream: true,
        ...(request.system ? { system: request.system } : {}),
        messages: toAnthropicMessages(request.messages, names),
        ...(request.tools.length ? { tools: request.tools.map((tool) => ({ name: names.toModel(tool.name), description: tool.description || tool.name, input_schema: tool.inputSchema })) } : {}),
      }),
      ...(request.signal ? { signal: request.signal } : {}),
    });
    if (!response.ok || !response.body) throw await httpError(response);
    const pending = new Map<number, { id: string; name: string; input: string }>();
    for await (const { data } of readSse(response.body)) {
      const event = JSON.parse(data) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- provider wire JSON, read defensively below
      if (event.type === 'content_block_start' && event.content_block?.type === 'tool_use') {
        pending.set(Number(event.index), { id: String(event.content_block.id), name: String(event.content_block.name), input: '' });
      } else if (event.type === 'content_block_delta') {
        if (event.delta?.type === 'text_delta' && event.delta.text) yield { type: 'text-delta', delta: String(event.delta.text) };
        else if (event.delta?.type === 'input_json_delta') {
          const block = pending.get(Number(event.index));
          if (block) block.input += String(event.delta.partial_json ?? '');
        }
      } else if (event.type === 'content_block_stop') {
        const block = pending.get(Number(event.index));
        if (block) {
          pending.delete(Number(event.index));
          yield { type: 'tool-use', id: block.id, name: names.fromModel(block.name), input: block.input ? (JSON.parse(block.input) as Record<string, unknown>) : {} };
        }
      } else if (event.type === 'message_delta' && event.delta?.stop_reason) {
        const reason = event.delta.stop_reason;
        yield { type: 'stop', reason: reason === 'tool_use' || reason === 'end_turn' || reason === 'max_tokens' ? reason : 'other' };
      } else if (event.type === 'error') {
        const type = String(event.error?.type ?? '');
        throw Object.assign(new Error(String(event.error?.message ?? type)), { status: type === 'overloaded_error' || type === 'rate_limit_error' ? 429 : 500 });
      }
    }
  }

  return {
    label: `anthropic ${settings.modelId}`,
    stream: (request) => withRetries(() => attempt(request, options.maxTokens ?? 2048), (error) => translateModelError(error, context), retry),
    async check() {
      const probe = { system: '', tools: [], messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'Reply with OK.' }] }] };
      for await (const chunk of withRetries(() => attempt(probe, 5), (error) => translateModelError(error, context), retry)) void chunk;
      return `anthropic ${settings.modelId}: API key and model access OK`;
    },
  };
}

function toAnthropicMessages(messages: readonly ConversationMessage[], names: ToolNameAliases): unknown[] {
  return messages.map((message) => ({
    role: message.role,
    content: message.content.map((block) => {
      if (block.type === 'text') return { type: 'text', text: block.text };
      if (block.type === 'tool-use') return { type: 'tool_use', id: block.id, name: names.toModel(block.name), input: block.input };
      return { type: 'tool_result', tool_use_id: block.id, content: block.content || '(empty)', is_error: block.isError };
    }),
  }));
}
