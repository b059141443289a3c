import { STSClient, AssumeRoleCommand } from '@aws-sdk/client-sts';
import type { Account } from './account.ts';
import type { ToolCaller, UserCredentials } from './tool-context.ts';
import { ToolError } from './tool-error.ts';

export interface RoleCredentials extends UserCredentials {
  readonly expiration: Date;
  readonly roleArn: string;
}

const REFRESH_BEFORE_MS = 5 * 60 * 1000;
const SESSION_SECONDS = 3600;

/** A role session name AWS accepts ([\w+=,.@-], 2–64), derived from the user so CloudTrail names them. */
export function roleSessionName(username: string): string {
  const cleaned = username.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
  return cleaned.length >= 2 ? cleaned : `gatehouse-${cleaned}`.slice(0, 64);
}

/** Session tag values: letters, digits, spaces and _ . : / = + - @, up to 256 characters. */
function tagValue(text: string): string {
  return text.replace(/[^\p{L}\p{Z}\p{N}_.:/=+\-@]/gu, '_').slice(0, 256) || '-';
}

/**
 * Assumes a role in a member account FROM the user's derived credentials (never the process's own,
 * except in execution-role mode), and caches the session per user + groups + role + the user's own session
 * (so only the holder of that session reuses it) until 5 minutes before expiry.
 */
export class RoleCredentialProvider {
  readonly #cache = new Map<string, Promise<RoleCredentials>>();
  readonly #stsEndpoint: string | undefined;
  readonly #region: string;
  readonly #now: () => number;
  /** STS calls made (for tests and logs). */
  assumeRoleCalls = 0;

  constructor(options: { stsEndpoint?: string | undefined; region: string; now?: () => number }) {
    this.#stsEndpoint = options.stsEndpoint;
    this.#region = options.region;
    this.#now = options.now ?? Date.now;
  }

  async credentialsFor(caller: ToolCaller, account: Account, roleArn: string): Promise<RoleCredentials> {
    const key = JSON.stringify([caller.sub, [...caller.groups].sort(), account.accountId, roleArn, caller.credentials?.accessKeyId ?? 'execution-role']);
    const cached = this.#cache.get(key);
    if (cached) {
      const credentials = await cached.catch(() => undefined);
      if (credentials && credentials.expiration.getTime() - REFRESH_BEFORE_MS > this.#now()) return credentials;
      this.#cache.delete(key);
    }
    const pending = this.#assume(caller, account, roleArn);
    this.#cache.set(key, pending);
    pending.catch(() => this.#cache.delete(key));
    if (this.#cache.size > 10_000) this.#cache.delete(this.#cache.keys().next().value as string);
    return pending;
  }

  async #assume(caller: ToolCaller, account: Account, roleArn: string): Promise<RoleCredentials> {
    const client = new STSClient({
      region: account.region ?? this.#region,
      maxAttempts: 2,
      ...(this.#stsEndpoint ? { endpoint: this.#stsEndpoint } : {}),
      // Undefined credentials means the SDK's default chain: reached only in execution-role mode (see callerFrom).
      ...(caller.credentials ? { credentials: caller.credentials } : {}),
    });
    this.assumeRoleCalls++;
    try {
      const result = await client.send(new AssumeRoleCommand({
        RoleArn: roleArn,
        RoleSessionName: roleSessionName(caller.username),
        DurationSeconds: SESSION_SECONDS,
        ...(caller.identified
          ? {
              SourceIdentity: roleSessionName(caller.username),
              Tags: [
                { Key: 'sub', Value: tagValue(caller.sub) },
                { Key: 'username', Value: tagValue(caller.username) },
                { Key: 'groups', Value: tagValue(caller.groups.join(':')) },
              ],
            }
          : {}),
        ...(account.externalId ? { ExternalId: account.externalId } : {}),
      }));
      const credentials = result.Credentials;
      if (!credentials?.AccessKeyId || !credentials.SecretAccessKey || !credentials.SessionToken || !credentials.Expiration) {
        throw new ToolError('AwsError', `STS returned no credentials for ${roleArn}`);
      }
      return {
        accessKeyId: credentials.AccessKeyId,
        secretAccessKey: credentials.SecretAccessKey,
        sessionToken: credentials.SessionToken,
        expiration: credentials.Expiration,
        roleArn,
      };
    } catch (error) {
      if (error instanceof ToolError) throw error;
      const name = (error as Error).name;
      const message = (error as Error).message;
      if (name === 'AccessDenied' || name === 'AccessDeniedException') throw new ToolError('AccessDenied', `STS refused to assume ${roleArn} in ${account.name}: ${message}`);
      if (name === 'ExpiredTokenException' || name === 'ExpiredToken') throw new ToolError('NoUserCredentials', 'The credentials the gateway derived for this call have expired; retry the call');
      throw new ToolError('AwsError', `STS AssumeRole for ${roleArn} failed: ${name}: ${message}`);
    } finally {
      client.destroy();
    }
  }
}
