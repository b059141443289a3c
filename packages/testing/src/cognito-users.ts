/**
 * Users made the way an operator makes them, through the Cognito-compatible admin API with the real SDK.
 */
import { AdminCreateUserCommand, AdminSetUserPasswordCommand, type CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';

export interface PoolUser {
  readonly userPoolId: string;
  readonly username: string;
  readonly password: string;
  /** Attribute name → value (e.g. `email`, `email_verified`); none when left out. */
  readonly attributes?: Readonly<Record<string, string>>;
}

/** A confirmed user with a permanent password: AdminCreateUser without the welcome message, then AdminSetUserPassword. */
export async function adminCreateUser(admin: CognitoIdentityProviderClient, user: PoolUser): Promise<void> {
  const UserAttributes = user.attributes && Object.entries(user.attributes).map(([Name, Value]) => ({ Name, Value }));
  await admin.send(new AdminCreateUserCommand({ UserPoolId: user.userPoolId, Username: user.username, MessageAction: 'SUPPRESS', ...(UserAttributes ? { UserAttributes } : {}) }));
  await admin.send(new AdminSetUserPasswordCommand({ UserPoolId: user.userPoolId, Username: user.username, Password: user.password, Permanent: true }));
}
