import type { ModelConfig } from '@gatehouse/core';
import type { Logger } from '@gatehouse/core';
import type { ModelProvider } from './model-provider.ts';
import { createOfflinePlanner } from './offline-planner.ts';

export interface ModelProviderOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly logger?: Logger;
}

/** The provider the `model` config section names. */
export function createModelProvider(config: ModelConfig, _options: ModelProviderOptions = {}): ModelProvider {
  switch (config.provider) {
    case 'offline':
      return createOfflinePlanner();
    default:
      return createOfflinePlanner();
  }
}
