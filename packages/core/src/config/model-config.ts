import { z } from 'zod';

/** The reference agent's model provider. `offline` needs nothing and says so in its answers. */
export const modelSchema = z.discriminatedUnion('provider', [
  z.strictObject({ provider: z.literal('offline') }),
  z.strictObject({
    provider: z.literal('bedrock'),
    modelId: z.string().min(1).default('anthropic.claude-sonnet-4-5-20250929-v1:0'),
    region: z.string().optional(),
    profile: z.string().optional(),
    endpoint: z.string().url().optional(),
  }),
  z.strictObject({
    provider: z.literal('anthropic'),
    modelId: z.string().min(1).default('claude-sonnet-4-5'),
    apiKeyEnv: z.string().default('ANTHROPIC_API_KEY'),
    baseUrl: z.string().url().optional(),
  }),
  z.strictObject({
    provider: z.literal('openai-compatible'),
    modelId: z.string().min(1),
    baseUrl: z.string().url(),
    apiKeyEnv: z.string().optional(),
  }),
]);

export type ModelConfig = z.infer<typeof modelSchema>;
