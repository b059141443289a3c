import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { ToolOutcome } from './gateway-session.ts';

/** What the chat needs to show "Connect <provider>": the provider, the consent URL and the gateway's elicitation id. */
export interface ConsentRequest {
  readonly error: 'ConsentRequired';
  readonly provider: string;
  readonly elicitation: { readonly mode: 'url'; readonly elicitationId: string; readonly url: string; readonly message: string };
}

/** The consent a tool result or a URLElicitationRequired (-32042) error asks for, when it is one. */
export function consentRequest(value: unknown): ConsentRequest | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const elicitation = (value as { elicitation?: unknown }).elicitation ?? (value as { elicitations?: unknown[] }).elicitations?.[0];
  if (!elicitation || typeof elicitation !== 'object') return undefined;
  const { mode, elicitationId, url, message, provider } = elicitation as Record<string, unknown>;
  if (mode !== 'url' || typeof elicitationId !== 'string' || typeof url !== 'string' || typeof message !== 'string' || !/^https?:\/\//.test(url)) return undefined;
  const name = typeof provider === 'string' ? provider : typeof (value as { provider?: unknown }).provider === 'string' ? ((value as { provider: string }).provider) : new URL(url).host;
  return { error: 'ConsentRequired', provider: name, elicitation: { mode, elicitationId, url, message } };
}

/**
 * MCP 2025-11-25 URL-mode elicitation from the gateway: the tool needs the user's consent at a SaaS first.
 * It becomes a failed tool result (so the turn goes on and the model can say so) whose `result` carries
 * the link for the chat's "Connect <provider>" button. Other errors are not this function's business.
 */
export function consentOutcome(error: unknown): ToolOutcome | undefined {
  if (!(error instanceof McpError) || error.code !== ErrorCode.UrlElicitationRequired) return undefined;
  const consent = consentRequest(error.data);
  if (!consent) return undefined;
  return {
    ok: false,
    content: `${consent.elicitation.message} The user has been shown a "Connect ${consent.provider}" link; after they connect, they can ask again. Do not call the tool again now.`,
    summary: `Connect ${consent.provider}`,
    result: consent,
  };
}
