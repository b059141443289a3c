export { createSandbox } from './create-sandbox.ts';
export type { SandboxService, SandboxDeps, SandboxObservations } from './create-sandbox.ts';
export type { SigV4Key, WebIdentityPrincipal } from './sandbox-key.ts';
export { SANDBOX_ACCOUNTS } from './sandbox-accounts.ts';
export { StsError } from './sts-error.ts';
export { S3Error } from './s3-error.ts';
export { SANDBOX_CREDENTIAL_MIGRATIONS } from './sandbox-credential-store.ts';
