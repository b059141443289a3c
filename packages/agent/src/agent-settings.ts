import { modelSchema, type ModelConfig } from '@gatehouse/core';

export interface AgentSettings {
  readonly port: number;
  readonly host: string;
  readonly gatewayUrl: string;
  readonly model: ModelConfig;
}

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
  return { port, host: env.GATEHOUSE_AGENT_HOST ?? '127.0.0.1', gatewayUrl, model: parsed.data };
}
