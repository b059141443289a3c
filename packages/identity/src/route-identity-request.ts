import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@gatehouse/core';
import type { SigV4Verifier } from '@gatehouse/auth';
import type { IdentityContext } from './identity-context.ts';
import { answerCognitoPreflight, handleCognito, isCognitoPreflight, isCognitoRequest } from './cognito-api.ts';
import { handleDiscovery } from './discovery-routes.ts';
import { handleAgentCoreIdentity, isAgentCoreIdentityRequest } from './agentcore-identity-api.ts';
import { handleOAuth } from './oauth-routes.ts';
import { handleVaultRoute } from './vault/vault-routes.ts';
import type { VaultOperationDeps } from './vault/vault-operations.ts';

/** What identity's surfaces need to answer: the shared context, the vault and one SigV4 verifier per service. */
export interface IdentityRoutes {
  readonly context: IdentityContext;
  readonly vaultDeps: VaultOperationDeps;
  readonly logger: Logger;
  /** `cognito-idp`, for Cognito's admin operations. */
  readonly cognitoSigV4: SigV4Verifier;
  /** `bedrock-agentcore`, for the AgentCore Identity data plane. */
  readonly agentCoreSigV4: SigV4Verifier;
}

/** In order: AgentCore Identity (vault callbacks first), Cognito preflight, Cognito JSON, discovery, OAuth and hosted pages. */
export async function routeIdentityRequest(routes: IdentityRoutes, request: IncomingMessage, response: ServerResponse, url: URL): Promise<boolean> {
  const { context, vaultDeps, logger } = routes;
  if (isAgentCoreIdentityRequest(url)) {
    if (await handleVaultRoute({ context, vault: vaultDeps.vault, logger }, request, response, url)) return true;
    await handleAgentCoreIdentity({ deps: vaultDeps, sigV4: routes.agentCoreSigV4, logger }, request, response, url);
    return true;
  }
  if (isCognitoPreflight(request, url)) {
    answerCognitoPreflight(response);
    return true;
  }
  if (isCognitoRequest(request, url)) {
    await handleCognito(context, routes.cognitoSigV4, request, response);
    return true;
  }
  if (await handleDiscovery(context, request.method ?? 'GET', url, response)) return true;
  return handleOAuth(context, request, response, url);
}
