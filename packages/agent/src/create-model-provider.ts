import type { Logger, ModelConfig } from '@gatehouse/core/agent-support';
import type { ModelProvider } from './model-provider.ts';
import { createOfflinePlanner } from './offline-planner.ts';

export interface ModelProviderOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly logger?: Logger;
}

/**
 * The provider the `model` config section names. Remote providers are loaded on first use: the AWS SDK
 * alone adds most of a second to every agent process start, and the offline planner never needs it.
 */
export function createModelProvider(config: ModelConfig, options: ModelProviderOptions = {}): ModelProvider {
  const shared = { ...(options.env ? { env: options.env } : {}), ...(options.logger ? { logger: options.logger } : {}) };
  switch (config.provider) {
    case 'offline':
      return createOfflinePlanner();
    case 'bedrock':
      return lazy(`bedrock ${config.modelId}${config.region ? ` (${config.region})` : ''}`, async () => {
        const { createBedrockProvider } = await import('./providers/bedrock-provider.ts');
        return createBedrockProvider({ modelId: config.modelId, region: config.region, profile: config.profile, endpoint: config.endpoint }, shared);
      });
    case 'anthropic':
      return lazy(`anthropic ${config.modelId}`, async () => {
        const { createAnthropicProvider } = await import('./providers/anthropic-provider.ts');
        return createAnthropicProvider({ modelId: config.modelId, apiKeyEnv: config.apiKeyEnv, baseUrl: config.baseUrl }, shared);
      });
    case 'openai-compatible':
      return lazy(`openai-compatible ${config.modelId}`, async () => {
        const { createOpenAiCompatibleProvider } = await import('./providers/openai-compatible-provider.ts');
        return createOpenAiCompatibleProvider({ modelId: config.modelId, baseUrl: config.baseUrl, apiKeyEnv: config.apiKeyEnv }, shared);
      });
  }
}

function lazy(label: string, load: () => Promise<ModelProvider>): ModelProvider {
  let loading: Promise<ModelProvider> | undefined;
  const provider = (): Promise<ModelProvider> => (loading ??= load());
  return {
    label,
    async *stream(request) {
      yield* (await provider()).stream(request);
    },
    async check() {
      return (await provider()).check();
    },
  };
}
