/** The hosted pages: plain HTML, no script; every form posts back with the authorize parameters and its CSRF token. */
const escape = (text: string): string => text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);

export interface FormField {
  readonly label: string;
  readonly name: string;
  readonly type?: 'text' | 'password' | 'email';
  readonly autocomplete?: string;
  readonly value?: string | undefined;
  readonly required?: boolean;
  readonly inputmode?: 'numeric';
}

export interface HostedFormOptions {
  readonly title: string;
  readonly poolName: string;
  readonly clientName: string;
  /** Where the form posts (a path on this server). */
  readonly action: string;
  readonly parameters: Readonly<Record<string, string>>;
  readonly csrf: string;
  readonly fields: readonly FormField[];
  /** Values carried unchanged (a user name the server has already bound to this form's token). */
  readonly hidden?: Readonly<Record<string, string>>;
  readonly submit: string;
  /** A second button posting the same form elsewhere (e.g. "Send a new code"), without requiring the fields. */
  readonly secondary?: { readonly text: string; readonly action: string } | undefined;
  readonly error?: string | undefined;
  readonly notice?: string | undefined;
  readonly links?: readonly { readonly text: string; readonly path: string }[];
}

const STYLE = `body{font-family:system-ui,sans-serif;background:#f4f5f7;display:flex;justify-content:center;padding-top:10vh;margin:0}
form{background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002;width:20rem;display:flex;flex-direction:column;gap:.8rem}
label{display:flex;flex-direction:column;font-size:.9rem;gap:.3rem}input{padding:.5rem;font-size:1rem}
button{padding:.6rem;font-size:1rem;background:#1f4e9a;color:#fff;border:0;border-radius:4px;cursor:pointer}button[formaction]{background:#fff;color:#1f4e9a;border:1px solid #1f4e9a}.error{color:#a00;margin:0}
.notice{color:#185c2e;margin:0}h1{font-size:1.2rem;margin:0}small{color:#666}nav{display:flex;flex-direction:column;gap:.3rem;font-size:.9rem}`;

function field(input: FormField, autofocus: boolean): string {
  const attributes = [
    `name="${escape(input.name)}"`,
    `type="${input.type ?? 'text'}"`,
    input.autocomplete ? `autocomplete="${escape(input.autocomplete)}"` : '',
    input.value !== undefined ? `value="${escape(input.value)}"` : '',
    input.inputmode ? `inputmode="${input.inputmode}"` : '',
    input.required === false ? '' : 'required',
    autofocus ? 'autofocus' : '',
  ].filter(Boolean).join(' ');
  return `<label>${escape(input.label)}<input ${attributes}></label>`;
}

/** One hosted form page (sign-in, sign-up, code confirmation, password reset, new password). */
export function hostedFormPage(options: HostedFormOptions): string {
  const carried = { ...options.parameters, ...options.hidden };
  const hidden = Object.entries(carried).map(([name, value]) => `<input type="hidden" name="${escape(name)}" value="${escape(value)}">`).join('');
  const error = options.error ? `<p class="error" role="alert">${escape(options.error)}</p>` : '';
  const notice = options.notice ? `<p class="notice" role="status">${escape(options.notice)}</p>` : '';
  const query = new URLSearchParams(options.parameters).toString();
  const links = (options.links ?? []).map((link) => `<a href="${escape(`${link.path}?${query}`)}">${escape(link.text)}</a>`).join('');
  const secondary = options.secondary
    ? `<button type="submit" formaction="${escape(options.secondary.action)}" formnovalidate>${escape(options.secondary.text)}</button>`
    : '';
  const firstEmpty = options.fields.findIndex((input) => !input.value);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(options.title)} · Gatehouse</title>
<style>${STYLE}</style></head>
<body><form method="post" action="${escape(options.action)}">
<h1>${escape(options.title)}</h1><small>${escape(options.clientName)} · pool ${escape(options.poolName)}</small>${notice}${error}
${hidden}<input type="hidden" name="csrf" value="${escape(options.csrf)}">
${options.fields.map((input, index) => field(input, index === Math.max(firstEmpty, 0))).join('\n')}
<button type="submit">${escape(options.submit)}</button>${secondary}${links ? `<nav>${links}</nav>` : ''}</form></body></html>`;
}

function plainPage(title: string, heading: string, message: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)} · Gatehouse</title></head>
<body style="font-family:system-ui,sans-serif;padding:2rem"><h1>${escape(heading)}</h1><p>${escape(message)}</p></body></html>`;
}

export function errorPage(message: string): string {
  return plainPage('Sign-in error', 'Sign-in request refused', message);
}

export function signOutErrorPage(message: string): string {
  return plainPage('Sign-out error', 'Sign-out request refused', `${message} You are still signed in.`);
}

export function signedOutPage(): string {
  return plainPage('Signed out', 'You are signed out', 'Your sign-in session here has ended. You can close this window.');
}
