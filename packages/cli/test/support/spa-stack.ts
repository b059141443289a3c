import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { closeServer } from '@gatehouse/core';
import { adminCredentials, launchBrowser } from '@gatehouse/testing/browser-harness';
import { startGatehouse, type RunningGatehouse } from '../../src/start-gatehouse.ts';
import { serveAppPage } from './serve-app-page.ts';

/**
 * A browser client library on another origin against a whole Gatehouse: the app page, Gatehouse with the default
 * pool's `spa` client registered for that origin, the first-run admin's Cognito client and a Chromium.
 */
export interface SpaStackOptions {
  /** The page's entry module under test/support, bundled with the real client library. */
  readonly entry: string;
  readonly bodyHtml: string;
  /** What the page reads when it loads; the test fills it in once Gatehouse has started. */
  readonly settings: Record<string, string>;
  /** The `spa` app client, given the app page's origin (callback and logout URLs point there). */
  readonly spaClient: (appOrigin: string) => Record<string, unknown>;
  /** Serve Gatehouse over `--https`; Chromium then trusts exactly the server key Gatehouse generated, nothing else. */
  readonly https?: boolean;
}

export interface SpaStack {
  readonly gatehouse: RunningGatehouse;
  readonly dataDir: string;
  readonly appOrigin: string;
  readonly userPoolId: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly admin: CognitoIdentityProviderClient;
  readonly context: BrowserContext;
  close(): Promise<void>;
}

export async function startSpaStack(options: SpaStackOptions): Promise<SpaStack> {
  const closers: (() => Promise<void> | void)[] = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer();
  };
  try {
    const app = await serveAppPage(options.entry, options.settings, options.bodyHtml);
    closers.push(() => closeServer(app.server));
    const dataDir = mkdtempSync(path.join(tmpdir(), 'gh-spa-'));
    closers.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const config = { ...(options.https ? { https: true } : {}), identity: { userPools: [{ poolName: 'default', clients: [{ clientName: 'spa', ...options.spaClient(app.origin) }] }] } };
    const gatehouse = await startGatehouse({ dataDir, port: 0, logLevel: 'silent', config });
    closers.push(() => gatehouse.close());
    // Over --https, startGatehouse made this process trust its CA, so the admin SDK client reaches it too.
    const admin = new CognitoIdentityProviderClient({ endpoint: gatehouse.url, region: gatehouse.config.region, credentials: adminCredentials(gatehouse) });
    closers.push(() => admin.destroy());
    const browser = await launchBrowser({ args: options.https ? [`--ignore-certificate-errors-spki-list=${serverKeySpki(dataDir)}`] : [] });
    closers.push(() => browser.close());
    const pool = gatehouse.identity.pool('default')!;
    const clientId = pool.clients.find((client) => client.clientName === 'spa')!.clientId;
    return { gatehouse, dataDir, appOrigin: app.origin, userPoolId: pool.userPoolId, issuer: pool.issuer, clientId, admin, context: browser.context, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The SHA-256 of the server certificate's public key (base64), as Chromium's SPKI allow-list takes it. */
function serverKeySpki(dataDir: string): string {
  const certificate = new X509Certificate(readFileSync(path.join(dataDir, 'tls', 'server.pem')));
  return createHash('sha256').update(certificate.publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
}

/** What a `window.gatehouseTest` method of a test page resolves to: the library's result, or the error it threw. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; name: string; message: string };

/** Calls `window.gatehouseTest[method](...args)` in the page. */
export function callPage<T>(page: Page, method: string, ...args: unknown[]): Promise<Outcome<T>> {
  return page.evaluate(({ method, args }) => (window as unknown as { gatehouseTest: Record<string, (...a: unknown[]) => Promise<unknown>> }).gatehouseTest[method]!(...args), { method, args }) as Promise<Outcome<T>>;
}

/** Calls a page method that navigates away: its promise dies with the page's context, so it is not awaited. */
export function startNavigation(page: Page, method: string, ...args: unknown[]): void {
  callPage(page, method, ...args).catch(() => undefined);
}

/** The value of a call that must have succeeded; `library` names the client library in the failure. */
export function valueOf<T>(outcome: Outcome<T>, library: string): T {
  assert.ok(outcome.ok, `${library} call failed: ${JSON.stringify(outcome)}`);
  return outcome.value;
}
