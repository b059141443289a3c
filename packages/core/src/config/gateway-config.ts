import { z } from 'zod';
import { authorizerConfigurationSchema } from './authorizer-config.ts';

/** AgentCore CreateGatewayTarget shape, plus Gatehouse's additions in the same style (DESIGN "Contract details"). */
export const targetConfigurationSchema = z.strictObject({
  mcp: z.union([
    z.strictObject({ mcpServer: z.strictObject({ endpoint: z.string().url() }) }),
    z.strictObject({
      stdioServer: z.strictObject({ command: z.array(z.string().min(1)).min(1), env: z.record(z.string(), z.string()).default({}), cwd: z.string().optional() }),
    }),
    z.strictObject({
      openApiSchema: z.union([z.strictObject({ inlinePayload: z.string().min(1) }), z.strictObject({ path: z.string().min(1) })]),
      baseUrl: z.string().url().optional(),
    }),
    z.strictObject({
      lambda: z.strictObject({
        /** A module path (relative to the config file) exporting a Lambda-style `handler(event, context)`. */
        module: z.string().min(1),
        handler: z.string().default('handler'),
        toolSchema: z.strictObject({ inlinePayload: z.union([z.string(), z.array(z.unknown())]) }).optional(),
      }),
    }),
  ]),
});

export const credentialProviderSchema = z.discriminatedUnion('credentialProviderType', [
  z.strictObject({ credentialProviderType: z.literal('NONE') }),
  z.strictObject({
    credentialProviderType: z.literal('API_KEY'),
    apiKeyCredentialProvider: z.strictObject({
      /** Name of the secret in Gatehouse's secret store (environment variable GATEHOUSE_SECRET_<NAME> or the data dir's secrets file). */
      secretName: z.string().min(1).optional(),
      /** Or, as AgentCore: an API-key credential provider of the token vault (`…:token-vault/default/apikeycredentialprovider/NAME`). */
      providerArn: z.string().min(1).optional(),
      credentialParameterName: z.string().default('Authorization'),
      credentialPrefix: z.string().optional(),
      credentialLocation: z.enum(['HEADER', 'QUERY_PARAMETER']).default('HEADER'),
    }),
  }),
  z.strictObject({
    credentialProviderType: z.literal('OAUTH'),
    oauthCredentialProvider: z.strictObject({
      /** AUTHORIZATION_CODE (the user's own consent, 3LO) and CLIENT_CREDENTIALS with `providerArn` go through the token vault. */
      grantType: z.enum(['CLIENT_CREDENTIALS', 'TOKEN_EXCHANGE', 'AUTHORIZATION_CODE']),
      /** An OAuth2 credential provider of the token vault (`…:token-vault/default/oauth2credentialprovider/NAME`), as AgentCore. */
      providerArn: z.string().min(1).optional(),
      /** Where the user's browser lands after consenting (AgentCore `defaultReturnUrl`); default the web UI. */
      defaultReturnUrl: z.string().url().optional(),
      tokenEndpoint: z.string().url().optional(),
      clientId: z.string().optional(),
      clientSecretName: z.string().optional(),
      scopes: z.array(z.string()).default([]),
      audience: z.string().optional(),
      /**
       * Gatehouse's own opt-in (off by default; a risk: the agent, its model's tool loop and its logs then hold the
       * user's SaaS token): each tool result of this target carries the token-vault token the call was made with in
       * `_meta["dev.gatehouse/upstreamToken"]`. Without it the agent never sees the token. Only with `providerArn`.
       */
      handTokenToAgent: z.boolean().optional(),
    }),
  }),
  z.strictObject({
    credentialProviderType: z.literal('GATEWAY_IAM_ROLE'),
    iamCredentialProvider: z.strictObject({
      service: z.string().min(1),
      region: z.string().optional(),
      /** Assume this role for the calling user (session name from the user); web identity when `webIdentity` is true. */
      roleArn: z.string().optional(),
      webIdentity: z.boolean().default(false),
    }),
  }),
  z.strictObject({ credentialProviderType: z.literal('JWT_PASSTHROUGH') }),
]);

function handOverWithVault(provider: z.infer<typeof credentialProviderSchema>): boolean {
  return provider.credentialProviderType !== 'OAUTH' || provider.oauthCredentialProvider.handTokenToAgent !== true || provider.oauthCredentialProvider.providerArn !== undefined;
}

function vaultReferenceComplete(provider: z.infer<typeof credentialProviderSchema>): boolean {
  if (provider.credentialProviderType === 'API_KEY') return (provider.apiKeyCredentialProvider.secretName === undefined) !== (provider.apiKeyCredentialProvider.providerArn === undefined);
  if (provider.credentialProviderType === 'OAUTH' && provider.oauthCredentialProvider.grantType === 'AUTHORIZATION_CODE') return provider.oauthCredentialProvider.providerArn !== undefined;
  return true;
}

export const gatewayTargetSchema = z.strictObject({
  name: z.string().regex(/^[a-zA-Z0-9-]{1,100}$/, 'letters, digits and - only (the tool prefix is name___tool)'),
  description: z.string().optional(),
  targetConfiguration: targetConfigurationSchema,
  credentialProviderConfigurations: z
    .array(credentialProviderSchema)
    .length(1)
    .refine((list) => list.every(vaultReferenceComplete), 'API_KEY needs secretName or providerArn; OAUTH AUTHORIZATION_CODE needs providerArn (a token-vault OAuth2 credential provider)')
    .refine((list) => list.every(handOverWithVault), 'OAUTH handTokenToAgent hands a token-vault token to the agent: it needs providerArn')
    .default([{ credentialProviderType: 'NONE' }]),
  timeoutSeconds: z.number().positive().max(900).default(30),
  maxConcurrency: z.number().int().positive().default(16),
});

export const gatewaySchema = z.strictObject({
  name: z.string().regex(/^[a-zA-Z0-9-]{1,48}$/),
  description: z.string().optional(),
  authorizerConfiguration: authorizerConfigurationSchema.optional(),
  allowedOrigins: z.array(z.string().url()).default([]),
  /** Expose a gateway's only target with its tool names unprefixed. */
  exposeUnprefixed: z.boolean().default(false),
  policy: z
    .strictObject({ file: z.string().optional(), mode: z.enum(['ENFORCE', 'LOG_ONLY']).default('ENFORCE') })
    .default({ mode: 'ENFORCE' }),
  targets: z.array(gatewayTargetSchema).max(100).default([]),
  limits: z
    .strictObject({ maxRequestBytes: z.number().int().positive().default(6_000_000), requestsPerMinutePerPrincipal: z.number().int().positive().default(1200) })
    .default({ maxRequestBytes: 6_000_000, requestsPerMinutePerPrincipal: 1200 }),
});

export type GatewayTargetConfig = z.infer<typeof gatewayTargetSchema>;
export type GatewayConfig = z.infer<typeof gatewaySchema>;
export type CredentialProviderConfig = z.infer<typeof credentialProviderSchema>;
