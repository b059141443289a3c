import type { ModelChunk, ModelProvider, ModelRequest } from './model-provider.ts';

export type ScriptedStep = readonly ModelChunk[] | ((request: ModelRequest) => readonly ModelChunk[]);

export interface ScriptedModel extends ModelProvider {
  /** Every request the loop sent, in order (copies of the message list at that time). */
  readonly requests: ModelRequest[];
}

/**
 * A model that replays a fixed script, one step per model call, for tests of the loop and for
 * demos without a model. Running past the end of the script is an error, so a loop that calls the
 * model more often than expected fails loudly.
 */
export function createScriptedModel(steps: readonly ScriptedStep[]): ScriptedModel {
  const requests: ModelRequest[] = [];
  return {
    label: 'scripted model',
    requests,
    async check() {
      return 'scripted model, nothing to check';
    },
    async *stream(request) {
      const index = requests.length;
      requests.push({ ...request, messages: [...request.messages] });
      const step = steps[index];
      if (!step) throw new Error(`scripted model has no step ${index + 1} (script has ${steps.length})`);
      yield* typeof step === 'function' ? step(request) : step;
    },
  };
}
