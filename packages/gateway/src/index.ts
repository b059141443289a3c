export { createGateway, gatewayPaths } from './create-gateway.ts';
export type { GatewayService, GatewayDeps } from './create-gateway.ts';
export { gatewayCommands } from './gateway-commands.ts';
export { DEFAULT_POLICIES } from './policy-engine.ts';
export { SEARCH_TOOL_NAME } from './search-tools.ts';
export type { LambdaContext, LambdaCredentials, LambdaHandler, ToolDefinition } from './tool-definition.ts';
export { AUDIT_MIGRATIONS } from './audit-log.ts';
