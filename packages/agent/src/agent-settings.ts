import { modelSchema, type ModelConfig } from '@gatehouse/core/agent-support';

export interface AgentSettings {
  readonly port: number;
  readonly host: string;
  readonly gatewayUrl: string;
  readonly model: ModelConfig;
  /** What the agent shows the gateway: the runtime's workload token (default) or, opt-in, the caller's own bearer token. */
  readonly gatewayCredential: GatewayCredential;
}

/**
 * `workload-token`: the token the runtime passes in `X-Amz-Bedrock-AgentCore-Identity-WAT` (Gatehouse mints
 * one the gateway accepts). `caller-token`: the caller's `Authorization: Bearer` token, which a managed
 * AgentCore Runtime forwards only when `Authorization` is on its request-header allowlist (`gatehouse deploy`
 * sets both), because AWS's workload token is for AgentCore Identity, not for a JWT-authorized gateway.
 */
export type GatewayCredential = 'workload-token' | 'caller-token';

export class AgentSettingsError extends Error {
  readonly code = 'AgentSettingsError';
}

/**
 * Reads the agent's environment once at start. `PORT` as AgentCore sets it; the host defaults to loopback
 * because the agent trusts its caller (the runtime is the perimeter) — containers set GATEHOUSE_AGENT_HOST=0.0.0.0.
 */
export function readAgentSettings(env: NodeJS.ProcessEnv): AgentSettings {
  const port = Number(env.PORT ?? '8080');
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new AgentSettingsError(`PORT must be an integer 0–65535 (got "${env.PORT ?? ''}")`);
  const base = (env.GATEHOUSE_PUBLIC_URL ?? 'http://localhost:8080').replace(/\/+$/, '');
  const gatewayUrl = env.GATEHOUSE_GATEWAY_URL ?? `${base}/mcp`;
  try {
    new URL(gatewayUrl);
  } catch {
    throw new AgentSettingsError(`GATEHOUSE_GATEWAY_URL must be an absolute URL (got "${gatewayUrl}")`);
  }
  let rawModel: unknown = { provider: 'offline' };
  if (env.GATEHOUSE_MODEL) {
    try {
      rawModel = JSON.parse(env.GATEHOUSE_MODEL);
    } catch {
      throw new AgentSettingsError('GATEHOUSE_MODEL must be JSON of the "model" config section, e.g. {"provider":"bedrock","region":"us-east-1"}');
    }
  }
  const parsed = modelSchema.safeParse(rawModel);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `model.${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new AgentSettingsError(`GATEHOUSE_MODEL is not a valid model section: ${issues}`);
  }
  const gatewayCredential = env.GATEHOUSE_GATEWAY_CREDENTIAL ?? 'workload-token';
  if (gatewayCredential !== 'workload-token' && gatewayCredential !== 'caller-token') {
    throw new AgentSettingsError(`GATEHOUSE_GATEWAY_CREDENTIAL must be "workload-token" or "caller-token" (got "${gatewayCredential}")`);
  }
  return { port, host: env.GATEHOUSE_AGENT_HOST ?? '127.0.0.1', gatewayUrl, model: parsed.data, gatewayCredential };
}
