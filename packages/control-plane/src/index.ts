export { createControlPlane, NO_GATEWAY_COMPONENT } from './create-control-plane.ts';
export type { ControlPlaneDeps, ControlPlaneService } from './create-control-plane.ts';
export { ControlPlaneError } from './control-plane-error.ts';
export type { ControlPlaneErrorCode } from './control-plane-error.ts';
export { CONTROL_PLANE_OPERATIONS } from './control-plane-routes.ts';
export { RUNTIME_NOT_SERVED } from './runtime-operations.ts';
export type { RuntimeHost, WorkloadAnnouncement } from './runtime-serving.ts';
export type { CodeProbe, CodeSource } from './code-artifact.ts';
export type { GatewayHost } from './gateway-serving.ts';
