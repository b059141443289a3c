export { createIdentity } from './create-identity.ts';
export { identityCommands } from './identity-commands.ts';
export type { IdentityService, CreateIdentityOptions, PoolSummary } from './create-identity.ts';
export type { SigV4Key, SigV4Verifier, SigV4Result } from './sigv4-check.ts';
export { CognitoError } from './cognito-error.ts';
export { OAuthError } from './oauth-error.ts';
