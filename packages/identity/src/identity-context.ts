import type { Platform, SharedStore, Logger } from '@gatehouse/core';
import type { UserStore, PoolRecord, ClientRecord, UserRecord } from './user-store.ts';
import type { KeyStore } from './key-store.ts';
import type { TokenStore } from './token-store.ts';
import type { TokenMinter, TokenSubject } from './token-minter.ts';
import type { SecretBox } from './secret-box.ts';
import type { GroupStore } from './group-store.ts';
import type { CodeStore } from './code-store.ts';

/** What the route modules share: the stores, the signer and the platform. */
export interface IdentityContext {
  readonly platform: Platform;
  readonly users: UserStore;
  readonly groups: GroupStore;
  readonly codes: CodeStore;
  readonly keys: KeyStore;
  readonly tokens: TokenStore;
  readonly minter: TokenMinter;
  readonly box: SecretBox;
  readonly store: SharedStore;
  readonly logger: Logger;
  readonly now: () => number;
  readonly defaultPoolId: string;
  readonly exchangedTokenValiditySeconds: number;
  issuer(poolId: string): string;
  /**
   * Copies revocations just committed to the shared store before the caller is answered, so other
   * instances refuse the tokens at once. Rejects with `StoreUnavailableError` (they stay pending and
   * are published when the store returns).
   */
  publishRevocations(): Promise<void>;
  /** Runs several store writes as one transaction. */
  atomically<T>(work: () => Promise<T>): Promise<T>;
  /** The user signed out (GlobalSignOut, AdminUserGlobalSignOut, refresh-token revocation): the token vault may forget their SaaS tokens. */
  userSignedOut(poolId: string, username: string): Promise<void>;
}

export async function subjectOf(context: IdentityContext, user: UserRecord): Promise<TokenSubject> {
  return { sub: user.sub, username: user.username, groups: await context.users.groupsOf(user.poolId, user.username), attributes: user.attributes };
}

export interface IssuedTokens {
  readonly AccessToken: string;
  readonly IdToken: string;
  readonly RefreshToken?: string;
  readonly ExpiresIn: number;
  readonly TokenType: 'Bearer';
}

export interface IssueOptions {
  readonly pool: PoolRecord;
  readonly client: ClientRecord;
  readonly user: UserRecord;
  readonly scope: string;
  readonly authTime: number;
  /** Continue an existing sign-in (refresh) instead of starting a new family. */
  readonly family?: string | undefined;
  readonly withRefresh: boolean;
  readonly nonce?: string | undefined;
  readonly atHash?: boolean;
  readonly audience?: string | undefined;
}

/** One sign-in's tokens; a new sign-in starts a refresh family whose id is every token's `origin_jti`. */
export async function issueTokens(context: IdentityContext, options: IssueOptions): Promise<IssuedTokens> {
  const { pool, client, user } = options;
  const subject = await subjectOf(context, user);
  const issuer = context.issuer(pool.id);
  const family = options.family ?? crypto.randomUUID();
  const access = await context.minter.access({
    poolId: pool.id, issuer, clientId: client.id, subject, scope: options.scope, authTime: options.authTime, originJti: family,
    lifetimeSeconds: client.settings.accessTokenSeconds, audience: options.audience,
  });
  const idToken = await context.minter.id({
    poolId: pool.id, issuer, clientId: client.id, subject, authTime: options.authTime, originJti: family,
    lifetimeSeconds: client.settings.idTokenSeconds, nonce: options.nonce, accessToken: options.atHash ? access.token : undefined,
  });
  let refreshToken: string | undefined;
  if (options.withRefresh) {
    refreshToken = await context.tokens.issueRefresh({
      family, poolId: pool.id, clientId: client.id, username: user.username, scope: options.scope, authTime: options.authTime,
      expiresAt: context.now() + client.settings.refreshTokenSeconds * 1000,
    });
  }
  return { AccessToken: access.token, IdToken: idToken, ...(refreshToken ? { RefreshToken: refreshToken } : {}), ExpiresIn: access.expiresIn, TokenType: 'Bearer' };
}
