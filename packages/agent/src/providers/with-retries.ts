import { redactText, type Logger } from '@gatehouse/core/agent-support';
import type { AgentError } from '../agent-error.ts';
import type { ModelChunk } from '../model-provider.ts';
import { isRetryable } from './model-error.ts';

export interface RetrySettings {
  /** Total attempts, first included. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly logger?: Logger;
}

const defaults: RetrySettings = { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 8000 };

/**
 * Runs a streaming model call, retrying throttling with exponential backoff and full jitter — but only while
 * nothing has been yielded yet, so the user never sees a half answer repeated. Every failure leaves as an AgentError.
 */
export async function* withRetries(
  start: () => AsyncGenerator<ModelChunk>,
  translate: (error: unknown) => AgentError,
  overrides: Partial<RetrySettings> = {},
): AsyncGenerator<ModelChunk> {
  const settings = { ...defaults, ...overrides };
  for (let attempt = 1; ; attempt += 1) {
    let yielded = false;
    try {
      for await (const chunk of start()) {
        yielded = true;
        yield chunk;
      }
      return;
    } catch (error) {
      const translated = translate(error);
      if (yielded || !isRetryable(translated) || attempt >= settings.maxAttempts) throw translated;
      const delay = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
      settings.logger?.warn({ attempt, delayMs: Math.round(delay), code: translated.code }, redactText(`model call throttled, retrying: ${translated.message}`));
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
