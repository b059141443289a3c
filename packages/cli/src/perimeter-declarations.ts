import type { GatehouseConfig } from '@gatehouse/core';
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
  if (base.runtimes === undefined) {
    declarations.set(`runtime:${DEFAULT_RUNTIME_NAME}`, { allowedOrigins: [ownOrigin], poolClients: defaultPoolId });
  } else {
    for (const runtime of base.runtimes) {
      declarations.set(`runtime:${runtime.agentRuntimeName}`, {
        allowedClients: runtime.authorizerConfiguration?.customJWTAuthorizer.allowedClients,
        allowedOrigins: [...runtime.allowedOrigins, ownOrigin],
      });
    }
  }
  if (base.gateways === undefined) {
    declarations.set(`gateway:${DEFAULT_GATEWAY_NAME}`, { allowedOrigins: [ownOrigin], poolClients: defaultPoolId });
  } else {
    for (const gateway of base.gateways) {
      declarations.set(`gateway:${gateway.name}`, {
        allowedClients: gateway.authorizerConfiguration?.customJWTAuthorizer.allowedClients,
        allowedOrigins: [...gateway.allowedOrigins, ownOrigin],
      });
    }
  }
  return declarations;
}
