import { z } from 'zod';

export const accountSchema = z.strictObject({
  accountId: z.string().regex(/^\d{12}$/, 'must be 12 digits'),
  name: z.string().min(1),
  environment: z.string().default(''),
  roleName: z.string().default('GatehouseOpsReadOnly'),
  externalId: z.string().optional(),
  region: z.string().optional(),
  enabled: z.boolean().default(true),
});

export const toolsSchema = z.strictObject({
  registry: z
    .discriminatedUnion('backend', [
      z.strictObject({ backend: z.literal('sqlite') }),
      z.strictObject({ backend: z.literal('dynamodb'), tableName: z.string().min(1), endpoint: z.string().url().optional(), region: z.string().optional() }),
    ])
    .default({ backend: 'sqlite' }),
  /** Local sandbox accounts (S3-compatible store + STS served by identity). Off means real AWS endpoints. */
  sandbox: z.strictObject({ enabled: z.boolean().default(true) }).default({ enabled: true }),
  accounts: z.array(accountSchema).default([]),
  /** Extra operations `call_aws` may run beyond List*, Describe*, Get*. */
  allowOperations: z.array(z.string()).default([]),
});

export type AccountConfig = z.infer<typeof accountSchema>;
export type ToolsConfig = z.infer<typeof toolsSchema>;
