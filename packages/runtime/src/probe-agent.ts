import type { Logger } from '@gatehouse/core';
import { spawnAgent } from './agent-endpoint.ts';
import { AgentIsolation } from './agent-isolation.ts';

export interface ProbeAgentOptions {
  readonly command: readonly string[];
  readonly cwd: string;
  readonly dataDir: string;
  readonly baseUrl: string;
  readonly logger: Logger;
  readonly timeoutMs: number;
}

/**
 * Starts an agent the way a session would (in its own namespaces where the host allows them, so an
 * agent that binds 0.0.0.0:8080 passes) until GET /ping answers, then stops it. Resolves false when
 * isolation is unavailable: the caller probes on PORT itself. Failures throw the runtime's 424 reason.
 */
export async function probeAgentInSandbox(options: ProbeAgentOptions): Promise<boolean> {
  const isolation = new AgentIsolation({ dataDir: options.dataDir, baseUrl: options.baseUrl, logger: options.logger });
  if (!isolation.support.available) return false;
  try {
    const endpoint = await spawnAgent({
      command: options.command,
      cwd: options.cwd,
      env: {},
      startTimeoutMs: options.timeoutMs,
      logger: options.logger,
      isolation: { sandbox: isolation, config: { mode: 'namespace', agentPort: 8080, egress: [] } },
    });
    await endpoint.stop();
    return true;
  } finally {
    await isolation.close();
  }
}
