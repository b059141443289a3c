// The browser side of oidc-client-browser.test.ts: an app on its own origin using oidc-client-ts as its
// documentation shows, with only `authority` and `client_id` pointing at Gatehouse.
import { UserManager, WebStorageStateStore } from 'oidc-client-ts';

const settings = JSON.parse(document.getElementById('settings').textContent);
const origin = window.location.origin;
const manager = new UserManager({
  authority: settings.authority,
  client_id: settings.clientId,
  redirect_uri: `${origin}/callback`,
  post_logout_redirect_uri: `${origin}/signed-out`,
  response_type: 'code',
  scope: 'openid email profile',
  automaticSilentRenew: false,
  userStore: new WebStorageStateStore({ store: window.localStorage }),
});

async function attempt(work) {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    return { ok: false, name: error?.name, message: error?.message };
  }
}

function summary(user) {
  return user ? { accessToken: user.access_token, idToken: user.id_token, refreshToken: user.refresh_token, profile: user.profile, expired: user.expired } : null;
}

window.gatehouseTest = {
  signIn: () => attempt(() => manager.signinRedirect({ state: 'app-state' })),
  user: () => attempt(async () => summary(await manager.getUser())),
  renew: () => attempt(async () => summary(await manager.signinSilent())),
  signOut: () => attempt(() => manager.signoutRedirect({ state: 'bye' })),
};

async function start() {
  if (window.location.pathname === '/callback') {
    const user = await manager.signinRedirectCallback();
    document.getElementById('callback').textContent = `signed in as ${user.profile['cognito:username'] ?? user.profile.sub} (${user.state})`;
  }
  document.getElementById('ready').textContent = 'ready';
}
start().catch((error) => {
  document.getElementById('ready').textContent = `error: ${error.message}`;
});
