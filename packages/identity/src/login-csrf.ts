import { createHmac, randomBytes } from 'node:crypto';
import type { IdentityContext } from './identity-context.ts';
import { AUTHORIZE_PARAMETERS } from './authorize-request.ts';
import { constantTimeEqual } from './client-secret.ts';
import { randomToken } from './token-store.ts';

const LIFETIME_MS = 30 * 60_000;

export interface LoginCsrf {
  /** Random per rendering; sent as an HttpOnly SameSite=Strict cookie. */
  readonly cookie: string;
  /** `{expiresAt}.{HMAC}` over the cookie and the authorize request; sent as the form's hidden `csrf` field. */
  readonly field: string;
}

// Read once per context: the stored key never changes, and every form render and post would otherwise query it.
const keys = new WeakMap<IdentityContext, string>();

/**
 * Reads (or creates) the form key once, at identity's start; it is stored in the identity database so every
 * instance sharing it verifies the others' forms.
 */
export async function loadLoginCsrfKey(context: IdentityContext): Promise<void> {
  keys.set(context, await context.users.metaOrCreate('login-csrf-key', () => randomBytes(32).toString('hex')));
}

function key(context: IdentityContext): string {
  const stored = keys.get(context);
  if (stored === undefined) throw new Error('identity: the login form key was not loaded (loadLoginCsrfKey at start)');
  return stored;
}

/**
 * Which form a token is for: `sign-in`, `sign-up`, … A purpose may carry what the server already checked
 * (`confirm-sign-up:{username}` is issued only after that sign-up succeeded), so a form with it proves that
 * step happened in this browser, in this transaction, within the lifetime.
 */
export type FormPurpose = string;

type FormParameters = Readonly<Record<string, string | undefined>>;

/** What one form token's MAC covers. */
interface FormBinding {
  readonly cookie: string;
  readonly expiresAt: number;
  readonly parameters: FormParameters;
  readonly purpose: FormPurpose;
}

function mac(context: IdentityContext, { cookie, expiresAt, parameters, purpose }: FormBinding): string {
  const transaction = AUTHORIZE_PARAMETERS.map((name) => parameters[name] ?? null);
  return createHmac('sha256', key(context)).update(JSON.stringify(['gatehouse-login-csrf', purpose, cookie, expiresAt, transaction])).digest('base64url');
}

/**
 * A login form token bound to this browser (the cookie) and to the authorize request the form completes
 * (client, redirect URI, state, nonce, PKCE challenge, scope): a pair the client makes up, or a token from
 * another sign-in, does not verify.
 */
export function issueLoginCsrf(context: IdentityContext, parameters: Readonly<Record<string, string | undefined>>, purpose: FormPurpose = 'sign-in'): LoginCsrf {
  const cookie = randomToken(24);
  const expiresAt = context.now() + LIFETIME_MS;
  return { cookie, field: `${expiresAt}.${mac(context, { cookie, expiresAt, parameters, purpose })}` };
}

/** What the browser sent back: the cookie and the form's hidden field. */
export interface PresentedLoginCsrf {
  readonly cookie: string | undefined;
  readonly field: string | undefined;
}

export function checkLoginCsrf(context: IdentityContext, { cookie, field }: PresentedLoginCsrf, parameters: FormParameters, purpose: FormPurpose = 'sign-in'): boolean {
  if (!cookie || !field) return false;
  const match = /^(\d{1,15})\.([\w-]{43})$/.exec(field);
  if (!match) return false;
  const expiresAt = Number(match[1]);
  if (expiresAt <= context.now()) return false;
  return constantTimeEqual(match[2]!, mac(context, { cookie, expiresAt, parameters, purpose }));
}
