export { AuthError } from './auth-error.ts';
export type { AuthErrorDetail, AuthFailureReason, AuthStatus } from './auth-error.ts';
export type { Principal } from './principal.ts';
export { createJwtAuthorizer } from './jwt-authorizer.ts';
export type { JwtAuthorizer, JwtAuthorizerOptions } from './jwt-authorizer.ts';
export { readCredential, bearerFromWebSocketProtocols } from './read-credential.ts';
export type { Credential } from './read-credential.ts';
export { createSigV4Verifier } from './sigv4-verifier.ts';
export type { SigV4Form, SigV4Key, SigV4RegionPolicy, SigV4Request, SigV4Verification, SigV4Verifier, SigV4VerifierOptions } from './sigv4-verifier.ts';
