import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IdentityContext } from './identity-context.ts';
import { CognitoError } from './cognito-error.ts';
import { authorizeParameters, parseAuthorizeRequest, type AuthorizeRequest } from './authorize-request.ts';
import { checkPassword } from './auth-flows.ts';
import { clientIp, unsignedOperation } from './cognito-api.ts';
import { secretHash } from './client-secret.ts';
import { checkLoginCsrf, issueLoginCsrf, type FormPurpose } from './login-csrf.ts';
import { errorPage, hostedFormPage, type FormField } from './login-page.ts';
import { PASSWORD_POLICY_TEXT } from './password-policy.ts';
import { passwordSecrets } from './user-secrets.ts';
import {
  CSRF_COOKIE, SESSION_COOKIE, SESSION_TTL_MS, authorizeFailure, cookie, cookies, issueCode, page, queryParameters, readForm, redirect, type Route,
} from './hosted-http.ts';

/**
 * The hosted pages at Cognito's paths: sign-in, the new-password screen, sign-up with its code step, and
 * password reset. Every form carries the authorize request it completes and a CSRF token bound to this
 * browser, that request and the form's purpose; a purpose that names a user (`reset-password:{username}`) is
 * only ever issued after the step before it succeeded. Account changes go through the same unsigned Cognito
 * operations the JSON API serves, so a page can do nothing the API would refuse.
 */

/** One screen: what it shows and which form purpose its token is bound to. */
interface Screen {
  readonly title: string;
  readonly action: string;
  readonly purpose: FormPurpose;
  readonly fields: readonly FormField[];
  readonly hidden?: Readonly<Record<string, string>>;
  readonly submit: string;
  readonly secondary?: { readonly text: string; readonly action: string };
  readonly links?: readonly { readonly text: string; readonly path: string }[];
}

const NEW_PASSWORD: FormField = { label: 'New password', name: 'new_password', type: 'password', autocomplete: 'new-password' };
const CONFIRM_PASSWORD: FormField = { label: 'Confirm new password', name: 'confirm_password', type: 'password', autocomplete: 'new-password' };
const CODE: FormField = { label: 'Code', name: 'code', autocomplete: 'one-time-code', inputmode: 'numeric' };
const BACK_TO_SIGN_IN = { text: 'Back to sign in', path: '/login' };

const SCREENS = {
  signIn: (authorize: AuthorizeRequest, username = ''): Screen => ({
    title: 'Sign in', action: '/login', purpose: 'sign-in', submit: 'Sign in',
    fields: [{ label: 'Username', name: 'username', autocomplete: 'username', value: username }, { label: 'Password', name: 'password', type: 'password', autocomplete: 'current-password' }],
    links: [{ text: 'Forgot your password?', path: '/forgotPassword' }, ...(authorize.pool.settings.signUpEnabled ? [{ text: 'Create an account', path: '/signup' }] : [])],
  }),
  newPassword: (username: string): Screen => ({
    title: 'Choose a new password', action: '/newPassword', purpose: `new-password:${username}`, submit: 'Set password and sign in',
    hidden: { username }, fields: [NEW_PASSWORD, CONFIRM_PASSWORD], links: [BACK_TO_SIGN_IN],
  }),
  signUp: (form: Readonly<Record<string, string>> = {}): Screen => ({
    title: 'Create an account', action: '/signup', purpose: 'sign-up', submit: 'Create account',
    fields: [
      { label: 'Username', name: 'username', autocomplete: 'username', value: form.username ?? '' },
      { label: 'Email', name: 'email', type: 'email', autocomplete: 'email', value: form.email ?? '', required: false },
      { label: 'Password', name: 'password', type: 'password', autocomplete: 'new-password' },
    ],
    links: [{ text: 'Already have an account? Sign in', path: '/login' }],
  }),
  /** Right after a sign-up in this browser the user name is bound to the form, and confirming signs in. */
  confirmSignUp: (username: string, signedUpHere: boolean): Screen => ({
    title: 'Confirm your account', action: '/confirmUser', submit: 'Confirm account',
    purpose: signedUpHere ? `confirm-sign-up:${username}` : 'confirm-sign-up',
    ...(signedUpHere ? { hidden: { username }, fields: [CODE] } : { fields: [{ label: 'Username', name: 'username', autocomplete: 'username', value: username }, CODE] }),
    secondary: { text: 'Send a new code', action: '/resendCode' }, links: [BACK_TO_SIGN_IN],
  }),
  forgotPassword: (username = ''): Screen => ({
    title: 'Reset your password', action: '/forgotPassword', purpose: 'forgot-password', submit: 'Send a reset code',
    fields: [{ label: 'Username', name: 'username', autocomplete: 'username', value: username }], links: [BACK_TO_SIGN_IN],
  }),
  resetPassword: (username: string): Screen => ({
    title: 'Choose a new password', action: '/confirmForgotPassword', purpose: `reset-password:${username}`, submit: 'Change password',
    hidden: { username }, fields: [CODE, NEW_PASSWORD, CONFIRM_PASSWORD],
    links: [{ text: 'Send a new code', path: '/forgotPassword' }, BACK_TO_SIGN_IN],
  }),
};

interface Shown {
  readonly status?: number;
  readonly error?: string | undefined;
  readonly notice?: string | undefined;
}

/** Where a screen is shown: the response, for which authorize request, carrying which parameters on. */
interface ScreenTarget {
  readonly context: IdentityContext;
  readonly response: ServerResponse;
  readonly authorize: AuthorizeRequest;
  readonly parameters: Readonly<Record<string, string>>;
}

function show({ context, response, authorize, parameters }: ScreenTarget, screen: Screen, shown: Shown = {}): void {
  const csrf = issueLoginCsrf(context, parameters, screen.purpose);
  const html = hostedFormPage({
    title: screen.title, poolName: authorize.pool.name, clientName: authorize.client.name, action: screen.action, parameters: authorizeParameters(parameters),
    csrf: csrf.field, fields: screen.fields, hidden: screen.hidden ?? {}, submit: screen.submit, secondary: screen.secondary, links: screen.links ?? [], error: shown.error, notice: shown.notice,
  });
  page(response, shown.status ?? 200, html, { 'set-cookie': cookie(context, { name: CSRF_COOKIE, value: csrf.cookie, maxAgeSeconds: 1800, sameSite: 'Strict' }) });
}

/** A GET of a hosted page: validate the authorize request in the query, then show the screen. */
function screenPage(choose: (authorize: AuthorizeRequest, parameters: Record<string, string>) => Screen, refuse?: (authorize: AuthorizeRequest) => string | undefined): Route {
  return async (context, _request, response, url) => {
    const parameters = queryParameters(url);
    let authorize: AuthorizeRequest;
    try {
      authorize = await parseAuthorizeRequest(context, parameters);
    } catch (error) {
      if (authorizeFailure(response, error)) return;
      throw error;
    }
    const refusal = refuse?.(authorize);
    if (refusal) show({ context, response, authorize, parameters }, SCREENS.signIn(authorize), { status: 403, error: refusal });
    else show({ context, response, authorize, parameters }, choose(authorize, parameters));
  };
}

interface Submitted {
  readonly form: Record<string, string>;
  readonly authorize: AuthorizeRequest;
  readonly purpose: FormPurpose;
}

/**
 * The first steps of every hosted POST: read the form, validate the authorize request it carries, and check
 * its CSRF token against the purposes this path accepts. Answers and returns undefined when a step fails.
 */
async function submitted(context: IdentityContext, request: IncomingMessage, response: ServerResponse, purposes: (form: Record<string, string>) => readonly FormPurpose[]): Promise<Submitted | undefined> {
  let form: Record<string, string>;
  try {
    form = await readForm(request);
  } catch {
    page(response, 400, errorPage('The form was not sent as a form.'));
    return undefined;
  }
  let authorize: AuthorizeRequest;
  try {
    authorize = await parseAuthorizeRequest(context, form);
  } catch (error) {
    if (authorizeFailure(response, error)) return undefined;
    throw error;
  }
  const token = cookies(request)[CSRF_COOKIE];
  const purpose = purposes(form).find((candidate) => checkLoginCsrf(context, { cookie: token, field: form.csrf }, form, candidate));
  if (purpose === undefined) {
    show({ context, response, authorize, parameters: form }, SCREENS.signIn(authorize), { status: 403, error: 'Your sign-in form expired or was not sent from this browser. Please start again.' });
    return undefined;
  }
  return { form, authorize, purpose };
}

/** Calls an unsigned Cognito operation as this app client; the server holds the client's secret, so it adds the SecretHash. */
interface CognitoCaller {
  readonly context: IdentityContext;
  readonly request: IncomingMessage;
  readonly authorize: AuthorizeRequest;
}

async function callCognito({ context, request, authorize }: CognitoCaller, name: string, input: Record<string, unknown>): Promise<Record<string, unknown>> {
  const operation = unsignedOperation(name);
  if (!operation) throw new CognitoError('InvalidParameterException', `${name} is not available on this server`);
  const username = typeof input.Username === 'string' ? input.Username : undefined;
  const hash = authorize.client.secret && username !== undefined ? { SecretHash: secretHash(authorize.client.secret, username, authorize.client.id) } : {};
  return ((await operation(context, { ...input, ClientId: authorize.client.id, ...hash }, { ip: clientIp(request) })) ?? {}) as Record<string, unknown>;
}

/** A Cognito refusal as a page message that says what to do next. */
function advice(error: CognitoError): string {
  switch (error.code) {
    case 'InvalidPasswordException':
      return `${error.message}. ${PASSWORD_POLICY_TEXT}`;
    case 'CodeMismatchException':
      return 'That code is not right. Enter the 6-digit code from the newest message we sent you, or ask for a new code.';
    case 'ExpiredCodeException':
      return 'That code has expired. Ask for a new code and enter that one.';
    case 'UsernameExistsException':
      return 'That username is taken. Choose another one, or sign in if the account is yours.';
    default:
      return error.message;
  }
}

const HIDDEN_RESET_REFUSALS: ReadonlySet<string> = new Set(['UserNotFoundException', 'NotAuthorizedException', 'UserNotConfirmedException']);

const PASSWORDS_DIFFER = 'The two new passwords differ. Type the same new password in both fields.';

/** Starts the browser's sign-in session and sends it back to the app with an authorization code. */
async function signInAndReturn(context: IdentityContext, response: ServerResponse, authorize: AuthorizeRequest, username: string): Promise<void> {
  const authTime = Math.floor(context.now() / 1000);
  const sessionId = await context.tokens.createLoginSession(authorize.pool.id, username, authTime, SESSION_TTL_MS);
  redirect(response, await issueCode(context, authorize, username, authTime), {
    'set-cookie': [
      cookie(context, { name: SESSION_COOKIE, value: sessionId, maxAgeSeconds: SESSION_TTL_MS / 1000, sameSite: 'Lax' }),
      cookie(context, { name: CSRF_COOKIE, value: '', maxAgeSeconds: 0, sameSite: 'Strict' }),
    ],
  });
}

const signUpRefusal = (authorize: AuthorizeRequest): string | undefined =>
  authorize.pool.settings.signUpEnabled ? undefined : 'Sign-up is not enabled for this app. Ask an administrator to create your account.';

const loginGet = screenPage((authorize) => SCREENS.signIn(authorize));

const loginPost: Route = async (context, request, response) => {
  const step = await submitted(context, request, response, () => ['sign-in']);
  if (!step) return;
  const { form, authorize } = step;
  const username = form.username ?? '';
  try {
    const user = await checkPassword(context, authorize.pool, { username, password: form.password ?? '', ip: clientIp(request) });
    if (!user.enabled) throw new CognitoError('NotAuthorizedException', 'User is disabled.');
    if (user.status === 'UNCONFIRMED') {
      show({ context, response, authorize, parameters: form }, SCREENS.confirmSignUp(username, false), { error: 'Your account is not confirmed yet. Enter the code from the message we sent when you signed up.' });
      return;
    }
    if (user.status === 'FORCE_CHANGE_PASSWORD') {
      // NEW_PASSWORD_REQUIRED: the temporary password was right; the next form's token says so for this user only.
      show({ context, response, authorize, parameters: form }, SCREENS.newPassword(user.username), { notice: `You signed in with a temporary password. Choose your own to continue. ${PASSWORD_POLICY_TEXT}` });
      return;
    }
    await signInAndReturn(context, response, authorize, user.username);
  } catch (error) {
    if (!(error instanceof CognitoError)) throw error;
    show({ context, response, authorize, parameters: form }, SCREENS.signIn(authorize, username), { status: 400, error: error.message });
  }
};

const newPasswordPost: Route = async (context, request, response) => {
  const step = await submitted(context, request, response, (form) => [`new-password:${form.username ?? ''}`]);
  if (!step) return;
  const { form, authorize } = step;
  const username = form.username ?? '';
  const user = await context.users.user(authorize.pool.id, username);
  if (!user || !user.enabled || user.status !== 'FORCE_CHANGE_PASSWORD') {
    show({ context, response, authorize, parameters: form }, SCREENS.signIn(authorize, username), { status: 400, error: 'This password change is no longer pending. Sign in again.' });
    return;
  }
  if ((form.new_password ?? '') !== (form.confirm_password ?? '')) {
    show({ context, response, authorize, parameters: form }, SCREENS.newPassword(username), { status: 400, error: PASSWORDS_DIFFER });
    return;
  }
  try {
    await context.users.setPassword(authorize.pool.id, user.username, { secret: await passwordSecrets(authorize.pool.id, user.username, form.new_password ?? ''), status: 'CONFIRMED' });
  } catch (error) {
    if (!(error instanceof CognitoError)) throw error;
    show({ context, response, authorize, parameters: form }, SCREENS.newPassword(username), { status: 400, error: advice(error) });
    return;
  }
  await signInAndReturn(context, response, authorize, user.username);
};

const signUpGet = screenPage(() => SCREENS.signUp(), signUpRefusal);

const signUpPost: Route = async (context, request, response) => {
  const step = await submitted(context, request, response, () => ['sign-up']);
  if (!step) return;
  const { form, authorize } = step;
  const refusal = signUpRefusal(authorize);
  if (refusal) {
    show({ context, response, authorize, parameters: form }, SCREENS.signIn(authorize), { status: 403, error: refusal });
    return;
  }
  const username = form.username ?? '';
  try {
    const attributes = form.email ? [{ Name: 'email', Value: form.email }] : [];
    const result = await callCognito({ context, request, authorize }, 'SignUp', { Username: username, Password: form.password ?? '', UserAttributes: attributes });
    const delivery = result.CodeDeliveryDetails as { Destination?: string } | undefined;
    const where = delivery?.Destination && delivery.Destination !== 'outbox' ? ` to ${delivery.Destination}` : '';
    show({ context, response, authorize, parameters: form }, SCREENS.confirmSignUp(username, true), { notice: `We sent a confirmation code${where}. Enter it to finish creating your account.` });
  } catch (error) {
    if (!(error instanceof CognitoError)) throw error;
    show({ context, response, authorize, parameters: form }, SCREENS.signUp(form), { status: 400, error: advice(error) });
  }
};

const confirmUserGet = screenPage((_authorize, parameters) => SCREENS.confirmSignUp(parameters.username ?? '', false));

const confirmUserPost: Route = async (context, request, response) => {
  const step = await submitted(context, request, response, (form) => [`confirm-sign-up:${form.username ?? ''}`, 'confirm-sign-up']);
  if (!step) return;
  const { form, authorize, purpose } = step;
  const username = form.username ?? '';
  const signedUpHere = purpose !== 'confirm-sign-up';
  try {
    await callCognito({ context, request, authorize }, 'ConfirmSignUp', { Username: username, ConfirmationCode: form.code ?? '' });
  } catch (error) {
    if (!(error instanceof CognitoError)) throw error;
    show({ context, response, authorize, parameters: form }, SCREENS.confirmSignUp(username, signedUpHere), { status: 400, error: advice(error) });
    return;
  }
  const user = await context.users.user(authorize.pool.id, username);
  // The password was chosen in this browser's sign-up a moment ago (the token's purpose says so): sign in, as Cognito's hosted UI does.
  if (signedUpHere && user?.enabled && user.status === 'CONFIRMED') await signInAndReturn(context, response, authorize, user.username);
  else show({ context, response, authorize, parameters: form }, SCREENS.signIn(authorize, username), { notice: 'Your account is confirmed. Sign in to continue.' });
};

const resendCodePost: Route = async (context, request, response) => {
  const step = await submitted(context, request, response, (form) => [`confirm-sign-up:${form.username ?? ''}`, 'confirm-sign-up']);
  if (!step) return;
  const { form, authorize, purpose } = step;
  const username = form.username ?? '';
  const screen = SCREENS.confirmSignUp(username, purpose !== 'confirm-sign-up');
  try {
    await callCognito({ context, request, authorize }, 'ResendConfirmationCode', { Username: username });
  } catch (error) {
    if (!(error instanceof CognitoError)) throw error;
    // as on the reset page: whether this user exists or is already confirmed is not said here
    if (!HIDDEN_RESET_REFUSALS.has(error.code) && error.code !== 'InvalidParameterException') {
      show({ context, response, authorize, parameters: form }, screen, { status: 400, error: advice(error) });
      return;
    }
  }
  show({ context, response, authorize, parameters: form }, screen, { notice: 'If this account is waiting for confirmation, we sent it a new code. Enter the newest one.' });
};

const forgotPasswordGet = screenPage(() => SCREENS.forgotPassword());

const forgotPasswordPost: Route = async (context, request, response) => {
  const step = await submitted(context, request, response, () => ['forgot-password']);
  if (!step) return;
  const { form, authorize } = step;
  const username = form.username ?? '';
  try {
    await callCognito({ context, request, authorize }, 'ForgotPassword', { Username: username });
  } catch (error) {
    if (!(error instanceof CognitoError)) throw error;
    // Whether the user exists, is confirmed or may reset is not this page's to say: those refusals look like a sent code.
    if (!HIDDEN_RESET_REFUSALS.has(error.code)) {
      show({ context, response, authorize, parameters: form }, SCREENS.forgotPassword(username), { status: 400, error: advice(error) });
      return;
    }
  }
  show({ context, response, authorize, parameters: form }, SCREENS.resetPassword(username), {
    notice: 'If this username has an account, we sent it a reset code. Enter the code and your new password.',
  });
};

const confirmForgotPasswordPost: Route = async (context, request, response) => {
  const step = await submitted(context, request, response, (form) => [`reset-password:${form.username ?? ''}`]);
  if (!step) return;
  const { form, authorize } = step;
  const username = form.username ?? '';
  const retry = (error: string): void => show({ context, response, authorize, parameters: form }, SCREENS.resetPassword(username), { status: 400, error });
  if ((form.new_password ?? '') !== (form.confirm_password ?? '')) {
    retry(PASSWORDS_DIFFER);
    return;
  }
  try {
    await callCognito({ context, request, authorize }, 'ConfirmForgotPassword', { Username: username, ConfirmationCode: form.code ?? '', Password: form.new_password ?? '' });
  } catch (error) {
    if (!(error instanceof CognitoError)) throw error;
    // an unknown user hears what a wrong code hears
    retry(advice(error.code === 'UserNotFoundException' ? new CognitoError('CodeMismatchException', error.message) : error));
    return;
  }
  show({ context, response, authorize, parameters: form }, SCREENS.signIn(authorize, username), { notice: 'Your password is changed. Sign in with your new password.' });
};

export const HOSTED_PAGE_ROUTES: Readonly<Record<string, Route>> = {
  'GET /login': loginGet,
  'POST /login': loginPost,
  'POST /newPassword': newPasswordPost,
  'GET /signup': signUpGet,
  'POST /signup': signUpPost,
  'GET /confirmUser': confirmUserGet,
  'POST /confirmUser': confirmUserPost,
  'POST /resendCode': resendCodePost,
  'GET /forgotPassword': forgotPasswordGet,
  'POST /forgotPassword': forgotPasswordPost,
  'POST /confirmForgotPassword': confirmForgotPasswordPost,
};
