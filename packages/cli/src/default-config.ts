import type { GatehouseConfig, GatewayConfig, RuntimeConfig } from '@gatehouse/core';

/** What the defaults need to know about the running identity service. */
export interface DefaultPoolFacts {
  readonly discoveryUrl: string;
  readonly webClientId: string;
}

export const DEFAULT_RUNTIME_NAME = 'ops_agent';
export const DEFAULT_GATEWAY_NAME = 'default';
/** Function-target name under which `gatehouse up` registers the built-in ops tools. */
export const OPS_TOOLS_FUNCTION = 'gatehouse:ops-tools';
export const OPS_TARGET_NAME = 'ops';

/**
 * Fills in the runtime and gateway that `gatehouse up` runs when the config declares none
 * (DESIGN: declaring `runtimes` or `gateways` replaces the default ones).
 */
export function withDefaults(
  config: Readonly<GatehouseConfig>,
  pool: DefaultPoolFacts,
  baseUrl: string,
  agentCommand: readonly string[],
): GatehouseConfig {
  const jwt = { customJWTAuthorizer: { discoveryUrl: pool.discoveryUrl, allowedClients: [pool.webClientId] } };
  // Every spawned agent learns where the default gateway is and which model to use, unless its
  // own environment says otherwise (the reference agent reads these; others may ignore them).
  const agentEnvironment = {
    GATEHOUSE_GATEWAY_URL: `${baseUrl}/mcp`,
    GATEHOUSE_MODEL: JSON.stringify(config.model),
  };
  const declared: RuntimeConfig[] = config.runtimes
    ? [...config.runtimes]
    : [
        {
          agentRuntimeName: DEFAULT_RUNTIME_NAME,
          description: 'Reference operations agent (offline planner unless a model is configured)',
          agent: { command: [...agentCommand], env: {} },
          authorizerConfiguration: jwt,
          allowedOrigins: [new URL(baseUrl).origin],
          lifecycleConfiguration: { idleRuntimeSessionTimeout: 900, maxLifetime: 28_800 },
          environmentVariables: {},
          workloadIdentity: { mode: 'token-exchange' },
          limits: {
            maxConcurrentSessions: 100,
            maxPayloadBytes: 100_000_000,
            startTimeoutSeconds: 30,
            requestsPerMinutePerPrincipal: 600,
            warmPoolSize: 1,
            websocket: { maxFrameBytes: 65_536, maxFramesPerSecond: 250, maxConnectionSeconds: 3600 },
          },
        },
      ];
  const runtimes = declared.map((runtime) => ({ ...runtime, environmentVariables: { ...agentEnvironment, ...runtime.environmentVariables } }));
  const gateways: GatewayConfig[] = config.gateways
    ? [...config.gateways]
    : [
        {
          name: DEFAULT_GATEWAY_NAME,
          description: 'Multi-account operations tools',
          authorizerConfiguration: jwt,
          allowedOrigins: [new URL(baseUrl).origin],
          exposeUnprefixed: false,
          policy: { mode: 'ENFORCE' },
          targets: [
            {
              name: OPS_TARGET_NAME,
              description: 'Account registry, read-only AWS calls and bucket tools, acting with the caller’s derived credentials',
              targetConfiguration: { mcp: { lambda: { module: OPS_TOOLS_FUNCTION, handler: 'handler' } } },
              credentialProviderConfigurations: [
                {
                  credentialProviderType: 'GATEWAY_IAM_ROLE',
                  iamCredentialProvider: {
                    service: 'sts',
                    roleArn: `arn:aws:iam::${config.accountId}:role/GatehouseToolsBridge`,
                    webIdentity: true,
                  },
                },
              ],
              timeoutSeconds: 30,
              maxConcurrency: 16,
            },
          ],
          limits: { maxRequestBytes: 6_000_000, requestsPerMinutePerPrincipal: 1200 },
        },
      ];
  return { ...config, runtimes, gateways };
}
