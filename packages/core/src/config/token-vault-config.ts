import { z } from 'zod';

const PROVIDER_NAME = /^[a-zA-Z0-9_-]{1,128}$/;

/**
 * An OAuth2 credential provider as AgentCore's CreateOauth2CredentialProvider describes one, flattened for
 * YAML: a vendor preset (GitHub, Google, Microsoft) or a custom server by discovery URL or explicit endpoints.
 * The client secret is named, never written here: it is read from Gatehouse's secret store.
 */
export const oauth2ProviderSchema = z
  .strictObject({
    name: z.string().regex(PROVIDER_NAME, 'letters, digits, _ and - only (1–128)'),
    credentialProviderVendor: z.enum(['CustomOauth2', 'GithubOauth2', 'GoogleOauth2', 'MicrosoftOauth2']).default('CustomOauth2'),
    discoveryUrl: z.string().url().optional(),
    authorizationServerMetadata: z
      .strictObject({
        issuer: z.string().min(1),
        authorizationEndpoint: z.string().url(),
        tokenEndpoint: z.string().url(),
        revocationEndpoint: z.string().url().optional(),
      })
      .optional(),
    /** MicrosoftOauth2 only: the Entra tenant (default `common`). */
    tenantId: z.string().regex(/^[\w.-]{1,128}$/).optional(),
    clientId: z.string().min(1),
    /** Name of the client secret in the secret store (GATEHOUSE_SECRET_<NAME> or the data dir's secrets.json). */
    clientSecretName: z.string().min(1),
    clientAuthenticationMethod: z.enum(['CLIENT_SECRET_BASIC', 'CLIENT_SECRET_POST']).default('CLIENT_SECRET_BASIC'),
  })
  .refine(
    (value) => value.credentialProviderVendor !== 'CustomOauth2' || (value.discoveryUrl === undefined) !== (value.authorizationServerMetadata === undefined),
    'a CustomOauth2 provider needs exactly one of discoveryUrl or authorizationServerMetadata',
  );

export const apiKeyProviderSchema = z.strictObject({
  name: z.string().regex(PROVIDER_NAME, 'letters, digits, _ and - only (1–128)'),
  /** Name of the API key in the secret store. */
  apiKeySecretName: z.string().min(1),
});

/** The token vault: credential providers declared in gatehouse.yaml (the control-plane API adds more at run time). */
export const tokenVaultSchema = z.strictObject({
  oauth2CredentialProviders: z.array(oauth2ProviderSchema).default([]),
  apiKeyCredentialProviders: z.array(apiKeyProviderSchema).default([]),
  /** Revoke and forget a user's stored SaaS tokens when the user signs out of Gatehouse (GlobalSignOut, hosted logout). */
  revokeOnSignOut: z.boolean().default(false),
  /** How long a started consent (authorization URL) stays usable. */
  consentTimeoutSeconds: z.number().int().min(60).max(3600).default(600),
});

export type OAuth2ProviderConfig = z.infer<typeof oauth2ProviderSchema>;
export type ApiKeyProviderConfig = z.infer<typeof apiKeyProviderSchema>;
export type TokenVaultConfig = z.infer<typeof tokenVaultSchema>;
