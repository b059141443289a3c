#!/usr/bin/env node
import { createLogger, listen, startTracing } from '@gatehouse/core/agent-support';
import { createAgentServer } from './agent-server.ts';
import { readAgentSettings, AgentSettingsError } from './agent-settings.ts';
import { createModelProvider } from './create-model-provider.ts';

/** The reference agent process: what the runtime starts with PORT, or what runs in an AgentCore container. */
async function main(): Promise<void> {
  const logger = createLogger({ name: 'agent' });
  let settings;
  try {
    settings = readAgentSettings(process.env);
  } catch (error) {
    if (error instanceof AgentSettingsError) {
      process.stderr.write(`gatehouse agent: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  // The runtime passes OTEL_* to the agent: its spans join the runtime's trace in the same collector.
  const tracing = startTracing({ serviceName: 'gatehouse-agent', env: process.env, logger });
  const model = createModelProvider(settings.model, { env: process.env, logger });
  const { server } = createAgentServer({ model, gatewayUrl: settings.gatewayUrl, gatewayCredential: settings.gatewayCredential, logger });
  const port = await listen(server, settings.port, settings.host);
  logger.info({ port, host: settings.host, model: model.label, gatewayUrl: settings.gatewayUrl }, 'agent listening');
  const stop = (): void => {
    // Buffered spans are flushed before exit (bounded: the runtime stops agents on a deadline).
    server.close(() => void tracing.shutdown().finally(() => process.exit(0)));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // A runtime killed with SIGKILL cannot stop its agents, and Linux does not end children with their
  // parent: when the process that started this one is gone (reparented), stop rather than linger. The
  // runtime names itself, because it may already be gone by the time this line runs.
  const parent = Number(process.env.GATEHOUSE_PARENT_PID) || process.ppid;
  if (parent > 1) {
    const watch = (): void => {
      if (process.ppid !== parent) stop();
    };
    watch();
    setInterval(watch, 1000).unref();
  }
}

await main();
