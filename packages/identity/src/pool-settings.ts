import type { z } from 'zod';
import { CognitoError } from './cognito-error.ts';
import type { createUserPoolSchema, updateUserPoolSchema } from './management-input.ts';
import type { PoolRecord, PoolSettings } from './user-store.ts';
import { SCHEMA_ATTRIBUTES } from './user-attributes.ts';

type PoolInput = Omit<z.infer<typeof createUserPoolSchema>, 'PoolName'> | Omit<z.infer<typeof updateUserPoolSchema>, 'UserPoolId' | 'PoolName'>;

/** Cognito's default password policy, the only one Gatehouse enforces (password-policy.ts). */
const DEFAULT_PASSWORD_POLICY = { MinimumLength: 8, RequireUppercase: true, RequireLowercase: true, RequireNumbers: true, RequireSymbols: true } as const;

/**
 * CreateUserPool / UpdateUserPool fields → the pool's settings. What Gatehouse acts on: sign-up
 * (`AdminCreateUserConfig.AllowAdminCreateUserOnly`, false by default as in Cognito) and
 * `DeletionProtection`, and `UsernameConfiguration.CaseSensitive` (CreateUserPool only: fixed once the pool
 * exists; false, case-insensitive, when not sent). Settings that would promise protection Gatehouse does not
 * give (another password policy, MFA, Lambda triggers) are refused rather than ignored; the rest is stored and
 * echoed by DescribeUserPool.
 */
export function poolSettingsFrom(input: PoolInput, current?: PoolSettings): PoolSettings {
  const policy = input.Policies?.PasswordPolicy;
  for (const [name, value] of Object.entries(DEFAULT_PASSWORD_POLICY)) {
    const sent = policy?.[name as keyof typeof DEFAULT_PASSWORD_POLICY];
    if (sent !== undefined && sent !== value) {
      throw new CognitoError('InvalidParameterException', `Policies.PasswordPolicy.${name}: Gatehouse enforces Cognito's default policy only (${name} = ${String(value)})`);
    }
  }
  if (input.MfaConfiguration !== undefined && input.MfaConfiguration !== 'OFF') {
    throw new CognitoError('InvalidParameterException', 'MfaConfiguration: Gatehouse does not support MFA; use OFF');
  }
  if (input.LambdaConfig && Object.keys(input.LambdaConfig).length > 0) {
    throw new CognitoError('InvalidParameterException', `LambdaConfig.${Object.keys(input.LambdaConfig)[0]}: Gatehouse does not run Lambda triggers`);
  }
  const echo: Record<string, unknown> = { ...input };
  delete echo.UserPoolId;
  delete echo.PoolName;
  // shown from the setting itself, which UpdateUserPool cannot change
  delete echo.UsernameConfiguration;
  const caseSensitive = current ? current.caseSensitive : ('UsernameConfiguration' in input && input.UsernameConfiguration?.CaseSensitive) === true;
  return {
    signUpEnabled: input.AdminCreateUserConfig?.AllowAdminCreateUserOnly !== true,
    preventUserExistenceErrors: current?.preventUserExistenceErrors ?? 'ENABLED',
    caseSensitive,
    resourceServers: current?.resourceServers ?? [],
    cognito: echo,
  };
}

const epoch = (ms: number): number => ms / 1000;

function schemaAttributes(custom: unknown): Record<string, unknown>[] {
  const standard = SCHEMA_ATTRIBUTES.map((name) => ({
    Name: name,
    AttributeDataType: name.endsWith('_verified') ? 'Boolean' : name === 'updated_at' ? 'Number' : 'String',
    DeveloperOnlyAttribute: false, Mutable: name !== 'sub', Required: name === 'sub',
  }));
  const extra = Array.isArray(custom)
    ? (custom as { Name: string; AttributeDataType?: string }[])
        .filter((attribute) => !SCHEMA_ATTRIBUTES.includes(attribute.Name))
        .map((attribute) => ({ ...attribute, Name: `custom:${attribute.Name}`, AttributeDataType: attribute.AttributeDataType ?? 'String' }))
    : [];
  return [...standard, ...extra];
}

/** UserPoolType as DescribeUserPool / CreateUserPool answer it. */
export function userPoolShape(pool: PoolRecord, region: string, accountId: string, estimatedUsers: number): Record<string, unknown> {
  const echo = pool.settings.cognito ?? {};
  const sentPolicy = (echo.Policies as { PasswordPolicy?: Record<string, unknown> } | undefined)?.PasswordPolicy ?? {};
  const adminCreate = (echo.AdminCreateUserConfig as Record<string, unknown> | undefined) ?? {};
  const { Schema: schema, ...echoed } = echo;
  return {
    ...echoed,
    Id: pool.id,
    Name: pool.name,
    Arn: `arn:aws:cognito-idp:${region}:${accountId}:userpool/${pool.id}`,
    CreationDate: epoch(pool.createdAt),
    LastModifiedDate: epoch(pool.updatedAt),
    Policies: { PasswordPolicy: { TemporaryPasswordValidityDays: 7, ...sentPolicy, ...DEFAULT_PASSWORD_POLICY } },
    DeletionProtection: echo.DeletionProtection ?? 'INACTIVE',
    LambdaConfig: {},
    SchemaAttributes: schemaAttributes(schema),
    MfaConfiguration: 'OFF',
    EstimatedNumberOfUsers: estimatedUsers,
    AdminCreateUserConfig: { UnusedAccountValidityDays: 7, ...adminCreate, AllowAdminCreateUserOnly: !pool.settings.signUpEnabled },
    UsernameConfiguration: { CaseSensitive: pool.settings.caseSensitive },
    UserPoolTier: echo.UserPoolTier ?? 'ESSENTIALS',
  };
}

export function userPoolDescription(pool: PoolRecord): Record<string, unknown> {
  return { Id: pool.id, Name: pool.name, LambdaConfig: {}, CreationDate: epoch(pool.createdAt), LastModifiedDate: epoch(pool.updatedAt) };
}
