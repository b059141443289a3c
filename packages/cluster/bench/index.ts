// `npm run bench` section for the cluster package: what sharing state through Redis costs per
// operation next to the embedded store (the same calls, side by side, one run), and what a
// Prometheus scrape costs with a realistic number of series.
import { performance } from 'node:perf_hooks';
import { EmbeddedStore, type BenchSection, type SharedStore } from '@gatehouse/core';
import { RedisStore, createMetrics, standardMetrics, sealJson, openJson } from '@gatehouse/cluster';
import { randomBytes } from 'node:crypto';
import { startRedisServer } from '@gatehouse/testing/redis-server';

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Operations per second of `work` run `count` times with `concurrency` in flight; median of `rounds`. */
async function rate(count: number, concurrency: number, rounds: number, work: (index: number) => Promise<unknown>): Promise<number> {
  const results: number[] = [];
  for (let round = 0; round < rounds; round++) {
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < count) await work(next++);
      }),
    );
    results.push(count / ((performance.now() - started) / 1000));
  }
  return median(results);
}

/** The request path's store traffic: a rate-limit increment plus a session-ownership read. */
function requestPath(store: SharedStore): (index: number) => Promise<unknown> {
  return async (index) => {
    await store.increment(`bench:rate:user-${index % 50}`, 60);
    await store.get(`bench:session:${index % 200}`);
  };
}

export async function bench(): Promise<BenchSection[]> {
  const redis = await startRedisServer();
  const shared = new RedisStore(redis.url, { keyPrefix: 'bench:' });
  const embedded = new EmbeddedStore();
  try {
    await shared.connect();
    for (let index = 0; index < 200; index++) {
      await shared.set(`bench:session:${index}`, JSON.stringify({ owner: `user-${index}`, instance: 'a' }), 600);
      await embedded.set(`bench:session:${index}`, JSON.stringify({ owner: `user-${index}`, instance: 'a' }), 600);
    }
    // Warm both paths (JIT, connection) before measuring.
    await rate(2000, 16, 1, requestPath(shared));
    await rate(2000, 16, 1, requestPath(embedded));
    const redisRate = await rate(5000, 16, 5, requestPath(shared));
    const embeddedRate = await rate(5000, 16, 5, requestPath(embedded));
    const redisSerial = await rate(2000, 1, 5, requestPath(shared));

    const metrics = createMetrics();
    const standard = standardMetrics(metrics);
    for (const component of ['identity', 'runtime', 'gateway']) {
      for (const status of [200, 400, 401, 403, 404, 429, 500, 503]) standard.requests.inc({ component, method: 'POST', status }, 10);
      for (let index = 0; index < 100; index++) standard.requestDuration.observe({ component, method: 'POST' }, index / 1000);
    }
    for (let target = 0; target < 20; target++) for (const decision of ['allow', 'deny']) standard.toolCalls.inc({ gateway: 'default', target: `t${target}`, decision, outcome: 'ok' });
    const renders: number[] = [];
    for (let round = 0; round < 200; round++) {
      const started = performance.now();
      metrics.render();
      renders.push(performance.now() - started);
    }

    const key = randomBytes(32);
    const credentials = { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'x'.repeat(40), sessionToken: 'y'.repeat(400), expiration: new Date().toISOString() };
    const sealRounds: number[] = [];
    for (let round = 0; round < 5; round++) {
      const started = performance.now();
      for (let index = 0; index < 5000; index++) openJson(key, sealJson(key, credentials, 'sts:user'), 'sts:user');
      sealRounds.push(5000 / ((performance.now() - started) / 1000));
    }

    return [
      {
        title: 'Cluster: shared state and metrics',
        rows: [
          { name: 'request-path store ops (increment + get), embedded, 16 in flight', value: Math.round(embeddedRate), unit: 'requests/s' },
          { name: 'request-path store ops (increment + get), Redis, 16 in flight', value: Math.round(redisRate), unit: 'requests/s', note: `${(redisRate / embeddedRate).toFixed(3)}× embedded` },
          { name: 'request-path store ops, Redis, one at a time', value: Math.round(redisSerial), unit: 'requests/s', note: `≈ ${(1000 / redisSerial).toFixed(2)} ms added per request` },
          { name: 'GET /metrics render (~60 series)', value: Number(median(renders).toFixed(3)), unit: 'ms (median)' },
          { name: 'seal + open cached STS credentials (AES-256-GCM)', value: Math.round(median(sealRounds)), unit: 'pairs/s' },
        ],
        notes: ['Redis is Debian redis-server on loopback with persistence off; the embedded store is in-process, so the ratio is the price of sharing state between instances.'],
      },
    ];
  } finally {
    await shared.close();
    await embedded.close();
    await redis.stop();
  }
}
