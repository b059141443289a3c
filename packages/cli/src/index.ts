export { startGatehouse } from './start-gatehouse.ts';
export type { StartOptions, RunningGatehouse, ComponentName } from './start-gatehouse.ts';
export { main } from './main.ts';
export { withDefaults, pickModelEnvironment, DEFAULT_RUNTIME_NAME, DEFAULT_GATEWAY_NAME, OPS_TOOLS_FUNCTION, OPS_TARGET_NAME } from './default-config.ts';
export type { WebSettings } from './web-component.ts';
export type { DefaultsFacts, DefaultPoolFacts } from './default-config.ts';
