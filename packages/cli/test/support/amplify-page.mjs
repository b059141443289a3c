// The browser side of amplify-browser.test.ts: an app on its own origin that uses Amplify v6 exactly as
// its documentation shows, with only `userPoolEndpoint` and the OAuth domain pointing at Gatehouse.
import { Amplify } from 'aws-amplify';
import {
  confirmResetPassword, fetchAuthSession, fetchUserAttributes, getCurrentUser, resetPassword, signIn, signInWithRedirect, signOut,
  updateUserAttributes,
} from 'aws-amplify/auth';
import { Hub } from 'aws-amplify/utils';
import 'aws-amplify/auth/enable-oauth-listener';

const settings = JSON.parse(document.getElementById('settings').textContent);
const origin = window.location.origin;
Amplify.configure({
  Auth: {
    Cognito: {
      userPoolId: settings.userPoolId,
      userPoolClientId: settings.clientId,
      userPoolEndpoint: settings.endpoint,
      loginWith: {
        oauth: {
          domain: settings.oauthDomain,
          scopes: ['openid', 'email', 'profile'],
          redirectSignIn: [`${origin}/`],
          redirectSignOut: [`${origin}/`],
          responseType: 'code',
        },
      },
    },
  },
});

const hubEvents = [];
Hub.listen('auth', ({ payload }) => hubEvents.push(payload.event));

/** Claims of a JWT, read the way an app would (no verification: the page only displays them). */
function claims(token) {
  return token ? token.payload : undefined;
}

async function session(forceRefresh = false) {
  const { tokens } = await fetchAuthSession({ forceRefresh });
  if (!tokens) return undefined;
  return { access: tokens.accessToken.toString(), id: tokens.idToken?.toString(), accessClaims: claims(tokens.accessToken), idClaims: claims(tokens.idToken) };
}

async function attempt(work) {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    return { ok: false, name: error?.name, message: error?.message };
  }
}

window.gatehouseTest = {
  hubEvents,
  signIn: (username, password) => attempt(async () => (await signIn({ username, password })).nextStep.signInStep),
  signInWithRedirect: () => attempt(() => signInWithRedirect()),
  currentUser: () => attempt(async () => (await getCurrentUser()).username),
  session: (forceRefresh) => attempt(() => session(forceRefresh)),
  attributes: () => attempt(() => fetchUserAttributes()),
  updateAttributes: (userAttributes) => attempt(async () => Object.keys(await updateUserAttributes({ userAttributes }))),
  signOut: (global) => attempt(() => signOut({ global })),
  resetPassword: (username) => attempt(async () => {
    const { nextStep } = await resetPassword({ username });
    return { step: nextStep.resetPasswordStep, medium: nextStep.codeDeliveryDetails?.deliveryMedium };
  }),
  confirmResetPassword: (username, confirmationCode, newPassword) => attempt(() => confirmResetPassword({ username, confirmationCode, newPassword })),
};
document.getElementById('ready').textContent = 'ready';
