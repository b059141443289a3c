import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { createAppServer, listen, closeServer, sendJson, type HttpComponent } from '@gatehouse/core';
import { createMetrics, standardMetrics, instrumentComponent, METRICS_CONTENT_TYPE } from '@gatehouse/cluster';

const servers: Server[] = [];
after(async () => {
  await Promise.all(servers.map((server) => closeServer(server)));
});

test('renders counters, gauges and histograms in the Prometheus text format', () => {
  const metrics = createMetrics({ processMetrics: false });
  const standard = standardMetrics(metrics);
  standard.authFailures.inc({ component: 'runtime', reason: 'expired' });
  standard.authFailures.inc({ component: 'runtime', reason: 'expired' });
  standard.authFailures.inc({ component: 'gateway', reason: 'wrong_audience' }, 3);
  standard.sessions.set({ runtime: 'ops_agent' }, 4);
  standard.sessions.dec({ runtime: 'ops_agent' });
  standard.toolCalls.inc({ gateway: 'default', target: 'ops', decision: 'deny', outcome: 'denied' });
  const latency = metrics.histogram('test_latency_seconds', 'Latency.', ['route'], [0.1, 1]);
  latency.observe({ route: 'a' }, 0.05);
  latency.observe({ route: 'a' }, 0.5);
  latency.observe({ route: 'a' }, 5);
  const text = metrics.render();
  assert.match(text, /^# HELP gatehouse_auth_failures_total .+\n# TYPE gatehouse_auth_failures_total counter$/m);
  assert.match(text, /^gatehouse_auth_failures_total\{component="runtime",reason="expired"\} 2$/m);
  assert.match(text, /^gatehouse_auth_failures_total\{component="gateway",reason="wrong_audience"\} 3$/m);
  assert.match(text, /^gatehouse_runtime_sessions\{runtime="ops_agent"\} 3$/m);
  assert.match(text, /^gatehouse_tool_calls_total\{decision="deny",gateway="default",outcome="denied",target="ops"\} 1$/m);
  const histogram = text.split('\n').filter((line) => line.startsWith('test_latency_seconds'));
  assert.deepEqual(histogram, [
    'test_latency_seconds_bucket{route="a",le="0.1"} 1',
    'test_latency_seconds_bucket{route="a",le="1"} 2',
    'test_latency_seconds_bucket{route="a",le="+Inf"} 3',
    'test_latency_seconds_sum{route="a"} 5.55',
    'test_latency_seconds_count{route="a"} 3',
  ]);
});

test('escapes label values so a hostile value cannot forge another series', () => {
  const metrics = createMetrics({ processMetrics: false });
  const counter = metrics.counter('test_total', 'Help with a \\ backslash\nand a newline.', ['target']);
  counter.inc({ target: 'x"} 999\nforged_total{a="b' });
  const lines = metrics.render().trimEnd().split('\n');
  assert.deepEqual(lines, [
    '# HELP test_total Help with a \\\\ backslash\\nand a newline.',
    '# TYPE test_total counter',
    'test_total{target="x\\"} 999\\nforged_total{a=\\"b"} 1',
  ]);
});

test('caps the number of series so unbounded label values cannot exhaust memory', () => {
  const metrics = createMetrics({ processMetrics: false, maxSeriesPerMetric: 3 });
  const counter = metrics.counter('capped_total', 'Capped.', ['id']);
  for (let index = 0; index < 10; index++) counter.inc({ id: String(index) });
  assert.equal(metrics.render().split('\n').filter((line) => line.startsWith('capped_total{')).length, 3);
});

test('returns the same metric when a name is registered twice, and refuses a conflicting shape', () => {
  const metrics = createMetrics({ processMetrics: false });
  const first = metrics.counter('shared_total', 'Shared.', ['a']);
  const second = metrics.counter('shared_total', 'Shared.', ['a']);
  first.inc({ a: 'x' });
  second.inc({ a: 'x' });
  assert.match(metrics.render(), /^shared_total\{a="x"\} 2$/m);
  assert.throws(() => metrics.gauge('shared_total', 'Shared.', ['a']), /already registered as a counter/);
  assert.throws(() => first.inc({ undeclared: 'y' }), /has no label "undeclared"/);
  assert.throws(() => first.inc({ a: 'x' }, -1), /can only grow/);
  assert.throws(() => metrics.counter('bad-name', 'Bad.'), /must match/);
});

test('reports the process resident memory and CPU time', () => {
  const text = createMetrics().render();
  const rss = /^process_resident_memory_bytes (\d+)$/m.exec(text);
  assert.ok(rss && Number(rss[1]) > 1_000_000);
  assert.match(text, /^# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total [0-9.e-]+$/m);
});

test('counts and times the requests each component claims, by status, on a real server', async () => {
  const metrics = createMetrics({ processMetrics: false });
  const echo: HttpComponent = {
    name: 'echo',
    handle(request, response, url) {
      if (!url.pathname.startsWith('/echo')) return false;
      if (url.pathname === '/echo/missing') sendJson(response, 404, { message: 'No such thing' });
      else sendJson(response, 200, { ok: true });
      return true;
    },
    close: async () => undefined,
  };
  const metricsComponent: HttpComponent = {
    name: 'metrics',
    handle(_request, response, url) {
      if (url.pathname !== '/metrics') return false;
      response.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(metrics.render());
      return true;
    },
    close: async () => undefined,
  };
  const server = createAppServer([instrumentComponent(echo, metrics), metricsComponent]);
  servers.push(server);
  const port = await listen(server, 0);
  const base = `http://127.0.0.1:${port}`;
  for (let index = 0; index < 3; index++) assert.equal((await fetch(`${base}/echo`)).status, 200);
  assert.equal((await fetch(`${base}/echo/missing`, { method: 'POST' })).status, 404);
  assert.equal((await fetch(`${base}/elsewhere`)).status, 404);
  // 'close' fires just after the client has the response; give the server a moment.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const response = await fetch(`${base}/metrics`);
  assert.equal(response.headers.get('content-type'), METRICS_CONTENT_TYPE);
  const text = await response.text();
  assert.match(text, /^gatehouse_http_requests_total\{component="echo",method="GET",status="200"\} 3$/m);
  assert.match(text, /^gatehouse_http_requests_total\{component="echo",method="POST",status="404"\} 1$/m);
  assert.match(text, /^gatehouse_http_request_duration_seconds_count\{component="echo",method="GET"\} 3$/m);
  assert.doesNotMatch(text, /elsewhere/);
  assert.equal(text.match(/^gatehouse_http_requests_total\{/gm)?.length, 2, 'unclaimed requests are not counted');
});
