export { createIdentity } from './create-identity.ts';
export { identityCommands } from './identity-commands.ts';
export type { IdentityService, CreateIdentityOptions, PoolSummary } from './create-identity.ts';
export { CognitoError } from './cognito-error.ts';
export { OAuthError } from './oauth-error.ts';
