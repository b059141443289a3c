import { after } from 'node:test';
import { AdminGetUserCommand, CognitoIdentityProviderClient, UserNotFoundException } from '@aws-sdk/client-cognito-identity-provider';
import { freePort, startIdentity, type RunningIdentity } from '@gatehouse/testing/start-identity';

/** A key the identity never issued: the SDK must sign something, and the public operations ignore it. */
const UNKNOWN_KEY = { accessKeyId: 'AKIAUNUSED00000000000', secretAccessKey: 'unused' };

/** An SDK client for `running`, signed with its admin key or, as `anonymous`, with a key it doesn't know. */
export function cognitoClient(running: RunningIdentity, as: 'admin' | 'anonymous'): CognitoIdentityProviderClient {
  return new CognitoIdentityProviderClient({ endpoint: running.baseUrl, region: 'local', credentials: as === 'admin' ? running.adminKey : UNKNOWN_KEY });
}

export interface CognitoFixture {
  readonly running: RunningIdentity;
  readonly admin: CognitoIdentityProviderClient;
  readonly anonymous: CognitoIdentityProviderClient;
  /** Destroys both clients, then closes the identity and removes its data dir. */
  close(): Promise<void>;
}

/** The default identity with an admin and an anonymous SDK client. */
export async function startWithClients(): Promise<CognitoFixture> {
  const running = await startIdentity();
  const admin = cognitoClient(running, 'admin');
  const anonymous = cognitoClient(running, 'anonymous');
  return {
    running, admin, anonymous,
    async close() {
      admin.destroy();
      anonymous.destroy();
      await running.close();
    },
  };
}

/** `startWithClients` for a whole test file (top-level await): it closes after the file's last test. */
export async function startWithClientsForFile(): Promise<Omit<CognitoFixture, 'close'>> {
  const fixture = await startWithClients();
  after(() => fixture.close());
  return fixture;
}

/** Starts the identity on a port picked first, so its config can name URLs on its own origin (callbacks, logouts). */
export async function startIdentityWithOwnUrls(configFor: (baseUrl: string) => unknown, options: { now?: () => number } = {}): Promise<RunningIdentity> {
  const port = await freePort();
  return startIdentity({ ...options, port, config: configFor(`http://127.0.0.1:${port}`) });
}

/** Whether the pool holds `username` (AdminGetUser; UserNotFoundException means no): how tests check a refused call made no user. */
export async function userExists(admin: CognitoIdentityProviderClient, userPoolId: string, username: string): Promise<boolean> {
  try {
    await admin.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: username }));
    return true;
  } catch (error) {
    if (error instanceof UserNotFoundException) return false;
    throw error;
  }
}
