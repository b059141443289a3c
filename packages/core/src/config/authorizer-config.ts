import { z } from 'zod';
import { isHttpsOrLoopbackUrl } from '../url-policy.ts';

/** AgentCore `customJWTAuthorizer`, field for field (REFERENCE §1.10). */
export const customClaimSchema = z.strictObject({
  inboundTokenClaimName: z.string().min(1).max(255),
  inboundTokenClaimValueType: z.enum(['STRING', 'STRING_ARRAY']),
  authorizingClaimMatchValue: z.strictObject({
    claimMatchOperator: z.enum(['EQUALS', 'CONTAINS', 'CONTAINS_ANY']),
    claimMatchValue: z.union([
      z.strictObject({ matchValueString: z.string() }),
      z.strictObject({ matchValueStringList: z.array(z.string()).min(1) }),
    ]),
  }),
});

const scopePattern = /^[\x21\x23-\x5B\x5D-\x7E]{1,255}$/;

export const customJwtAuthorizerSchema = z
  .strictObject({
    discoveryUrl: z
      .string()
      .regex(/.+\/\.well-known\/openid-configuration$/, 'must end with /.well-known/openid-configuration')
      .refine(isHttpsOrLoopbackUrl, 'must be an https URL (http is allowed only on loopback)'),
    allowedAudience: z.array(z.string().min(1)).min(1).optional(),
    allowedClients: z.array(z.string().min(1)).min(1).optional(),
    allowedScopes: z.array(z.string().regex(scopePattern, 'scope must be 1–255 visible characters without " or \\')).min(1).optional(),
    customClaims: z.array(customClaimSchema).min(1).optional(),
  });

export const authorizerConfigurationSchema = z.strictObject({ customJWTAuthorizer: customJwtAuthorizerSchema });

export type CustomClaim = z.infer<typeof customClaimSchema>;
export type CustomJwtAuthorizerConfig = z.infer<typeof customJwtAuthorizerSchema>;
export type AuthorizerConfiguration = z.infer<typeof authorizerConfigurationSchema>;
