// Runs one instance (identity + runtime, as in support/instance.ts) as its own process, so a test
// can kill it with SIGKILL. Settings come as one JSON argument; prints "ready" when it serves.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startInstance } from './instance.ts';

const settings = JSON.parse(process.argv[2] ?? '{}') as { port: number; dataDir: string; baseUrl: string; redisUrl: string; agentLog: string };
const agentScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'counting-agent.mjs');
const instance = await startInstance({
  ...settings,
  runtimes: (pool) => [
    {
      agentRuntimeName: 'counting_agent',
      agent: { command: [process.execPath, agentScript], env: { AGENT_LOG: settings.agentLog } },
      // The agent logs to a host file the test reads: not in a namespace of its own.
      isolation: { mode: 'none' },
      authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: pool.discoveryUrl, allowedClients: [pool.webClientId] } },
      workloadIdentity: { mode: 'passthrough' },
      limits: { warmPoolSize: 0 },
    },
  ],
});
process.stdout.write(`ready ${instance.url} ${instance.identity.defaultPool.webClientId} ${instance.identity.defaultPool.userPoolId} ${instance.identity.adminCredentialsFile}\n`);
process.once('SIGTERM', () => {
  void instance.close().then(() => process.exit(0));
});
