import { z } from 'zod';
import { authorizerConfigurationSchema } from './authorizer-config.ts';

const headerName = z.string().min(1).max(256);

/** AgentCore's `protocolConfiguration.serverProtocol`: what the agent speaks behind `/invocations` (REFERENCE §1.6). */
export const serverProtocolSchema = z.enum(['HTTP', 'MCP', 'A2A', 'AGUI']);

export const agentSourceSchema = z.union([
  z.strictObject({
    command: z.array(z.string().min(1)).min(1),
    cwd: z.string().optional(),
    env: z.record(z.string(), z.string()).default({}),
  }),
  z.strictObject({ url: z.string().url() }),
]);

/**
 * How each session's agent process is isolated. `namespace`: its own network, mount and pid
 * namespaces (Linux; root or unprivileged user namespaces), so every session's agent can bind the
 * same fixed port; `none`: agents share the host and must listen on the `PORT` Gatehouse sets;
 * `auto` (default): namespaces where the host allows them, else none.
 */
export const isolationSchema = z
  .strictObject({
    mode: z.enum(['auto', 'namespace', 'none']).default('auto'),
    /** The port the agent listens on inside its namespace; default the protocol's (AgentCore: 8080 HTTP/AGUI, 8000 MCP, 9000 A2A). */
    agentPort: z.number().int().min(1).max(65_535).optional(),
    /** Host ports outside the namespace the agent may reach, as `host:port`; each appears at 127.0.0.1:{port} inside. Gatehouse's own port always does. */
    egress: z.array(z.string().regex(/^[A-Za-z0-9.-]{1,253}:\d{1,5}$/, 'must be host:port')).max(32).default([]),
  })
  .default({ mode: 'auto', egress: [] });

export const runtimeSchema = z
  .strictObject({
    agentRuntimeName: z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]{0,47}$/, 'must start with a letter; letters, digits and _ only, ≤ 48 chars'),
    description: z.string().optional(),
    agent: agentSourceSchema,
    authorizerConfiguration: authorizerConfigurationSchema.optional(),
    allowedOrigins: z.array(z.string().url()).default([]),
    requestHeaderConfiguration: z
      .strictObject({ requestHeaderAllowlist: z.array(headerName).min(1).max(20) })
      .optional(),
    lifecycleConfiguration: z
      .strictObject({
        idleRuntimeSessionTimeout: z.number().int().min(60).max(28_800).default(900),
        maxLifetime: z.number().int().min(60).max(28_800).default(28_800),
      })
      .refine((value) => value.idleRuntimeSessionTimeout <= value.maxLifetime, 'idleRuntimeSessionTimeout must not exceed maxLifetime')
      .default({ idleRuntimeSessionTimeout: 900, maxLifetime: 28_800 }),
    environmentVariables: z.record(z.string(), z.string()).default({}),
    protocolConfiguration: z.strictObject({ serverProtocol: serverProtocolSchema.default('HTTP') }).default({ serverProtocol: 'HTTP' }),
    isolation: isolationSchema,
    /** How the agent gets a credential for the gateway: a token minted by exchange (default) or, opt-in, the user's own token. */
    workloadIdentity: z
      .strictObject({ mode: z.enum(['token-exchange', 'passthrough']).default('token-exchange'), audience: z.string().optional() })
      .default({ mode: 'token-exchange' }),
    limits: z
      .strictObject({
        maxConcurrentSessions: z.number().int().positive().default(100),
        /** One principal's share of maxConcurrentSessions (the smaller of the two applies), so one user cannot lock everyone out. */
        maxConcurrentSessionsPerPrincipal: z.number().int().positive().default(10),
        /**
         * Data-segment limit (RLIMIT_DATA) of each spawned agent process, in MiB; 0 turns it off. Applied on
         * Linux only (through `sh -c 'ulimit -d'`); elsewhere agents run without it.
         */
        maxAgentMemoryMiB: z.number().int().refine((value) => value === 0 || value >= 64, 'must be 0 (no limit) or at least 64 MiB').default(1024),
        maxPayloadBytes: z.number().int().positive().max(100_000_000).default(100_000_000),
        /** Nesting levels of a payload sent as JSON; deeper → 400 ValidationException before the agent sees it. */
        maxJsonDepth: z.number().int().min(1).max(10_000).default(64),
        startTimeoutSeconds: z.number().positive().default(30),
        requestsPerMinutePerPrincipal: z.number().int().positive().default(600),
        warmPoolSize: z.number().int().min(0).max(16).default(1),
        websocket: z
          .strictObject({
            maxFrameBytes: z.number().int().positive().default(65_536),
            maxFramesPerSecond: z.number().int().positive().default(250),
            maxConnectionSeconds: z.number().int().positive().default(3600),
          })
          .default({ maxFrameBytes: 65_536, maxFramesPerSecond: 250, maxConnectionSeconds: 3600 }),
      })
      .default({
        maxConcurrentSessions: 100,
        maxConcurrentSessionsPerPrincipal: 10,
        maxAgentMemoryMiB: 1024,
        maxPayloadBytes: 100_000_000,
        maxJsonDepth: 64,
        startTimeoutSeconds: 30,
        requestsPerMinutePerPrincipal: 600,
        warmPoolSize: 1,
        websocket: { maxFrameBytes: 65_536, maxFramesPerSecond: 250, maxConnectionSeconds: 3600 },
      }),
  });

export type ServerProtocol = z.infer<typeof serverProtocolSchema>;
export type AgentSource = z.infer<typeof agentSourceSchema>;
export type IsolationConfig = z.infer<typeof isolationSchema>;
/** Isolation with the agent's port settled (the runtime's protocol decides it when the file does not). */
export type ResolvedIsolationConfig = IsolationConfig & { readonly agentPort: number };
export type RuntimeConfig = z.infer<typeof runtimeSchema>;
