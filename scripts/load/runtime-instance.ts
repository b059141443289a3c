// A runtime-only instance for the load test, composed like `gatehouse runtime` but passing the
// instance's own URL (`instanceUrl`) so that other instances forward a session's requests to the
// instance that runs its agent. Used until `gatehouse runtime` takes GATEHOUSE_INSTANCE_URL itself.
// Usage: node scripts/load/runtime-instance.ts --port N --data-dir D --public-url URL --config FILE (store from GATEHOUSE_STORE).
import { parseArgs } from 'node:util';
import { realpathSync } from 'node:fs';
import { createAppServer, closeServer, createLogger, listen, loadConfig, sendJson, systemClock, type HttpComponent, type Platform } from '@gatehouse/core';
import { createIdentity } from '@gatehouse/identity';
import { createRuntime } from '@gatehouse/runtime';
import { createStore, createMetrics, instrumentComponent, METRICS_CONTENT_TYPE } from '@gatehouse/cluster';

const { values } = parseArgs({
  options: { port: { type: 'string' }, 'data-dir': { type: 'string' }, 'public-url': { type: 'string' }, config: { type: 'string' } },
  strict: true,
});
const port = Number(values.port);
const { config } = loadConfig({ file: values.config, required: true });
const logger = createLogger({ level: config.logLevel, name: 'gatehouse-runtime' });
const store = await createStore(config.store, { logger });
const metrics = createMetrics();
const baseUrl = values['public-url']!.replace(/\/+$/, '');
const instanceUrl = process.env.GATEHOUSE_INSTANCE_URL ?? `http://127.0.0.1:${port}`;
const platform: Platform = { config, dataDir: realpathSync(values['data-dir']!), baseUrl, logger, clock: systemClock, store };
const identity = await createIdentity(platform);
const runtime = await createRuntime(platform, {
  lookupAccessKey: (id) => identity.lookupAccessKey(id),
  tokenExchange: identity.serviceClient('runtime'),
  defaultWorkloadAudience: `${baseUrl}/mcp`,
  isRevoked: (claims) => identity.isRevoked(claims),
  instanceUrl,
});
const health: HttpComponent = {
  name: 'health',
  handle(_request, response, url) {
    if (url.pathname === '/ping') sendJson(response, 200, { status: 'Healthy' });
    else if (url.pathname === '/metrics') response.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(metrics.render());
    else return false;
    return true;
  },
  close: async () => undefined,
};
const server = createAppServer([instrumentComponent(runtime, metrics), health], logger);
await listen(server, port);
process.stdout.write(`runtime instance at ${instanceUrl}\n`);
process.once('SIGTERM', () => {
  void (async () => {
    await closeServer(server);
    await runtime.close();
    await identity.close();
    await store.close();
    process.exit(0);
  })();
});
