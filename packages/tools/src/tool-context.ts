import { z } from 'zod';
import { NO_USER_CREDENTIALS_MESSAGE, ToolError } from './tool-error.ts';

/** Temporary credentials the gateway derived for the calling user. */
export interface UserCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration?: Date;
}

export interface ToolCaller {
  readonly sub: string;
  readonly username: string;
  readonly groups: readonly string[];
  /** Undefined only in execution-role mode (a real Lambda with GATEHOUSE_TOOLS_USE_EXECUTION_ROLE=1). */
  readonly credentials: UserCredentials | undefined;
  /** False when no user was named at all (execution-role mode without context.identity): no session tags then. */
  readonly identified: boolean;
}

const contextSchema = z.object({
  clientContext: z.object({ custom: z.object({ bedrockAgentCoreToolName: z.string().optional() }).loose().optional() }).loose().nullish(),
  // AWS Lambda's Node runtime spells it `clientContext`; AgentCore's docs show the Python `client_context`.
  client_context: z.object({ custom: z.object({ bedrockAgentCoreToolName: z.string().optional() }).loose().optional() }).loose().nullish(),
  identity: z
    .object({
      sub: z.string().optional(),
      username: z.string().optional(),
      groups: z.array(z.string()).optional(),
      credentials: z
        .object({
          accessKeyId: z.string().min(16),
          secretAccessKey: z.string().min(1),
          sessionToken: z.string().min(1),
          expiration: z.union([z.date(), z.string(), z.number()]).optional(),
        })
        .nullish(),
    })
    .loose()
    .nullish(),
}).loose();

/** `target___tool` → `tool` (three underscores, as AgentCore prefixes tools). */
export function toolNameFrom(context: unknown): string {
  const parsed = contextSchema.safeParse(context ?? {});
  const name = parsed.success ? (parsed.data.clientContext?.custom?.bedrockAgentCoreToolName ?? parsed.data.client_context?.custom?.bedrockAgentCoreToolName) : undefined;
  if (!name) throw new ToolError('UnknownTool', 'The call carries no tool name (context.clientContext.custom.bedrockAgentCoreToolName)');
  const index = name.lastIndexOf('___');
  return index < 0 ? name : name.slice(index + 3);
}

/**
 * The calling user and the credentials the gateway derived for them. Without credentials the call fails
 * here, before any request, unless the deployment opted into the execution role (a real Lambda).
 */
export function callerFrom(context: unknown, useExecutionRole: boolean): ToolCaller {
  const parsed = contextSchema.safeParse(context ?? {});
  const identity = parsed.success ? parsed.data.identity : undefined;
  const credentials = identity?.credentials ?? undefined;
  if (!credentials && !useExecutionRole) throw new ToolError('NoUserCredentials', NO_USER_CREDENTIALS_MESSAGE);
  const sub = identity?.sub ?? (useExecutionRole ? 'execution-role' : undefined);
  if (!sub) throw new ToolError('NoUserCredentials', `${NO_USER_CREDENTIALS_MESSAGE} (no user in context.identity)`);
  const expiration = credentials?.expiration === undefined ? undefined : new Date(credentials.expiration);
  return {
    sub,
    username: identity?.username ?? sub,
    groups: identity?.groups ?? [],
    identified: identity?.sub !== undefined,
    credentials: credentials
      ? { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey, sessionToken: credentials.sessionToken, ...(expiration ? { expiration } : {}) }
      : undefined,
  };
}
