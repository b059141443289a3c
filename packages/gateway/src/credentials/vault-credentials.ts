import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { credentialProviderName, WireError } from '@gatehouse/core';
import type { Caller } from '../caller.ts';
import { ToolCallError } from '../gateway-error.ts';

/** The token vault as the gateway uses it (identity's `TokenVault`, in-process). */
export interface GatewayVault {
  token(request: {
    workload: string; user: { iss: string; sub: string } | undefined; provider: string; scopes: readonly string[]; flow: 'USER_FEDERATION' | 'M2M';
    returnUrl?: string | undefined; allowedReturnUrls: readonly string[];
  }): Promise<{ accessToken: string } | { authorizationUrl: string; sessionUri: string }>;
  apiKey(provider: string): Promise<string>;
}

/** What the user must open before the call can go on: MCP URL-mode elicitation's fields. */
export interface ConsentElicitation {
  readonly mode: 'url';
  readonly elicitationId: string;
  readonly url: string;
  readonly message: string;
  readonly provider: string;
}

/** The tool call needs the user's consent at a SaaS; the gateway answers with the consent link, the target is not called. */
export class ConsentRequiredError extends ToolCallError {
  readonly elicitation: ConsentElicitation;
  constructor(elicitation: ConsentElicitation) {
    super('ConsentRequired', `${elicitation.message} Open ${elicitation.url} and then ask again.`);
    this.elicitation = elicitation;
  }
}

/** The workload the vault keys tokens by: the agent's (a workload access token), else the gateway's own. */
function workloadOf(caller: Caller, gatewayName: string): string {
  const workload = caller.claims.workload_name;
  return typeof workload === 'string' ? workload : `gateway-${gatewayName}`;
}

/** The user as the vault keys them: `iss` + `sub` of the user's own sign-in (`user_iss` when a workload token names another issuer). */
function userOf(caller: Caller): { iss: string; sub: string } {
  const userIssuer = caller.claims.user_iss;
  return { iss: typeof userIssuer === 'string' ? userIssuer : caller.issuer, sub: caller.subject };
}

function unavailable(error: unknown, targetName: string): ToolCallError {
  if (error instanceof ToolCallError) return error;
  // the vault's refusals and "provider unreachable" (503) name what to do; anything else stays in the server log
  const reason = error instanceof WireError && (error.expose || error.status === 503) ? error.message : 'the token vault failed.';
  return new ToolCallError('CredentialsUnavailable', `Target ${targetName}: ${reason} The call was not sent.`);
}

/** OAUTH via a token-vault provider: the calling user's own token (AUTHORIZATION_CODE) or the workload's (CLIENT_CREDENTIALS). */
export async function vaultOAuthToken(
  vault: GatewayVault | undefined,
  request: { caller: Caller; gatewayName: string; targetName: string; settings: { providerArn?: string | undefined; grantType: string; scopes: readonly string[]; defaultReturnUrl?: string | undefined }; returnUrl: string },
): Promise<string> {
  const { caller, targetName, settings } = request;
  if (!vault) throw new ToolCallError('CredentialsUnavailable', `Target ${targetName} uses a token-vault provider, but this gateway runs without the identity component; the call was not sent`);
  const provider = credentialProviderName(settings.providerArn ?? '');
  const returnUrl = settings.defaultReturnUrl ?? request.returnUrl;
  let answer: Awaited<ReturnType<GatewayVault['token']>>;
  try {
    answer = await vault.token({
      workload: workloadOf(caller, request.gatewayName),
      user: settings.grantType === 'CLIENT_CREDENTIALS' ? undefined : userOf(caller),
      provider, scopes: settings.scopes, flow: settings.grantType === 'CLIENT_CREDENTIALS' ? 'M2M' : 'USER_FEDERATION',
      returnUrl, allowedReturnUrls: [returnUrl],
    });
  } catch (error) {
    throw unavailable(error, targetName);
  }
  if ('accessToken' in answer) return answer.accessToken;
  throw new ConsentRequiredError({
    mode: 'url', elicitationId: answer.sessionUri, url: answer.authorizationUrl, provider,
    message: `Connect ${provider}: tool target ${targetName} acts with your own ${provider} account, which is not connected yet.`,
  });
}

export async function vaultApiKey(vault: GatewayVault | undefined, providerArn: string, targetName: string): Promise<string> {
  if (!vault) throw new ToolCallError('CredentialsUnavailable', `Target ${targetName} uses a token-vault API key, but this gateway runs without the identity component; the call was not sent`);
  try {
    return await vault.apiKey(credentialProviderName(providerArn));
  } catch (error) {
    throw unavailable(error, targetName);
  }
}

/** A vault token a target (with `handTokenToAgent`) hands to the agent. */
export interface AgentToken {
  readonly provider: string;
  readonly accessToken: string;
}

/** Where in a tool result's `_meta` a handed-over token goes (MCP `_meta` keys take a reverse-DNS prefix). */
export const AGENT_TOKEN_META = 'dev.gatehouse/upstreamToken';

/**
 * The tool result with the vault token the call was made with, for a target that opted in (`handTokenToAgent`).
 * Without the opt-in this is never called and the agent never sees the token: the gateway only attaches it upstream.
 */
export function handTokenToAgent(result: CallToolResult, token: AgentToken): CallToolResult {
  return { ...result, _meta: { ...result._meta, [AGENT_TOKEN_META]: { provider: token.provider, accessToken: token.accessToken, tokenType: 'Bearer' } } };
}
