import { BedrockRuntimeClient, ConverseStreamCommand, type ContentBlock as BedrockBlock, type Message, type Tool } from '@aws-sdk/client-bedrock-runtime';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { Logger } from '@gatehouse/core/agent-support';
import type { ConversationMessage, ModelChunk, ModelProvider, ModelRequest, ToolSpec } from '../model-provider.ts';
import { withRetries, type RetrySettings } from './with-retries.ts';
import { translateModelError } from './model-error.ts';
import { toolNameAliases, type ToolNameAliases } from './tool-name-aliases.ts';

export interface BedrockSettings {
  readonly modelId: string;
  readonly region?: string | undefined;
  readonly profile?: string | undefined;
  readonly endpoint?: string | undefined;
}

export interface BedrockProviderOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Overrides the default credential chain (tests, or an embedding application). */
  readonly credentials?: AwsCredentialIdentityProvider;
  readonly retry?: Partial<RetrySettings>;
  readonly maxTokens?: number;
  readonly logger?: Logger;
}

/**
 * Bedrock through ConverseStream, signed with SigV4 by the AWS SDK's default credential chain (environment,
 * shared config/credentials and profiles, SSO, container and instance roles). Bearer auth is switched off on
 * purpose: a Bedrock API key in AWS_BEARER_TOKEN_BEDROCK would otherwise change how requests are signed behind
 * the user's back, and the resulting 403s are the ones the seeds spent hours on.
 */
export function createBedrockProvider(settings: BedrockSettings, options: BedrockProviderOptions = {}): ModelProvider {
  const env = options.env ?? process.env;
  const region = settings.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const profile = settings.profile ?? env.AWS_PROFILE;
  if (env.AWS_BEARER_TOKEN_BEDROCK) options.logger?.warn('AWS_BEARER_TOKEN_BEDROCK is set but ignored: Gatehouse signs Bedrock calls with SigV4 credentials from the AWS credential chain');
  const client = new BedrockRuntimeClient({
    ...(region ? { region } : {}),
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    ...(profile ? { profile } : {}),
    credentials: options.credentials ?? fromNodeProviderChain(profile ? { profile } : {}),
    authSchemePreference: ['sigv4'],
    // Retries are ours (withRetries), so a throttled stream and a throttled request back off the same way.
    maxAttempts: 1,
  });
  const context = { provider: 'bedrock' as const, modelId: settings.modelId, region, profile };
  const maxTokens = options.maxTokens ?? 2048;

  async function* attempt(request: ModelRequest, tokens: number): AsyncGenerator<ModelChunk> {
    const names = toolNameAliases(request.tools);
    const response = await client.send(
      new ConverseStreamCommand({
        modelId: settings.modelId,
        messages: toBedrockMessages(request.messages, names),
        ...(request.system ? { system: [{ text: request.system }] } : {}),
        ...(request.tools.length ? { toolConfig: { tools: request.tools.map((tool) => toBedrockTool(tool, names)) } } : {}),
        inferenceConfig: { maxTokens: tokens },
      }),
      request.signal ? { abortSignal: request.signal } : {},
    );
    const pending = new Map<number, { id: string; name: string; input: string }>();
    for await (const event of response.stream ?? []) {
      if (event.contentBlockStart?.start?.toolUse) {
        const toolUse = event.contentBlockStart.start.toolUse;
        pending.set(event.contentBlockStart.contentBlockIndex ?? 0, { id: toolUse.toolUseId ?? '', name: toolUse.name ?? '', input: '' });
      } else if (event.contentBlockDelta) {
        const delta = event.contentBlockDelta.delta;
        if (delta?.text) yield { type: 'text-delta', delta: delta.text };
        else if (delta?.toolUse?.input !== undefined) {
          const block = pending.get(event.contentBlockDelta.contentBlockIndex ?? 0);
          if (block) block.input += delta.toolUse.input;
        }
      } else if (event.contentBlockStop) {
        const index = event.contentBlockStop.contentBlockIndex ?? 0;
        const block = pending.get(index);
        if (block) {
          pending.delete(index);
          yield { type: 'tool-use', id: block.id, name: names.fromModel(block.name), input: parseToolInput(block.input) };
        }
      } else if (event.messageStop) {
        const reason = event.messageStop.stopReason;
        yield { type: 'stop', reason: reason === 'tool_use' ? 'tool_use' : reason === 'end_turn' ? 'end_turn' : reason === 'max_tokens' ? 'max_tokens' : 'other' };
      } else {
        const failure = event.throttlingException ?? event.validationException ?? event.modelStreamErrorException ?? event.internalServerException ?? event.serviceUnavailableException;
        if (failure) throw failure;
      }
    }
  }

  return {
    label: `bedrock ${settings.modelId}${region ? ` (${region})` : ''}`,
    stream(request) {
      return withRetries(() => attempt(request, maxTokens), (error) => translateModelError(error, context), { ...options.retry, ...(options.logger ? { logger: options.logger } : {}) });
    },
    async check() {
      const probe = { system: '', tools: [], messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'Reply with OK.' }] }] };
      for await (const chunk of withRetries(() => attempt(probe, 5), (error) => translateModelError(error, context), { ...options.retry, ...(options.logger ? { logger: options.logger } : {}) })) void chunk;
      return `bedrock ${settings.modelId}${region ? ` in ${region}` : ''}: credentials and model access OK`;
    },
  };
}

function parseToolInput(text: string): Record<string, unknown> {
  if (!text.trim()) return {};
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
  } catch {
    return { raw: text };
  }
}

function toBedrockTool(tool: ToolSpec, names: ToolNameAliases): Tool {
  return { toolSpec: { name: names.toModel(tool.name), description: tool.description || tool.name, inputSchema: { json: tool.inputSchema as never } } };
}

export function toBedrockMessages(messages: readonly ConversationMessage[], names: ToolNameAliases): Message[] {
  return messages.map((message) => ({
    role: message.role,
    content: message.content.map((block): BedrockBlock => {
      if (block.type === 'text') return { text: block.text };
      if (block.type === 'tool-use') return { toolUse: { toolUseId: block.id, name: names.toModel(block.name), input: block.input as never } };
      return { toolResult: { toolUseId: block.id, content: [{ text: block.content || '(empty)' }], status: block.isError ? 'error' : 'success' } };
    }),
  }));
}
