import { UrlElicitationRequiredError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/** The first MCP revision with URL-mode elicitation (URLElicitationRequiredError, -32042). */
const URL_ELICITATION_VERSION = '2025-11-25';

/**
 * A consent-required tool result becomes URLElicitationRequired (-32042, `{elicitations: [{mode: 'url', …}]}`)
 * for clients on MCP 2025-11-25 and later; older clients keep the tool error that names the link.
 */
export function elicitConsent(result: CallToolResult, protocolVersion: string | string[] | undefined): CallToolResult {
  const structured = result.structuredContent as { error?: unknown; message?: unknown; elicitation?: unknown } | undefined;
  if (structured?.error !== 'ConsentRequired' || !structured.elicitation) return result;
  const version = protocolVersion;
  if (typeof version !== 'string' || version < URL_ELICITATION_VERSION) return result;
  const elicitation = structured.elicitation as { mode: 'url'; elicitationId: string; url: string; message: string };
  throw new UrlElicitationRequiredError([elicitation], typeof structured.message === 'string' ? structured.message : elicitation.message);
}
