import type { Logger, ModelConfig } from '@gatehouse/core';
import type { ModelProvider } from './model-provider.ts';
import { createOfflinePlanner } from './offline-planner.ts';
import { createAnthropicProvider } from './providers/anthropic-provider.ts';
import { createBedrockProvider } from './providers/bedrock-provider.ts';
import { createOpenAiCompatibleProvider } from './providers/openai-compatible-provider.ts';

export interface ModelProviderOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly logger?: Logger;
}

/** The provider the `model` config section names. */
export function createModelProvider(config: ModelConfig, options: ModelProviderOptions = {}): ModelProvider {
  const shared = { ...(options.env ? { env: options.env } : {}), ...(options.logger ? { logger: options.logger } : {}) };
  switch (config.provider) {
    case 'offline':
      return createOfflinePlanner();
    case 'bedrock':
      return createBedrockProvider({ modelId: config.modelId, region: config.region, profile: config.profile, endpoint: config.endpoint }, shared);
    case 'anthropic':
      return createAnthropicProvider({ modelId: config.modelId, apiKeyEnv: config.apiKeyEnv, baseUrl: config.baseUrl }, shared);
    case 'openai-compatible':
      return createOpenAiCompatibleProvider({ modelId: config.modelId, baseUrl: config.baseUrl, apiKeyEnv: config.apiKeyEnv }, shared);
  }
}
