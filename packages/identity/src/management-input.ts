import { z } from 'zod';
import { attributeList, clientIdSchema, passwordSchema, poolIdSchema, usernameSchema } from './cognito-input.ts';

/** Request shapes of the Cognito management and account operations (botocore cognito-idp 2016-04-18 constraints). */

const nameType = z.string().min(1).max(128).regex(/^[\w\s+=,.@-]+$/);
const groupName = z.string().min(1).max(128).regex(/^[\p{L}\p{M}\p{S}\p{N}\p{P}]+$/u);
const pageKey = z.string().min(1).max(131_072).regex(/^\S+$/);
const queryLimit = z.number().int().min(0).max(60);
const timeUnit = z.enum(['seconds', 'minutes', 'hours', 'days']);
const redirectUrl = z.string().min(1).max(1024);
const clientMetadata = z.record(z.string(), z.string()).optional();
const secretHash = z.string().max(128).optional();
const accessToken = z.string().min(1).max(16_384);
const attributeName = z.string().min(1).max(32);
const confirmationCode = z.string().min(1).max(2048).regex(/^\S+$/);

/** Pool fields stored and echoed (see README); the ones Gatehouse acts on are checked in pool-settings.ts. */
const poolFields = {
  Policies: z.looseObject({
    PasswordPolicy: z.looseObject({
      MinimumLength: z.number().int().min(6).max(99).optional(), RequireUppercase: z.boolean().optional(), RequireLowercase: z.boolean().optional(),
      RequireNumbers: z.boolean().optional(), RequireSymbols: z.boolean().optional(), PasswordHistorySize: z.number().int().min(0).max(24).optional(),
      TemporaryPasswordValidityDays: z.number().int().min(0).max(365).optional(),
    }).optional(),
  }).optional(),
  DeletionProtection: z.enum(['ACTIVE', 'INACTIVE']).optional(),
  LambdaConfig: z.record(z.string(), z.unknown()).optional(),
  AutoVerifiedAttributes: z.array(z.enum(['phone_number', 'email'])).optional(),
  AliasAttributes: z.array(z.enum(['phone_number', 'email', 'preferred_username'])).optional(),
  UsernameAttributes: z.array(z.enum(['phone_number', 'email'])).optional(),
  SmsVerificationMessage: z.string().max(140).optional(),
  EmailVerificationMessage: z.string().max(20_000).optional(),
  EmailVerificationSubject: z.string().max(140).optional(),
  VerificationMessageTemplate: z.record(z.string(), z.unknown()).optional(),
  SmsAuthenticationMessage: z.string().max(140).optional(),
  UserAttributeUpdateSettings: z.record(z.string(), z.unknown()).optional(),
  MfaConfiguration: z.enum(['OFF', 'ON', 'OPTIONAL']).optional(),
  DeviceConfiguration: z.record(z.string(), z.unknown()).optional(),
  EmailConfiguration: z.record(z.string(), z.unknown()).optional(),
  SmsConfiguration: z.record(z.string(), z.unknown()).optional(),
  UserPoolTags: z.record(z.string(), z.string()).optional(),
  AdminCreateUserConfig: z.looseObject({ AllowAdminCreateUserOnly: z.boolean().optional(), UnusedAccountValidityDays: z.number().int().min(0).max(365).optional() }).optional(),
  UserPoolAddOns: z.record(z.string(), z.unknown()).optional(),
  AccountRecoverySetting: z.record(z.string(), z.unknown()).optional(),
  UserPoolTier: z.enum(['LITE', 'ESSENTIALS', 'PLUS']).optional(),
};

export const createUserPoolSchema = z.object({
  PoolName: nameType,
  ...poolFields,
  UsernameConfiguration: z.object({ CaseSensitive: z.boolean() }).optional(),
  Schema: z.array(z.looseObject({ Name: z.string().min(1).max(20), AttributeDataType: z.enum(['String', 'Number', 'DateTime', 'Boolean']).optional() })).max(50).optional(),
});
export const updateUserPoolSchema = z.object({ UserPoolId: poolIdSchema, PoolName: nameType.optional(), ...poolFields });
export const userPoolIdSchema = z.object({ UserPoolId: poolIdSchema });
export const listUserPoolsSchema = z.object({ MaxResults: z.number().int().min(1).max(60), NextToken: pageKey.optional() });

const clientFields = {
  RefreshTokenValidity: z.number().int().min(0).max(315_360_000).optional(),
  AccessTokenValidity: z.number().int().min(1).max(86_400).optional(),
  IdTokenValidity: z.number().int().min(1).max(86_400).optional(),
  TokenValidityUnits: z.object({ AccessToken: timeUnit.optional(), IdToken: timeUnit.optional(), RefreshToken: timeUnit.optional() }).optional(),
  ReadAttributes: z.array(z.string().min(1).max(2048)).optional(),
  WriteAttributes: z.array(z.string().min(1).max(2048)).optional(),
  ExplicitAuthFlows: z.array(z.enum([
    'ADMIN_NO_SRP_AUTH', 'CUSTOM_AUTH_FLOW_ONLY', 'USER_PASSWORD_AUTH', 'ALLOW_ADMIN_USER_PASSWORD_AUTH', 'ALLOW_CUSTOM_AUTH', 'ALLOW_USER_PASSWORD_AUTH',
    'ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_AUTH',
  ])).optional(),
  SupportedIdentityProviders: z.array(z.string().min(1).max(32)).optional(),
  CallbackURLs: z.array(redirectUrl).max(100).optional(),
  LogoutURLs: z.array(redirectUrl).max(100).optional(),
  DefaultRedirectURI: redirectUrl.optional(),
  AllowedOAuthFlows: z.array(z.enum(['code', 'implicit', 'client_credentials'])).max(3).optional(),
  AllowedOAuthScopes: z.array(z.string().min(1).max(256).regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/)).max(50).optional(),
  AllowedOAuthFlowsUserPoolClient: z.boolean().optional(),
  AnalyticsConfiguration: z.record(z.string(), z.unknown()).optional(),
  PreventUserExistenceErrors: z.enum(['LEGACY', 'ENABLED']).optional(),
  EnableTokenRevocation: z.boolean().optional(),
  EnablePropagateAdditionalUserContextData: z.boolean().optional(),
  AuthSessionValidity: z.number().int().min(3).max(15).optional(),
  RefreshTokenRotation: z.record(z.string(), z.unknown()).optional(),
};
export type ClientFields = { [K in keyof typeof clientFields]?: z.infer<(typeof clientFields)[K]> };

export const createUserPoolClientSchema = z.object({
  UserPoolId: poolIdSchema, ClientName: nameType, GenerateSecret: z.boolean().optional(), ClientSecret: z.string().min(24).max(64).regex(/^[\w+]+$/).optional(), ...clientFields,
});
export const updateUserPoolClientSchema = z.object({ UserPoolId: poolIdSchema, ClientId: clientIdSchema, ClientName: nameType.optional(), ...clientFields });
export const userPoolClientSchema = z.object({ UserPoolId: poolIdSchema, ClientId: clientIdSchema });
export const listUserPoolClientsSchema = z.object({ UserPoolId: poolIdSchema, MaxResults: z.number().int().min(1).max(60).optional(), NextToken: pageKey.optional() });

const groupFields = {
  Description: z.string().max(2048).optional(),
  RoleArn: z.string().min(20).max(2048).regex(/^arn:[\w+=/,.@-]+:[\w+=/,.@-]+:([\w+=/,.@-]*)?:[0-9]+:[\w+=/,.@-]+(:[\w+=/,.@-]+)?(:[\w+=/,.@-]+)?$/).optional(),
  Precedence: z.number().int().min(0).optional(),
};
export const groupSchema = z.object({ UserPoolId: poolIdSchema, GroupName: groupName, ...groupFields });
export const groupKeySchema = z.object({ UserPoolId: poolIdSchema, GroupName: groupName });
export const listGroupsSchema = z.object({ UserPoolId: poolIdSchema, Limit: queryLimit.optional(), NextToken: pageKey.optional() });
export const listUsersInGroupSchema = listGroupsSchema.extend({ GroupName: groupName });
export const adminListGroupsForUserSchema = listGroupsSchema.extend({ Username: usernameSchema });
export const adminUserGroupSchema = z.object({ UserPoolId: poolIdSchema, Username: usernameSchema, GroupName: groupName });
export const listUsersSchema = z.object({
  UserPoolId: poolIdSchema, Limit: queryLimit.optional(), Filter: z.string().max(256).optional(), PaginationToken: pageKey.optional(),
  AttributesToGet: z.array(z.string().min(1).max(32)).optional(),
});

export const forgotPasswordSchema = z.object({ ClientId: clientIdSchema, Username: usernameSchema, SecretHash: secretHash, ClientMetadata: clientMetadata });
export const confirmForgotPasswordSchema = forgotPasswordSchema.extend({ ConfirmationCode: confirmationCode, Password: passwordSchema });
export const adminResetUserPasswordSchema = z.object({ UserPoolId: poolIdSchema, Username: usernameSchema, ClientMetadata: clientMetadata });
export const updateUserAttributesSchema = z.object({ AccessToken: accessToken, UserAttributes: attributeList, ClientMetadata: clientMetadata });
export const adminUpdateUserAttributesSchema = z.object({ UserPoolId: poolIdSchema, Username: usernameSchema, UserAttributes: attributeList, ClientMetadata: clientMetadata });
export const attributeCodeSchema = z.object({ AccessToken: accessToken, AttributeName: attributeName, ClientMetadata: clientMetadata });
export const verifyAttributeSchema = z.object({ AccessToken: accessToken, AttributeName: attributeName, Code: confirmationCode });
export const accessTokenOnlySchema = z.object({ AccessToken: accessToken });
export const listDevicesSchema = z.object({ AccessToken: accessToken, Limit: queryLimit.optional(), PaginationToken: pageKey.optional() });
export const deviceSchema = z.object({ AccessToken: accessToken, DeviceKey: z.string().min(1).max(55).regex(/^[\w-]+_[0-9a-f-]+$/) });
