import { z } from 'zod';
import type { ChatProtocol } from './turn-codec.ts';

/** `GET /config.json`: the public settings the server hands the app (DESIGN). Nothing here is secret. */
const webSettingsSchema = z.object({
  region: z.string().min(1),
  userPoolId: z.string().min(1),
  clientId: z.string().min(1),
  issuer: z.string().url(),
  authority: z.string().url().optional(),
  runtimeArn: z.string().min(1),
  gatewayUrl: z.string().optional(),
  /** On AWS the hosted endpoints live on the pool's domain, not the issuer's host (written by `gatehouse deploy`). */
  oauthBase: z.string().url().optional(),
  /** On AWS the runtime is AgentCore's regional endpoint, not the issuer's origin (written by `gatehouse deploy`). */
  runtimeEndpoint: z.string().url().optional(),
  /** The runtime's `protocolConfiguration.serverProtocol`; the chat speaks HTTP (the default) and AGUI. */
  runtimeProtocol: z.enum(['HTTP', 'AGUI'], { message: 'must be HTTP or AGUI: the chat talks to HTTP and AG-UI runtimes, not MCP or A2A ones' }).default('HTTP'),
});

export interface WebSettings {
  readonly region: string;
  readonly userPoolId: string;
  readonly clientId: string;
  /** OIDC issuer, `{base}/{userPoolId}`; discovery lives under it. */
  readonly issuer: string;
  /** Where the hosted endpoints (`/oauth2/*`, `/logout`) live: the issuer without the pool segment. */
  readonly oauthBase: string;
  readonly runtimeArn: string;
  /** `{origin}/runtimes/{encoded ARN}` — append `/invocations` or `/ws`. */
  readonly runtimeBase: string;
  /** How the chat talks to the runtime: the agent's own events (HTTP) or AG-UI events (AGUI). */
  readonly runtimeProtocol: ChatProtocol;
  /** The app's own address, used as redirect and logout URI. */
  readonly appUrl: string;
}

export class SettingsError extends Error {
  readonly code = 'settings_invalid';
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

/** Fetches and checks `/config.json`; a bad file is a deployment mistake, so the message names the field. */
export async function loadWebSettings(appUrl: string, fetcher: typeof fetch = fetch): Promise<WebSettings> {
  let response: Response;
  try {
    response = await fetcher(new URL('/config.json', appUrl), { headers: { accept: 'application/json' }, cache: 'no-store' });
  } catch {
    throw new SettingsError('Could not reach the server for /config.json. Check that Gatehouse is running, then reload.');
  }
  if (!response.ok) throw new SettingsError(`/config.json answered ${response.status}. The server may still be starting; reload in a moment.`);
  const parsed = webSettingsSchema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SettingsError(`/config.json is missing or has a bad "${issue?.path.join('.') ?? '?'}": ${issue?.message ?? 'invalid'}.`);
  }
  const raw = parsed.data;
  const issuer = raw.authority ?? raw.issuer;
  const oauthBase = (raw.oauthBase ?? (issuer.endsWith(`/${raw.userPoolId}`) ? issuer.slice(0, -raw.userPoolId.length - 1) : new URL(issuer).origin)).replace(/\/+$/, '');
  const runtimeOrigin = new URL(raw.runtimeEndpoint ?? oauthBase).origin;
  return {
    region: raw.region,
    userPoolId: raw.userPoolId,
    clientId: raw.clientId,
    issuer,
    oauthBase,
    runtimeArn: raw.runtimeArn,
    runtimeProtocol: raw.runtimeProtocol,
    runtimeBase: `${runtimeOrigin}/runtimes/${encodeURIComponent(raw.runtimeArn)}`,
    appUrl,
  };
}
