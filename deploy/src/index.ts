export { synthesizeApp, REPO_ROOT, TOOLS_LAMBDA_ENTRY, DEFAULT_WEB_DIST } from './synthesize-app.ts';
export type { SynthesizeOptions, SynthesizedApp, StackNames } from './synthesize-app.ts';
export { planDeployment, REFERENCE_AGENT_DOCKERFILE } from './deploy-plan.ts';
export type { DeployPlan, PlannedRuntime, PlannedGateway, PlannedTarget, PlannedAuthorizer } from './deploy-plan.ts';
export { DeployConfigError } from './deploy-error.ts';
export { TOOLS_HANDLER } from './tools-stack.ts';
export { DEFAULT_RUNTIME_NAME, DEFAULT_GATEWAY_NAME, OPS_TOOLS_FUNCTION, OPS_TARGET_NAME } from './deploy-names.ts';
export { deployCommand, hasAwsCredentials } from './deploy-command.ts';
