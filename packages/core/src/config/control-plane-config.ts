import { z } from 'zod';

/**
 * Settings of the AgentCore control plane (`bedrock-agentcore-control`) that AWS's API cannot carry: what local
 * programs and functions it may point runtimes and gateway targets at, its per-caller request rate, and its quotas.
 */
export const controlPlaneSchema = z.strictObject({
  /**
   * Directories whose programs CreateAgentRuntime / UpdateAgentRuntime may run as agents through Gatehouse's
   * `gatehouseAgent: {command: […]}` (absolute, or relative to the working directory Gatehouse starts in).
   * Empty (the default): local commands are refused through the API.
   */
  commandRoots: z.array(z.string().min(1)).default([]),
  /**
   * Local functions that gateway targets' `targetConfiguration.mcp.lambda.lambdaArn` may name, by function name
   * (`arn:aws:lambda:{region}:{account}:function:{name}`): a module exporting a Lambda-style `handler(event, context)`
   * (relative to the directory Gatehouse starts in) or a built-in (`gatehouse:ops-tools`).
   */
  functions: z.record(z.string().regex(/^[a-zA-Z0-9-_]{1,64}$/, 'a Lambda function name: letters, digits, - and _ (at most 64)'), z.strictObject({ module: z.string().min(1), handler: z.string().default('handler') })).default({}),
  /** How long a runtime's new version (command or code zip) has to answer GET /ping before it is CREATE_FAILED / UPDATE_FAILED. */
  startTimeoutSeconds: z.number().positive().max(600).default(15),
  /** Requests per second one caller (access key's principal) may make; above it, ThrottlingException. */
  requestsPerSecondPerCaller: z.number().positive().default(25),
  /** How many requests above the rate a caller may make at once. */
  burstPerCaller: z.number().int().positive().default(50),
  /** Resource counts; a Create over one is refused with ServiceQuotaExceededException. */
  quotas: z
    .strictObject({
      agentRuntimes: z.number().int().positive().default(1000),
      endpointsPerRuntime: z.number().int().positive().default(10),
      gateways: z.number().int().positive().default(1000),
      targetsPerGateway: z.number().int().positive().default(100),
      workloadIdentities: z.number().int().positive().default(1000),
      credentialProviders: z.number().int().positive().default(1000),
    })
    .default({ agentRuntimes: 1000, endpointsPerRuntime: 10, gateways: 1000, targetsPerGateway: 100, workloadIdentities: 1000, credentialProviders: 1000 }),
});

export type ControlPlaneConfig = z.infer<typeof controlPlaneSchema>;

export const DEFAULT_CONTROL_PLANE_CONFIG: ControlPlaneConfig = controlPlaneSchema.parse({});
