/** Drives the hosted login page with plain fetch, as a browser would: GET the form, POST it back with its cookie. */
export interface LoginResult {
  readonly status: number;
  readonly location: string | null;
  readonly body: string;
  readonly sessionCookie: string | undefined;
}

function cookieValue(setCookies: readonly string[], name: string): string | undefined {
  for (const header of setCookies) {
    const [pair] = header.split(';');
    if (pair?.startsWith(`${name}=`)) return pair;
  }
  return undefined;
}

export function hiddenFields(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields[match[1]!] = match[2]!.replace(/&#(\d+);/g, (_all, code: string) => String.fromCharCode(Number(code)));
  }
  return fields;
}

export async function login(authorizeUrl: string, username: string, password: string, options: { cookie?: string; extra?: Record<string, string> } = {}): Promise<LoginResult> {
  const first = await fetch(authorizeUrl, { redirect: 'manual', headers: options.cookie ? { cookie: options.cookie } : {} });
  const location = first.headers.get('location');
  if (first.status !== 302 || !location) return { status: first.status, location, body: await first.text(), sessionCookie: undefined };
  const loginUrl = new URL(location, authorizeUrl);
  if (loginUrl.pathname !== '/login') return { status: first.status, location, body: '', sessionCookie: undefined };
  const page = await fetch(loginUrl);
  const html = await page.text();
  const csrfCookie = cookieValue(page.headers.getSetCookie(), 'gatehouse_csrf');
  const form = new URLSearchParams({ ...hiddenFields(html), username, password, ...options.extra });
  const posted = await fetch(new URL('/login', authorizeUrl), {
    method: 'POST', redirect: 'manual', body: form,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(csrfCookie ? { cookie: csrfCookie } : {}) },
  });
  return { status: posted.status, location: posted.headers.get('location'), body: await posted.text(), sessionCookie: cookieValue(posted.headers.getSetCookie(), 'gatehouse_session') };
}
