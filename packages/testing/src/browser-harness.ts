/**
 * Shared set-up for the browser tests: the whole Gatehouse stack on one port, real users made through
 * the Cognito-compatible admin API with the first-run admin key, and a real Chromium.
 */
import { mkdtempSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { AdminAddUserToGroupCommand, CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { adminCreateUser } from './cognito-users.ts';

export const repositoryRoot = path.resolve(import.meta.dirname, '..', '..', '..');
export const artifactsDirectory = path.join(repositoryRoot, 'test-artifacts');
export const distDirectory = path.join(repositoryRoot, 'packages', 'web', 'dist');

/** The part of `@gatehouse/cli`'s RunningGatehouse these tests use. */
export interface Stack {
  readonly url: string;
  readonly port: number;
  readonly adminCredentialsFile: string;
  readonly firstRun: { readonly username: string; readonly password: string } | undefined;
  readonly settings: { readonly region: string; readonly userPoolId: string; readonly clientId: string; readonly issuer: string; readonly runtimeArn: string };
  close(): Promise<void>;
}

type StartGatehouse = (options: { dataDir: string; port: number; logLevel: string; config?: unknown }) => Promise<Stack>;

// Loaded by name at run time: the web package's own type-check (`tsc -p packages/web`) then stays
// independent of the other packages' sources, which it would otherwise pull in and check too.
const cliModule: string = '@gatehouse/cli';
async function loadStartGatehouse(): Promise<StartGatehouse> {
  const cli = (await import(cliModule)) as { startGatehouse: StartGatehouse };
  return cli.startGatehouse;
}

export interface StartedStack {
  readonly stack: Stack;
  readonly dataDir: string;
  close(): Promise<void>;
}

/** A free loopback port, for configs that must name the public URL (callback URLs) before start. */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export async function startStack(options: { port?: number; config?: unknown } = {}): Promise<StartedStack> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-web-'));
  const startGatehouse = await loadStartGatehouse();
  const stack = await startGatehouse({ dataDir, port: options.port ?? 0, logLevel: 'silent', ...(options.config === undefined ? {} : { config: options.config }) });
  return {
    stack,
    dataDir,
    async close() {
      await stack.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Reads the first-run admin key (AWS shared-credentials format) that `gatehouse up` writes. */
export function adminCredentials(stack: Pick<Stack, 'adminCredentialsFile'>): { accessKeyId: string; secretAccessKey: string } {
  const text = readFileSync(stack.adminCredentialsFile, 'utf8');
  const accessKeyId = /aws_access_key_id\s*=\s*(\S+)/.exec(text)?.[1];
  const secretAccessKey = /aws_secret_access_key\s*=\s*(\S+)/.exec(text)?.[1];
  if (!accessKeyId || !secretAccessKey) throw new Error('admin-credentials has no key');
  return { accessKeyId, secretAccessKey };
}

export interface TestUser {
  readonly username: string;
  readonly password: string;
}

/** A new confirmed user with a random password, made the way an operator would (AdminCreateUser). */
export async function createUser(stack: Stack, group = 'ops-readonly'): Promise<TestUser> {
  const client = new CognitoIdentityProviderClient({ endpoint: stack.url, region: stack.settings.region, credentials: adminCredentials(stack) });
  const username = `user-${randomBytes(4).toString('hex')}`;
  const password = `Pw-${randomBytes(12).toString('base64url')}9a!`;
  const userPoolId = stack.settings.userPoolId;
  try {
    const attributes = { email: `${username}@example.com`, email_verified: 'true' };
    await adminCreateUser(client, { userPoolId, username, password, attributes });
    await client.send(new AdminAddUserToGroupCommand({ UserPoolId: userPoolId, Username: username, GroupName: group }));
  } finally {
    client.destroy();
  }
  return { username, password };
}

const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Chromium with a fresh profile, so no cookie or storage leaks between tests. `args` adds switches to the
 * usual headless ones (e.g. `--ignore-certificate-errors-spki-list` to trust exactly one server key).
 */
export async function launchBrowser(options: { viewport?: { width: number; height: number }; args?: readonly string[] } = {}): Promise<Browser> {
  const profile = mkdtempSync(path.join(tmpdir(), 'gatehouse-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    args: [...CHROMIUM_FLAGS, ...(options.args ?? [])],
    headless: true,
    viewport: options.viewport ?? { width: 1280, height: 800 },
    timeout: 60_000,
  });
  context.setDefaultTimeout(30_000);
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Everything the page writes to its console or throws, to check no token ever shows up there. */
export function recordConsole(page: Page): string[] {
  const lines: string[] = [];
  page.on('console', (message) => lines.push(`${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => lines.push(`pageerror: ${error.message}`));
  return lines;
}

/** Opens the app, goes through the hosted login and waits for the chat screen. */
export async function signIn(page: Page, appUrl: string, user: TestUser): Promise<void> {
  await page.goto(appUrl);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname.includes('/login') || url.pathname.includes('/oauth2/'));
  await fillHostedLogin(page, user);
  await page.getByLabel('Message the operations agent').waitFor();
}

/** Fills and submits the hosted login form. */
export async function fillHostedLogin(page: Page, user: TestUser): Promise<void> {
  await page.getByLabel(/user ?name|email/i).first().fill(user.username);
  await page.getByLabel(/password/i).first().fill(user.password);
  await page.getByRole('button', { name: /sign in|log in|continue/i }).first().click();
}

/** The tokens oidc-client-ts keeps for this tab (sessionStorage), read the way a script in the page could. */
export async function pageTokens(page: Page, stack: Stack): Promise<{ access_token: string; id_token: string; refresh_token?: string; expires_at: number }> {
  const key = `oidc.user:${stack.settings.issuer}:${stack.settings.clientId}`;
  const raw = await page.evaluate((storageKey) => sessionStorage.getItem(storageKey), key);
  if (!raw) throw new Error('no signed-in user in sessionStorage');
  return JSON.parse(raw) as { access_token: string; id_token: string; refresh_token?: string; expires_at: number };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(artifactsDirectory, { recursive: true });
  await page.screenshot({ path: path.join(artifactsDirectory, `${name}.png`), fullPage: true });
}

/** Asks a question through the composer and waits until the agent's answer is complete. */
export async function ask(page: Page, prompt: string): Promise<void> {
  const before = await page.locator('article.entry-assistant').count();
  const box = page.getByLabel('Message the operations agent');
  await box.fill(prompt);
  await box.press('Enter');
  await page.locator('article.entry-assistant').nth(before).and(page.locator('[data-done="true"]')).waitFor({ timeout: 60_000 });
}

export function runtimeInvocationsUrl(stack: Stack): string {
  return `${stack.url}/runtimes/${encodeURIComponent(stack.settings.runtimeArn)}/invocations?qualifier=DEFAULT`;
}

/** Starts the stack and Chromium side by side; if either fails, the other is closed before rethrowing. */
async function startStackAndBrowser(options: { port?: number; config?: unknown } = {}): Promise<{ started: StartedStack; browser: Browser }> {
  const [stack, browser] = await Promise.allSettled([startStack(options), launchBrowser()]);
  if (stack.status === 'fulfilled' && browser.status === 'fulfilled') return { started: stack.value, browser: browser.value };
  if (stack.status === 'fulfilled') await stack.value.close();
  if (browser.status === 'fulfilled') await browser.value.close();
  throw stack.status === 'rejected' ? stack.reason : (browser as PromiseRejectedResult).reason;
}

/** A pool whose ids are fixed up front, so a runtime's authorizer can name them before the stack starts (public values, not secrets). */
export interface FixedPool {
  readonly userPoolId: string;
  readonly clientId: string;
}

/**
 * The `identity` section for the web app served at `base`: the default pool with the `web` client, password and
 * refresh flows, calling back and logging out to `base/`. `client` adds to or replaces the client's fields.
 */
export function webAppIdentity(base: string, options: { pool?: FixedPool; client?: Record<string, unknown> } = {}): unknown {
  const { pool, client } = options;
  const web = { clientName: 'web', ...(pool ? { clientId: pool.clientId } : {}), explicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'], callbackUrls: [`${base}/`], logoutUrls: [`${base}/`], ...client };
  return { userPools: [{ poolName: 'default', ...(pool ? { userPoolId: pool.userPoolId } : {}), clients: [web] }] };
}

/** A runtime's `customJWTAuthorizer` fields that accept exactly the tokens of `pool`'s web client, found through its discovery URL at `base`. */
export function poolAuthorizer(base: string, pool: FixedPool): { discoveryUrl: string; allowedClients: string[] } {
  return { discoveryUrl: `${base}/${pool.userPoolId}/.well-known/openid-configuration`, allowedClients: [pool.clientId] };
}

/** The stack and Chromium shared by the tests of one file. */
export interface WebApp {
  readonly stack: Stack;
  readonly browser: Browser;
  /** Closes Chromium, then the stack (and removes its data dir). */
  close(): Promise<void>;
}

/**
 * The stack and Chromium side by side. With `config`, the port is chosen first so that the config can name the
 * app's own URL (`base`: callback URLs, the authorizer's discovery URL).
 */
export async function startWebApp(config?: (base: string) => unknown): Promise<WebApp> {
  const port = config ? await freePort() : 0;
  const { started, browser } = await startStackAndBrowser(config ? { port, config: config(`http://localhost:${port}`) } : {});
  return {
    stack: started.stack,
    browser,
    async close() {
      await browser.close();
      await started.close();
    },
  };
}
