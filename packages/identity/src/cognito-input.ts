import { z } from 'zod';
import { CognitoError } from './cognito-error.ts';

/** Validates a Cognito request body; a missing or malformed member becomes InvalidParameterException naming it. */
export function parseInput<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const member = issue.path.map(String).join('.') || 'request';
  const missing = issue.code === 'invalid_type' && memberAt(body, issue.path) === undefined;
  throw new CognitoError('InvalidParameterException', missing ? `Missing required parameter ${member}` : `Invalid value for parameter ${member}: ${issue.message}`);
}

/** The request member at `path` (own members only), undefined when it is absent. */
function memberAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let value = body;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

const stringMap = z.record(z.string(), z.string());

export const clientIdSchema = z.string().regex(/^[\w+]+$/).min(1).max(128);
export const usernameSchema = z.string().min(1).max(128).regex(/^[\p{L}\p{M}\p{S}\p{N}\p{P}]+$/u);
export const passwordSchema = z.string().min(1).max(256);
export const poolIdSchema = z.string().regex(/^[\w-]+_[0-9a-zA-Z]+$/).max(55);
export const attributeList = z.array(z.object({ Name: z.string().min(1).max(32), Value: z.string().max(2048).optional() })).max(50);

export const initiateAuthSchema = z.object({
  AuthFlow: z.string().min(1),
  ClientId: clientIdSchema,
  AuthParameters: stringMap.optional(),
  ClientMetadata: stringMap.optional(),
});
export const adminInitiateAuthSchema = initiateAuthSchema.extend({ UserPoolId: poolIdSchema });

export const respondSchema = z.object({
  ChallengeName: z.string().min(1),
  ClientId: clientIdSchema,
  Session: z.string().min(20).max(2048).optional(),
  ChallengeResponses: stringMap.optional(),
});
export const adminRespondSchema = respondSchema.extend({ UserPoolId: poolIdSchema });

export const accessTokenSchema = z.object({ AccessToken: z.string().min(1).max(16_384) });
export const revokeTokenSchema = z.object({ Token: z.string().min(1).max(16_384), ClientId: clientIdSchema, ClientSecret: z.string().max(128).optional() });
export const signUpSchema = z.object({
  ClientId: clientIdSchema, Username: usernameSchema, Password: passwordSchema, SecretHash: z.string().max(128).optional(),
  UserAttributes: attributeList.optional(),
});
export const confirmSignUpSchema = z.object({
  ClientId: clientIdSchema, Username: usernameSchema, ConfirmationCode: z.string().min(1).max(2048), SecretHash: z.string().max(128).optional(),
});

export const adminUserSchema = z.object({ UserPoolId: poolIdSchema, Username: usernameSchema });
export const adminCreateUserSchema = adminUserSchema.extend({
  TemporaryPassword: passwordSchema.optional(),
  UserAttributes: attributeList.optional(),
  MessageAction: z.enum(['RESEND', 'SUPPRESS']).optional(),
  DesiredDeliveryMediums: z.array(z.string()).optional(),
});
export const adminSetPasswordSchema = adminUserSchema.extend({ Password: passwordSchema, Permanent: z.boolean().optional() });
export const adminGroupSchema = adminUserSchema.extend({ GroupName: z.string().min(1).max(128) });
export const getTokensFromRefreshSchema = z.object({ RefreshToken: z.string().min(1).max(16_384), ClientId: clientIdSchema, ClientSecret: z.string().max(128).optional() });
export const changePasswordSchema = z.object({ AccessToken: z.string().min(1).max(16_384), PreviousPassword: passwordSchema.optional(), ProposedPassword: passwordSchema });
