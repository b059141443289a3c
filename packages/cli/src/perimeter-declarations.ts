import type { GatehouseConfig, GatewayConfig } from '@gatehouse/core';
import type { PerimeterDeclaration, PerimeterResource } from '@gatehouse/identity';
import { DEFAULT_GATEWAY_NAME, DEFAULT_RUNTIME_NAME } from './default-config.ts';

/**
 * What each runtime and gateway accepts before any `gatehouse perimeter` change, from the config as
 * written (before defaults): the runtime and gateway Gatehouse makes when the config declares none
 * accept every app client of the default pool and the origins of their callback URLs; declared
 * ones follow their own `allowedClients` and `allowedOrigins`. Gatehouse's own origin is always allowed.
 */
export function perimeterDeclarations(base: Readonly<GatehouseConfig>, defaultPoolId: string, baseUrl: string): Map<PerimeterResource, PerimeterDeclaration> {
  const ownOrigin = new URL(baseUrl).origin;
  const declarations = new Map<PerimeterResource, PerimeterDeclaration>();
  const declare = (kind: 'runtime' | 'gateway', defaultName: string, declared: readonly DeclaredResource[] | undefined): void => {
    if (declared === undefined) {
      declarations.set(`${kind}:${defaultName}`, { allowedOrigins: [ownOrigin], poolClients: defaultPoolId });
      return;
    }
    for (const resource of declared) {
      declarations.set(`${kind}:${resource.name}`, {
        allowedClients: resource.authorizerConfiguration?.customJWTAuthorizer.allowedClients,
        allowedOrigins: [...resource.allowedOrigins, ownOrigin],
      });
    }
  };
  declare('runtime', DEFAULT_RUNTIME_NAME, base.runtimes?.map((runtime) => ({ ...runtime, name: runtime.agentRuntimeName })));
  declare('gateway', DEFAULT_GATEWAY_NAME, base.gateways);
  return declarations;
}

type DeclaredResource = Pick<GatewayConfig, 'name' | 'authorizerConfiguration' | 'allowedOrigins'>;
