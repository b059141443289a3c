import { UrlElicitationRequiredError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/** The first MCP revision with URL-mode elicitation (URLElicitationRequiredError, -32042). */
const URL_ELICITATION_VERSION = '2025-11-25';

/** What the gateway knows of the client: its `Mcp-Protocol-Version` and whether its `initialize` declared `capabilities.elicitation.url`. */
export interface ElicitationSupport {
  readonly protocolVersion: string | string[] | undefined;
  readonly urlDeclared: boolean;
}

/** Whether an `initialize` request's params declare URL-mode elicitation (`capabilities.elicitation.url`, an object). */
export function declaresUrlElicitation(initializeParams: unknown): boolean {
  const capabilities = (initializeParams as { capabilities?: { elicitation?: { url?: unknown } } } | undefined)?.capabilities;
  const url = capabilities?.elicitation?.url;
  return typeof url === 'object' && url !== null && !Array.isArray(url);
}

/**
 * A consent-required tool result becomes URLElicitationRequired (-32042, `{elicitations: [{mode: 'url', …}]}`)
 * for clients on MCP 2025-11-25 or later that declared `capabilities.elicitation.url` at initialize (the spec
 * lets a server send this error only to them); every other client keeps the tool error that names the link.
 */
export function elicitConsent(result: CallToolResult, support: ElicitationSupport): CallToolResult {
  const structured = result.structuredContent as { error?: unknown; message?: unknown; elicitation?: unknown } | undefined;
  if (structured?.error !== 'ConsentRequired' || !structured.elicitation) return result;
  const version = support.protocolVersion;
  if (!support.urlDeclared || typeof version !== 'string' || version < URL_ELICITATION_VERSION) return result;
  const elicitation = structured.elicitation as { mode: 'url'; elicitationId: string; url: string; message: string };
  throw new UrlElicitationRequiredError([elicitation], typeof structured.message === 'string' ? structured.message : elicitation.message);
}
