/** An MCP tool as a target declares it (before the gateway prefixes its name). */
export interface ToolDefinition {
  readonly name: string;
  readonly title?: string;
  readonly description?: string;
  readonly inputSchema: { readonly type: 'object'; readonly properties?: Readonly<Record<string, unknown>>; readonly required?: readonly string[]; readonly [key: string]: unknown };
  readonly outputSchema?: Readonly<Record<string, unknown>>;
  readonly annotations?: Readonly<Record<string, unknown>>;
}

/** Temporary AWS credentials handed to a function target for the calling user only. */
export interface LambdaCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}

/**
 * Gatehouse's Lambda context contract: AWS Lambda's `context` fields a tool needs, plus the verified
 * caller in `identity` (derived from the gateway's verified token, never from the request body).
 */
export interface LambdaContext {
  readonly functionName: string;
  readonly awsRequestId: string;
  getRemainingTimeInMillis(): number;
  readonly clientContext: {
    readonly custom: { readonly bedrockAgentCoreToolName: string; readonly bedrockAgentCoreGatewayName: string; readonly bedrockAgentCoreTargetName: string };
  };
  readonly identity: {
    readonly sub: string;
    readonly username: string;
    readonly groups: string[];
    readonly scopes: string[];
    readonly credentials?: LambdaCredentials;
  };
}

export type LambdaHandler = (event: unknown, context: LambdaContext) => Promise<unknown>;
