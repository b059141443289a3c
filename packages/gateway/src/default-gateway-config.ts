import { gatewaySchema, type GatewayConfig } from '@gatehouse/core';

/**
 * The `default` gateway at `/mcp` with one function target (e.g. the ops tools registered in
 * `GatewayDeps.functions` under `functionName`), its tools exposed as `{targetName}___{tool}`.
 * Credentials: GATEWAY_IAM_ROLE per user when `roleArn` is given, else NONE.
 */
export function defaultGatewayConfig(options: {
  discoveryUrl: string;
  allowedClients?: string[];
  allowedAudience?: string[];
  functionName: string;
  targetName?: string;
  roleArn?: string;
  webIdentity?: boolean;
}): GatewayConfig {
  const jwt: Record<string, unknown> = { discoveryUrl: options.discoveryUrl };
  if (options.allowedClients) jwt.allowedClients = options.allowedClients;
  if (options.allowedAudience) jwt.allowedAudience = options.allowedAudience;
  return gatewaySchema.parse({
    name: 'default',
    authorizerConfiguration: { customJWTAuthorizer: jwt },
    targets: [
      {
        name: options.targetName ?? 'ops',
        targetConfiguration: { mcp: { lambda: { module: options.functionName } } },
        credentialProviderConfigurations: [
          options.roleArn
            ? { credentialProviderType: 'GATEWAY_IAM_ROLE', iamCredentialProvider: { service: 'sts', roleArn: options.roleArn, webIdentity: options.webIdentity ?? false } }
            : { credentialProviderType: 'NONE' },
        ],
      },
    ],
  });
}
