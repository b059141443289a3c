// Runs Gatehouse's runtime in its own process for the bench (so the load generator does not share
// its CPU). Argument: JSON {runtimes}. Prints one JSON line {port, token} when ready; exits on SIGTERM.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EmbeddedStore, createAppServer, createLogger, listen, parseConfig, systemClock, type HttpComponent } from '@gatehouse/core';
import { RedisStore } from '@gatehouse/cluster';
import { createRuntime } from '../src/index.ts';
import { startTestIssuer } from '@gatehouse/testing/test-issuer';

// `redisUrl`: the shared store on Redis (as several instances run), else the embedded store.
const input = JSON.parse(process.argv[2] ?? '{}') as { runtimes: Record<string, unknown>[]; redisUrl?: string };
const store = input.redisUrl ? new RedisStore(input.redisUrl, { keyPrefix: `bench-${process.pid}:` }) : new EmbeddedStore();
if (store instanceof RedisStore) await store.connect();
const issuer = await startTestIssuer();
const components: HttpComponent[] = [];
const server = createAppServer(components);
const port = await listen(server, 0);
const runtimes = input.runtimes.map((runtime) => ({
  authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: issuer.discoveryUrl, allowedClients: ['test-client'] } },
  ...runtime,
}));
const platform = {
  config: parseConfig({ runtimes }),
  // Its own data dir: an isolated agent sees Gatehouse's data dir as empty, so it must not hold the agents' code.
  dataDir: process.env.GATEHOUSE_BENCH_DATA_DIR || mkdtempSync(path.join(tmpdir(), 'gatehouse-bench-')),
  baseUrl: `http://127.0.0.1:${port}`,
  logger: createLogger({ level: 'error', destination: process.stderr }),
  clock: systemClock,
  store,
};
const runtime = await createRuntime(platform, { lookupAccessKey: async () => undefined, defaultWorkloadAudience: `${platform.baseUrl}/mcp` });
components.push(runtime);
process.stdout.write(`${JSON.stringify({ port, token: issuer.sign({ sub: 'bench-user' }) })}\n`);
process.on('SIGTERM', () => {
  void runtime.close().then(async () => {
    server.closeAllConnections();
    server.close();
    await issuer.close();
    process.exit(0);
  });
});
