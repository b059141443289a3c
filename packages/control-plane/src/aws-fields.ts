import { isHttpsOrLoopbackUrl, type AuthorizerConfiguration } from '@gatehouse/core';
import { fieldError } from './control-plane-error.ts';
import { oneMember, optionalObject, optionalString, optionalStringList, requiredString, type Input } from './input-fields.ts';

/** Checks shared by several operations, with AWS's patterns for each field. */

export function roleArn(input: Input): string {
  return requiredString(input, 'roleArn', { pattern: /^arn:aws(-[^:]+)?:iam::([0-9]{12})?:role\/.+$/, patternHint: 'be an IAM role ARN (arn:aws:iam::123456789012:role/name)', max: 2048 });
}

export function clientToken(input: Input): string | undefined {
  return optionalString(input, 'clientToken', { pattern: /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,256}$/, patternHint: 'be letters, digits and single hyphens', min: 33, max: 256 });
}

export function description(input: Input, max: number): string | undefined {
  return optionalString(input, 'description', { min: 1, max });
}

/** `authorizerConfiguration.customJWTAuthorizer`: discovery URL over HTTPS (plain HTTP only on loopback), as Gatehouse's config requires. */
export function authorizerConfiguration(input: Input, field = 'authorizerConfiguration'): Input | undefined {
  const value = optionalObject(input, field);
  if (!value) return undefined;
  oneMember(value, field, ['customJWTAuthorizer']);
  const jwt = optionalObject(value, 'customJWTAuthorizer') ?? {};
  const prefix = `${field}.customJWTAuthorizer`;
  const discoveryUrl = jwt.discoveryUrl;
  if (typeof discoveryUrl !== 'string' || !/^.+\/\.well-known\/openid-configuration$/.test(discoveryUrl)) {
    throw fieldError(`${prefix}.discoveryUrl`, 'must be an OpenID discovery URL ending in /.well-known/openid-configuration');
  }
  if (!isHttpsOrLoopbackUrl(discoveryUrl)) throw fieldError(`${prefix}.discoveryUrl`, 'must use https (plain http only for localhost / 127.0.0.1)');
  const allowedAudience = optionalStringList(jwt, 'allowedAudience', { max: 256, maxItems: 255 });
  const allowedClients = optionalStringList(jwt, 'allowedClients', { max: 256, maxItems: 255 });
  const allowedScopes = optionalStringList(jwt, 'allowedScopes', { max: 255, maxItems: 255 });
  if (!allowedAudience && !allowedClients) throw fieldError(`${prefix}.allowedAudience`, 'set allowedAudience or allowedClients, or every token of the issuer would be accepted');
  return {
    customJWTAuthorizer: {
      discoveryUrl,
      ...(allowedAudience ? { allowedAudience } : {}),
      ...(allowedClients ? { allowedClients } : {}),
      ...(allowedScopes ? { allowedScopes } : {}),
    },
  };
}

/** A gatehouse.yaml authorizer as the API describes it (`{}` when there is none, to spread into a description). */
export function declaredAuthorizer(authorizer: AuthorizerConfiguration | undefined): { authorizerConfiguration?: Input } {
  const jwt = authorizer?.customJWTAuthorizer;
  if (!jwt) return {};
  return {
    authorizerConfiguration: {
      customJWTAuthorizer: {
        discoveryUrl: jwt.discoveryUrl,
        ...(jwt.allowedAudience ? { allowedAudience: jwt.allowedAudience } : {}),
        ...(jwt.allowedClients ? { allowedClients: jwt.allowedClients } : {}),
      },
    },
  };
}
