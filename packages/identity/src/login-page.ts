/** The hosted login page: plain HTML, no script, posts back to /login with the authorize parameters. */
const escape = (text: string): string => text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);

export interface LoginPageOptions {
  readonly poolName: string;
  readonly clientName: string;
  readonly parameters: Readonly<Record<string, string>>;
  readonly csrf: string;
  readonly username?: string | undefined;
  readonly error?: string | undefined;
  readonly newPasswordRequired?: boolean;
}

export function loginPage(options: LoginPageOptions): string {
  const hidden = Object.entries(options.parameters)
    .map(([name, value]) => `<input type="hidden" name="${escape(name)}" value="${escape(value)}">`)
    .join('');
  const error = options.error ? `<p class="error" role="alert">${escape(options.error)}</p>` : '';
  const newPassword = options.newPasswordRequired
    ? `<label>New password<input type="password" name="new_password" autocomplete="new-password" required></label>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Gatehouse</title>
<style>body{font-family:system-ui,sans-serif;background:#f4f5f7;display:flex;justify-content:center;padding-top:10vh;margin:0}
form{background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002;width:20rem;display:flex;flex-direction:column;gap:.8rem}
label{display:flex;flex-direction:column;font-size:.9rem;gap:.3rem}input{padding:.5rem;font-size:1rem}
button{padding:.6rem;font-size:1rem;background:#1f4e9a;color:#fff;border:0;border-radius:4px;cursor:pointer}.error{color:#a00;margin:0}
h1{font-size:1.2rem;margin:0}small{color:#666}</style></head>
<body><form method="post" action="/login">
<h1>Sign in</h1><small>${escape(options.clientName)} · pool ${escape(options.poolName)}</small>${error}
${hidden}<input type="hidden" name="csrf" value="${escape(options.csrf)}">
<label>Username<input name="username" autocomplete="username" value="${escape(options.username ?? '')}" required autofocus></label>
<label>Password<input type="password" name="password" autocomplete="current-password" required></label>
${newPassword}<button type="submit">Sign in</button></form></body></html>`;
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
