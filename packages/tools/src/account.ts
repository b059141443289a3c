import { z } from 'zod';

/** One member account the tools may act in (the seeds' registry row). */
export interface Account {
  readonly accountId: string;
  readonly name: string;
  readonly environment: string;
  /** Role to assume: a bare name (in this account) or a full ARN. */
  readonly roleName: string;
  readonly externalId?: string;
  readonly region?: string;
  readonly enabled: boolean;
}

export const accountInputSchema = z.strictObject({
  accountId: z.string().regex(/^\d{12}$/, 'account id must be 12 digits'),
  name: z.string().trim().min(1, 'name must not be empty').max(128),
  environment: z.string().max(64).default(''),
  roleName: z
    .string()
    .regex(/^([\w+=,.@-]{1,64}|arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512})$/, 'role must be a role name or an IAM role ARN')
    .default('GatehouseOpsReadOnly'),
  externalId: z.string().min(2).max(1224).optional(),
  region: z.string().regex(/^[a-z0-9-]{1,32}$/, 'region must look like us-east-1').optional(),
  enabled: z.boolean().default(true),
});

/** Validates and normalizes an account before it is stored. */
export function parseAccount(input: unknown): Account {
  const parsed = accountInputSchema.parse(input);
  return {
    accountId: parsed.accountId,
    name: parsed.name,
    environment: parsed.environment,
    roleName: parsed.roleName,
    enabled: parsed.enabled,
    ...(parsed.externalId !== undefined ? { externalId: parsed.externalId } : {}),
    ...(parsed.region !== undefined ? { region: parsed.region } : {}),
  };
}

/** The role ARN to assume in `account` for `roleName` (a bare name or an ARN). */
export function roleArnFor(account: Account, roleName: string = account.roleName): string {
  return roleName.startsWith('arn:') ? roleName : `arn:aws:iam::${account.accountId}:role/${roleName}`;
}
