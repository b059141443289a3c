import { UserManager, WebStorageStateStore, type User } from 'oidc-client-ts';
import { ChatError } from './chat-error.ts';
import type { WebSettings } from './web-settings.ts';

/** Renew this long before expiry; short enough that 60-second tokens do not renew in a loop. */
const RENEW_BEFORE_SECONDS = 20;

export interface AuthClient {
  readonly userManager: UserManager;
  /** Completes a code+PKCE redirect if the URL carries one; returns the signed-in user, if any. */
  start(): Promise<User | null>;
  signIn(): Promise<void>;
  /** Revokes the refresh token, forgets the tokens, then ends the hosted-login session. */
  signOut(): Promise<void>;
  /** An access token valid for at least a few more seconds, refreshed first if needed. */
  freshAccessToken(force?: boolean): Promise<string>;
}

/**
 * Authorization code + PKCE against the issuer, with oidc-client-ts. Tokens live in sessionStorage
 * (this tab only, gone when it closes), never localStorage: an XSS-free page is the real defence, but
 * this keeps tokens out of long-lived storage and out of other tabs. The access token goes to the
 * runtime; the ID token's claims are only shown in the UI.
 */
export function createAuthClient(settings: WebSettings): AuthClient {
  const store = new WebStorageStateStore({ store: window.sessionStorage });
  const redirectUri = new URL('/', settings.appUrl).href;
  const userManager = new UserManager({
    authority: settings.issuer,
    client_id: settings.clientId,
    redirect_uri: redirectUri,
    post_logout_redirect_uri: redirectUri,
    response_type: 'code',
    scope: 'openid email profile',
    userStore: store,
    stateStore: store,
    loadUserInfo: false,
    monitorSession: false,
    automaticSilentRenew: true,
    accessTokenExpiringNotificationTimeInSeconds: RENEW_BEFORE_SECONDS,
    revokeTokenTypes: ['refresh_token'],
    revokeTokensOnSignout: true,
    // Cognito-style discovery may omit these; discovered values win over the seed.
    metadataSeed: {
      revocation_endpoint: `${settings.oauthBase}/oauth2/revoke`,
      end_session_endpoint: `${settings.oauthBase}/logout`,
    },
  });

  let renewing: Promise<User | null> | undefined;
  const renew = (): Promise<User | null> => {
    renewing ??= userManager.signinSilent().finally(() => {
      renewing = undefined;
    });
    return renewing;
  };

  return {
    userManager,
    async start() {
      const params = new URLSearchParams(window.location.search);
      if (params.has('error')) {
        window.history.replaceState(null, '', '/');
        throw new ChatError('signin_expired', params.get('error_description') ?? params.get('error') ?? 'Sign-in failed.', {
          fix: 'Try signing in again.',
          errorType: params.get('error') ?? 'error',
        });
      }
      if (params.has('code') && params.has('state')) {
        try {
          const user = await userManager.signinRedirectCallback();
          return user;
        } finally {
          window.history.replaceState(null, '', '/');
        }
      }
      const user = await userManager.getUser();
      if (user && user.expired) {
        // A reload after the access token lapsed: the refresh token may still be good.
        return await renew().catch(() => null);
      }
      return user;
    },
    async signIn() {
      await userManager.signinRedirect();
    },
    async signOut() {
      const user = await userManager.getUser();
      if (user?.refresh_token) await userManager.revokeTokens(['refresh_token']).catch(() => undefined);
      await userManager.removeUser();
      const logout = new URL(`${settings.oauthBase}/logout`);
      logout.searchParams.set('client_id', settings.clientId);
      logout.searchParams.set('logout_uri', redirectUri);
      window.location.assign(logout.href);
    },
    async freshAccessToken(force = false) {
      let user = await userManager.getUser();
      if (!user) throw expired();
      if (force || (user.expires_in ?? 0) < RENEW_BEFORE_SECONDS) {
        user = await renew().catch(() => null);
        if (!user) throw expired();
      }
      return user.access_token;
    },
  };
}

function expired(): ChatError {
  return new ChatError('signin_expired', 'You are signed out or your session ended.', { fix: 'Sign in again. Your unsent message is kept.' });
}
