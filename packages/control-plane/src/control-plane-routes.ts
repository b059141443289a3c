/** The `bedrock-agentcore-control` REST paths, as the SDK model declares them (a trailing slash is optional). */
const ROUTES: readonly (readonly [method: string, template: string, operation: string])[] = [
  ['PUT', '/runtimes/', 'CreateAgentRuntime'],
  ['POST', '/runtimes/', 'ListAgentRuntimes'],
  ['GET', '/runtimes/{agentRuntimeId}/', 'GetAgentRuntime'],
  ['PUT', '/runtimes/{agentRuntimeId}/', 'UpdateAgentRuntime'],
  ['DELETE', '/runtimes/{agentRuntimeId}/', 'DeleteAgentRuntime'],
  ['POST', '/runtimes/{agentRuntimeId}/versions/', 'ListAgentRuntimeVersions'],
  ['PUT', '/runtimes/{agentRuntimeId}/runtime-endpoints/', 'CreateAgentRuntimeEndpoint'],
  ['POST', '/runtimes/{agentRuntimeId}/runtime-endpoints/', 'ListAgentRuntimeEndpoints'],
  ['GET', '/runtimes/{agentRuntimeId}/runtime-endpoints/{endpointName}/', 'GetAgentRuntimeEndpoint'],
  ['PUT', '/runtimes/{agentRuntimeId}/runtime-endpoints/{endpointName}/', 'UpdateAgentRuntimeEndpoint'],
  ['DELETE', '/runtimes/{agentRuntimeId}/runtime-endpoints/{endpointName}/', 'DeleteAgentRuntimeEndpoint'],
  ['POST', '/gateways/', 'CreateGateway'],
  ['GET', '/gateways/', 'ListGateways'],
  ['GET', '/gateways/{gatewayIdentifier}/', 'GetGateway'],
  ['PUT', '/gateways/{gatewayIdentifier}/', 'UpdateGateway'],
  ['DELETE', '/gateways/{gatewayIdentifier}/', 'DeleteGateway'],
  ['POST', '/gateways/{gatewayIdentifier}/targets/', 'CreateGatewayTarget'],
  ['GET', '/gateways/{gatewayIdentifier}/targets/', 'ListGatewayTargets'],
  ['GET', '/gateways/{gatewayIdentifier}/targets/{targetId}/', 'GetGatewayTarget'],
  ['PUT', '/gateways/{gatewayIdentifier}/targets/{targetId}/', 'UpdateGatewayTarget'],
  ['DELETE', '/gateways/{gatewayIdentifier}/targets/{targetId}/', 'DeleteGatewayTarget'],
  ['PUT', '/gateways/{gatewayIdentifier}/synchronizeTargets', 'SynchronizeGatewayTargets'],
  ['POST', '/identities/get-token-vault', 'GetTokenVault'],
  ...[
    'CreateWorkloadIdentity', 'GetWorkloadIdentity', 'UpdateWorkloadIdentity', 'DeleteWorkloadIdentity', 'ListWorkloadIdentities',
    'CreateOauth2CredentialProvider', 'GetOauth2CredentialProvider', 'UpdateOauth2CredentialProvider', 'DeleteOauth2CredentialProvider', 'ListOauth2CredentialProviders',
    'CreateApiKeyCredentialProvider', 'GetApiKeyCredentialProvider', 'UpdateApiKeyCredentialProvider', 'DeleteApiKeyCredentialProvider', 'ListApiKeyCredentialProviders',
  ].map((operation) => ['POST', `/identities/${operation}`, operation] as const),
];

export interface MatchedRoute {
  readonly operation: string;
  /** Path parameters as sent (still percent-encoded). */
  readonly rawParams: Readonly<Record<string, string>>;
}

interface CompiledRoute {
  readonly method: string;
  readonly pattern: RegExp;
  readonly names: readonly string[];
  readonly operation: string;
}

const compiled: readonly CompiledRoute[] = ROUTES.map(([method, template, operation]) => {
  const names: string[] = [];
  const source = template
    .replace(/\/$/, '')
    .split('/')
    .map((segment) => {
      const name = /^\{(\w+)\}$/.exec(segment)?.[1];
      if (!name) return segment.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
      names.push(name);
      return '([^/]+)';
    })
    .join('/');
  return { method, pattern: new RegExp(`^${source}/?$`), names, operation };
});

/**
 * The control-plane operation a request names, or undefined, so the data plane keeps every other path
 * (`/runtimes/{arn}/invocations|ws|stopruntimesession`, `/gateways/{name}/mcp`, `/identities/GetWorkloadAccessToken…`).
 */
export function matchRoute(method: string, pathname: string): MatchedRoute | undefined {
  for (const route of compiled) {
    if (route.method !== method) continue;
    const match = route.pattern.exec(pathname);
    if (!match) continue;
    const rawParams: Record<string, string> = {};
    route.names.forEach((name, index) => {
      rawParams[name] = match[index + 1] ?? '';
    });
    return { operation: route.operation, rawParams };
  }
  return undefined;
}

export const CONTROL_PLANE_OPERATIONS: readonly string[] = [...new Set(ROUTES.map(([, , operation]) => operation))];
