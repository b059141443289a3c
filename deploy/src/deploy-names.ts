/**
 * Names shared with the local stack (packages/cli default-config.ts); a test keeps the two in step.
 * Repeated here so the CDK app does not load the CLI (which loads every server component).
 */
export const DEFAULT_RUNTIME_NAME = 'ops_agent';
export const DEFAULT_GATEWAY_NAME = 'default';
export const OPS_TOOLS_FUNCTION = 'gatehouse:ops-tools';
export const OPS_TARGET_NAME = 'ops';
