import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { isConnectionFailure, redactText, tracingFetch } from '@gatehouse/core/agent-support';
import { AgentError } from './agent-error.ts';
import type { ToolSpec } from './model-provider.ts';
import { consentOutcome, consentRequest } from './consent-outcome.ts';

export interface ToolOutcome {
  readonly ok: boolean;
  /** Text the model reads back (the tool's text content, or its structured content as JSON). */
  readonly content: string;
  /** One line for the UI. */
  readonly summary: string;
  readonly result: unknown;
}

export interface GatewaySession {
  listTools(): Promise<readonly ToolSpec[]>;
  callTool(name: string, input: Record<string, unknown>): Promise<ToolOutcome>;
  close(): Promise<void>;
}

export interface GatewaySessionOptions {
  readonly url: string;
  /** The workload access token of this invocation; absent when the runtime gave none. */
  readonly workloadToken: string | undefined;
  readonly fetch?: typeof fetch;
}

const NO_TOKEN_FIX =
  'Invoke the agent through the Gatehouse runtime with a signed-in user (JWT), or, for a SigV4 runtime, send X-Amzn-Bedrock-AgentCore-Runtime-User-Id so the runtime can mint a workload token.';

/**
 * One MCP connection to the gateway per invocation, authenticated with that invocation's workload token
 * on every HTTP request. A new invocation opens a new connection, so a refreshed token takes effect at once,
 * and no connection outlives the token that opened it. Without a token nothing is sent at all.
 */
export function openGatewaySession(options: GatewaySessionOptions): GatewaySession {
  let client: Client | undefined;
  let transport: StreamableHTTPClientTransport | undefined;
  let connecting: Promise<Client> | undefined;
  let tools: readonly ToolSpec[] | undefined;

  function requireToken(): string {
    if (!options.workloadToken) {
      throw new AgentError('NoWorkloadToken', 'The runtime gave no workload token for this invocation, so the agent cannot call gateway tools on your behalf.', NO_TOKEN_FIX);
    }
    return options.workloadToken;
  }

  async function connect(): Promise<Client> {
    if (client) return client;
    connecting ??= (async () => {
      const token = requireToken();
      const opened = new StreamableHTTPClientTransport(new URL(options.url), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
        // Each MCP request carries the active span (the tool call's) as `traceparent`.
        fetch: tracingFetch(options.fetch ?? fetch),
      });
      // URL-mode elicitation declared: a tool that needs the user's consent at a SaaS answers -32042 with the link (consent-outcome.ts)
      const created = new Client({ name: 'gatehouse-reference-agent', version: '0.1.0' }, { capabilities: { elicitation: { url: {} } } });
      try {
        await created.connect(opened);
      } catch (error) {
        await opened.close().catch(() => undefined);
        throw translateGatewayError(error, options.url);
      }
      client = created;
      transport = opened;
      return created;
    })();
    try {
      return await connecting;
    } catch (error) {
      connecting = undefined;
      throw error;
    }
  }

  return {
    async listTools() {
      if (tools) return tools;
      const connected = await connect();
      const listed: ToolSpec[] = [];
      let cursor: string | undefined;
      try {
        do {
          const page = await connected.listTools(cursor ? { cursor } : {});
          for (const tool of page.tools) {
            listed.push({ name: tool.name, description: tool.description ?? '', inputSchema: tool.inputSchema as Record<string, unknown> });
          }
          cursor = page.nextCursor;
        } while (cursor);
      } catch (error) {
        throw translateGatewayError(error, options.url);
      }
      tools = listed;
      return listed;
    },
    async callTool(name, input) {
      const connected = await connect();
      let result: Awaited<ReturnType<Client['callTool']>>;
      try {
        result = await connected.callTool({ name, arguments: input });
      } catch (error) {
        const consent = consentOutcome(error);
        if (consent) return consent;
        throw translateGatewayError(error, options.url);
      }
      return toolOutcome(result);
    },
    async close() {
      const open = client;
      const openTransport = transport;
      client = undefined;
      transport = undefined;
      connecting = undefined;
      // Ends the MCP session on a stateful gateway (DELETE, same token) instead of leaving it to expire.
      if (openTransport?.sessionId) await openTransport.terminateSession().catch(() => undefined);
      if (open) await open.close().catch(() => undefined);
    },
  };
}

function toolOutcome(result: Record<string, unknown>): ToolOutcome {
  const content = Array.isArray(result.content) ? (result.content as Array<Record<string, unknown>>) : [];
  const text = content
    .filter((item) => item.type === 'text' && typeof item.text === 'string')
    .map((item) => item.text as string)
    .join('\n');
  const structured = result.structuredContent;
  const ok = result.isError !== true;
  let parsed: unknown = structured;
  if (parsed === undefined && text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  const modelText = text || (structured === undefined ? '' : JSON.stringify(structured));
  // clients before MCP 2025-11-25 get consent as a tool error: the same "Connect <provider>" for the chat
  const consent = ok ? undefined : consentRequest(structured);
  if (consent) return { ok, content: modelText, summary: `Connect ${consent.provider}`, result: consent };
  return { ok, content: modelText, summary: summarize(modelText, ok), result: parsed };
}

function summarize(text: string, ok: boolean): string {
  const line = redactText(text).replace(/\s+/g, ' ').trim();
  const short = line.length > 160 ? `${line.slice(0, 157)}…` : line;
  return short || (ok ? 'done (no output)' : 'failed (no details)');
}

/** The JSON-RPC error message in the body the MCP SDK quotes after "(HTTP nnn): ", redacted and bounded. */
function gatewayMessage(text: string): string | undefined {
  const start = text.indexOf('{');
  if (start < 0) return undefined;
  try {
    const body = JSON.parse(text.slice(start)) as { error?: { message?: unknown } };
    return typeof body.error?.message === 'string' ? redactText(body.error.message).slice(0, 400) : undefined;
  } catch {
    return undefined;
  }
}

/** MCP-level and HTTP-level gateway failures become typed errors that say what to check. */
export function translateGatewayError(error: unknown, url: string): AgentError {
  if (error instanceof AgentError) return error;
  if (error instanceof StreamableHTTPError) {
    if (error.code === 401) {
      return new AgentError('GatewayUnauthorized', `The gateway at ${url} refused the workload token (401).`, 'Sign in again; if it persists, check that the gateway trusts the issuer and audience of the tokens the runtime mints.', { cause: error });
    }
    if (error.code === 403) {
      // The gateway's own message names the actual cause (client not allowed, scope, audience, issuer…).
      const reason = gatewayMessage(error.message);
      return new AgentError(
        'GatewayUnauthorized',
        `The gateway at ${url} refused this user (403)${reason ? `: ${reason}` : '.'}`,
        reason ? 'Change what the gateway names above (its allowed clients, scopes or groups), or ask its administrator to.' : 'Check the gateway log line "caller refused" for the reason code.',
        { cause: error },
      );
    }
    return new AgentError('GatewayUnreachable', `The gateway at ${url} answered HTTP ${String(error.code)}.`, 'Check GATEHOUSE_GATEWAY_URL and the gateway logs.', { cause: error });
  }
  const message = error instanceof Error ? redactText(error.message) : 'unknown error';
  if (isConnectionFailure(error)) {
    return new AgentError('GatewayUnreachable', `Cannot reach the gateway at ${url}.`, 'Start the gateway (gatehouse up) or set GATEHOUSE_GATEWAY_URL to its MCP endpoint.', { cause: error });
  }
  return new AgentError('GatewayUnreachable', `The gateway call failed: ${message}`, 'Check the gateway logs for this request.', { cause: error });
}
