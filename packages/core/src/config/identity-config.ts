import { z } from 'zod';

const authFlow = z.enum([
  'ALLOW_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_ADMIN_USER_PASSWORD_AUTH', 'ALLOW_CUSTOM_AUTH',
]);
const validityUnit = z.enum(['seconds', 'minutes', 'hours', 'days']);

export const appClientSchema = z.strictObject({
  clientName: z.string().min(1).max(128),
  /** Fix the id for reproducible setups; otherwise generated once and kept (matched by name). */
  clientId: z.string().regex(/^[\w+]{1,128}$/).optional(),
  generateSecret: z.boolean().default(false),
  explicitAuthFlows: z.array(authFlow).default(['ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_SRP_AUTH']),
  allowedOAuthFlows: z.array(z.enum(['code', 'client_credentials'])).default(['code']),
  allowedOAuthScopes: z.array(z.string().min(1)).default(['openid', 'email', 'profile']),
  callbackUrls: z.array(z.string().url()).default([]),
  logoutUrls: z.array(z.string().url()).default([]),
  accessTokenValidity: z.number().int().positive().default(60),
  idTokenValidity: z.number().int().positive().default(60),
  refreshTokenValidity: z.number().int().positive().default(30),
  tokenValidityUnits: z
    .strictObject({ accessToken: validityUnit.default('minutes'), idToken: validityUnit.default('minutes'), refreshToken: validityUnit.default('days') })
    .default({ accessToken: 'minutes', idToken: 'minutes', refreshToken: 'days' }),
});

export const resourceServerSchema = z.strictObject({
  identifier: z.string().min(1),
  name: z.string().optional(),
  scopes: z.array(z.strictObject({ scopeName: z.string().min(1), scopeDescription: z.string().optional() })).default([]),
});

export const userPoolSchema = z.strictObject({
  poolName: z.string().regex(/^[\w-]{1,128}$/),
  userPoolId: z.string().regex(/^[\w-]+_[0-9a-zA-Z]+$/).max(55).optional(),
  signUpEnabled: z.boolean().default(false),
  preventUserExistenceErrors: z.enum(['ENABLED', 'LEGACY']).default('ENABLED'),
  /** As Cognito's UsernameConfiguration: usernames match in any case unless this is true; fixed once the pool exists. */
  usernameConfiguration: z.strictObject({ caseSensitive: z.boolean().default(false) }).default({ caseSensitive: false }),
  groups: z.array(z.strictObject({ groupName: z.string().min(1), description: z.string().optional() })).default([]),
  resourceServers: z.array(resourceServerSchema).default([]),
  clients: z.array(appClientSchema).default([]),
});

export const identitySchema = z.strictObject({
  userPools: z.array(userPoolSchema).min(1),
  /** Access tokens minted by the runtime for the gateway (token exchange) live this long. */
  exchangedTokenValiditySeconds: z.number().int().min(30).max(3600).default(900),
});

export type AppClientConfig = z.infer<typeof appClientSchema>;
export type UserPoolConfig = z.infer<typeof userPoolSchema>;
export type IdentityConfig = z.infer<typeof identitySchema>;
