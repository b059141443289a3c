/**
 * A small Prometheus registry with a synchronous text-format renderer (exposition format 0.0.4).
 * Written here rather than taken from prom-client because prom-client's `metrics()` is async,
 * and `GET /metrics` here only needs counters, gauges and histograms rendered from memory.
 */

export type Labels = Readonly<Record<string, string | number>>;

export interface Counter {
  inc(value?: number): void;
  inc(labels: Labels, value?: number): void;
}

export interface Gauge {
  set(value: number): void;
  set(labels: Labels, value: number): void;
  inc(value?: number): void;
  inc(labels: Labels, value?: number): void;
  dec(value?: number): void;
  dec(labels: Labels, value?: number): void;
}

export interface Histogram {
  observe(value: number): void;
  observe(labels: Labels, value: number): void;
  /** Starts a timer; calling the result observes the elapsed seconds (labels may be added at the end, e.g. the status). */
  startTimer(labels?: Labels): (endLabels?: Labels) => number;
}

export interface Metrics {
  counter(name: string, help: string, labelNames?: readonly string[]): Counter;
  gauge(name: string, help: string, labelNames?: readonly string[]): Gauge;
  histogram(name: string, help: string, labelNames?: readonly string[], buckets?: readonly number[]): Histogram;
  /** Prometheus text format, `Content-Type: text/plain; version=0.0.4; charset=utf-8`. */
  render(): string;
}

export interface MetricsOptions {
  /** Adds `process_resident_memory_bytes`, `process_cpu_seconds_total`, heap and uptime gauges, read at render time. Default true. */
  readonly processMetrics?: boolean;
  /** Most label combinations kept per metric; later new ones are dropped so hostile input cannot grow memory. Default 10,000. */
  readonly maxSeriesPerMetric?: number;
}

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

type Kind = 'counter' | 'gauge' | 'histogram';

interface HistogramSeries {
  readonly counts: number[];
  sum: number;
  count: number;
}

/** What every metric family is declared with. */
interface FamilySpec {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  /** Series past this many are dropped (a label with unbounded values cannot exhaust memory). */
  readonly maxSeries: number;
}

abstract class Family<Series> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  abstract readonly kind: Kind;
  readonly series = new Map<string, { labels: Labels; value: Series }>();
  readonly #maxSeries: number;

  constructor({ name, help, labelNames, maxSeries }: FamilySpec) {
    if (!METRIC_NAME.test(name)) throw new RangeError(`Metric name "${name}" must match ${METRIC_NAME.source}`);
    for (const label of labelNames) {
      if (!LABEL_NAME.test(label) || label.startsWith('__') || label === 'le') throw new RangeError(`Label name "${label}" of ${name} is not allowed`);
    }
    this.name = name;
    this.help = help;
    this.labelNames = [...labelNames].sort();
    this.#maxSeries = maxSeries;
  }

  abstract initial(): Series;

  /** The series for these labels, created on first use; undefined when the series cap is reached. */
  seriesFor(labels: Labels): Series | undefined {
    for (const key of Object.keys(labels)) {
      if (!this.labelNames.includes(key)) throw new RangeError(`Metric ${this.name} has no label "${key}" (declared: ${this.labelNames.join(', ') || 'none'})`);
    }
    const key = this.labelNames.map((label) => String(labels[label] ?? '')).join('\u0000');
    const existing = this.series.get(key);
    if (existing) return existing.value;
    if (this.series.size >= this.#maxSeries) return undefined;
    const created = { labels: Object.fromEntries(this.labelNames.map((label) => [label, String(labels[label] ?? '')])), value: this.initial() };
    this.series.set(key, created);
    return created.value;
  }

  sameShape(kind: Kind, labelNames: readonly string[]): boolean {
    return this.kind === kind && [...labelNames].sort().join(',') === this.labelNames.join(',');
  }

  abstract renderSeries(lines: string[]): void;
}

class CounterFamily extends Family<{ value: number }> implements Counter {
  readonly kind = 'counter' as const;
  initial(): { value: number } {
    return { value: 0 };
  }
  inc(first?: Labels | number, second?: number): void {
    const [labels, value] = split(first, second, 1);
    if (value < 0 || !Number.isFinite(value)) throw new RangeError(`Counter ${this.name} can only grow (got ${value})`);
    const series = this.seriesFor(labels);
    if (series) series.value += value;
  }
  renderSeries(lines: string[]): void {
    for (const { labels, value } of this.series.values()) lines.push(`${this.name}${formatLabels(labels)} ${formatNumber(value.value)}`);
  }
}

class GaugeFamily extends Family<{ value: number }> implements Gauge {
  readonly kind = 'gauge' as const;
  initial(): { value: number } {
    return { value: 0 };
  }
  set(first: Labels | number, second?: number): void {
    const [labels, value] = split(first, second, 0);
    const series = this.seriesFor(labels);
    if (series) series.value = value;
  }
  inc(first?: Labels | number, second?: number): void {
    const [labels, value] = split(first, second, 1);
    const series = this.seriesFor(labels);
    if (series) series.value += value;
  }
  dec(first?: Labels | number, second?: number): void {
    const [labels, value] = split(first, second, 1);
    const series = this.seriesFor(labels);
    if (series) series.value -= value;
  }
  renderSeries(lines: string[]): void {
    for (const { labels, value } of this.series.values()) lines.push(`${this.name}${formatLabels(labels)} ${formatNumber(value.value)}`);
  }
}

class HistogramFamily extends Family<HistogramSeries> implements Histogram {
  readonly kind = 'histogram' as const;
  readonly buckets: readonly number[];

  constructor(spec: FamilySpec, buckets: readonly number[]) {
    super(spec);
    const sorted = [...buckets].filter((bound) => Number.isFinite(bound)).sort((a, b) => a - b);
    if (sorted.length === 0 || new Set(sorted).size !== sorted.length) throw new RangeError(`Histogram ${this.name} needs distinct finite bucket bounds`);
    this.buckets = sorted;
  }
  initial(): HistogramSeries {
    return { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
  }
  observe(first: Labels | number, second?: number): void {
    const [labels, value] = split(first, second, Number.NaN);
    if (!Number.isFinite(value)) throw new RangeError(`Histogram ${this.name} needs a finite value (got ${value})`);
    const series = this.seriesFor(labels);
    if (!series) return;
    const index = this.buckets.findIndex((bound) => value <= bound);
    if (index >= 0) series.counts[index]! += 1;
    series.sum += value;
    series.count += 1;
  }
  startTimer(labels: Labels = {}): (endLabels?: Labels) => number {
    const started = process.hrtime.bigint();
    return (endLabels: Labels = {}) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.observe({ ...labels, ...endLabels }, seconds);
      return seconds;
    };
  }
  renderSeries(lines: string[]): void {
    for (const { labels, value } of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((bound, index) => {
        cumulative += value.counts[index]!;
        lines.push(`${this.name}_bucket${formatLabels({ ...labels, le: formatNumber(bound) })} ${cumulative}`);
      });
      lines.push(`${this.name}_bucket${formatLabels({ ...labels, le: '+Inf' })} ${value.count}`);
      lines.push(`${this.name}_sum${formatLabels(labels)} ${formatNumber(value.sum)}`);
      lines.push(`${this.name}_count${formatLabels(labels)} ${value.count}`);
    }
  }
}

function split(first: Labels | number | undefined, second: number | undefined, fallback: number): [Labels, number] {
  if (typeof first === 'number') return [{}, first];
  return [first ?? {}, second ?? fallback];
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([name, value]) => `${name}="${escapeLabelValue(String(value))}"`).join(',')}}`;
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** One registry per process; `GET /metrics` serves `render()`. Registering a name twice with the same type and labels returns the same metric. */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const families = new Map<string, Family<unknown>>();
  const maxSeries = options.maxSeriesPerMetric ?? 10_000;

  function register<F extends Family<unknown>>(kind: Kind, name: string, labelNames: readonly string[], create: () => F): F {
    const existing = families.get(name);
    if (existing) {
      if (!existing.sameShape(kind, labelNames)) throw new RangeError(`Metric ${name} is already registered as a ${existing.kind} with labels [${existing.labelNames.join(', ')}]`);
      return existing as F;
    }
    const family = create();
    families.set(name, family);
    return family;
  }

  const processMetrics = options.processMetrics ?? true;
  const rss = processMetrics ? register('gauge', 'process_resident_memory_bytes', [], () => new GaugeFamily({ name: 'process_resident_memory_bytes', help: 'Resident memory size in bytes.', labelNames: [], maxSeries: 1 })) : undefined;
  const heap = processMetrics ? register('gauge', 'nodejs_heap_used_bytes', [], () => new GaugeFamily({ name: 'nodejs_heap_used_bytes', help: 'V8 heap in use, in bytes.', labelNames: [], maxSeries: 1 })) : undefined;
  const cpu = processMetrics ? register('counter', 'process_cpu_seconds_total', [], () => new CounterFamily({ name: 'process_cpu_seconds_total', help: 'User and system CPU time spent, in seconds.', labelNames: [], maxSeries: 1 })) : undefined;
  const start = processMetrics ? register('gauge', 'process_start_time_seconds', [], () => new GaugeFamily({ name: 'process_start_time_seconds', help: 'Start time of the process since the Unix epoch, in seconds.', labelNames: [], maxSeries: 1 })) : undefined;
  start?.set(Math.round((Date.now() - process.uptime() * 1000) / 1000));

  return {
    counter: (name, help, labelNames = []) => register('counter', name, labelNames, () => new CounterFamily({ name, help, labelNames, maxSeries })),
    gauge: (name, help, labelNames = []) => register('gauge', name, labelNames, () => new GaugeFamily({ name, help, labelNames, maxSeries })),
    histogram: (name, help, labelNames = [], buckets = DEFAULT_BUCKETS) =>
      register('histogram', name, labelNames, () => new HistogramFamily({ name, help, labelNames, maxSeries }, buckets)),
    render(): string {
      if (processMetrics) {
        rss?.set(process.memoryUsage.rss());
        heap?.set(process.memoryUsage().heapUsed);
        const usage = process.cpuUsage();
        // A counter read from the OS rather than incremented: set its one series directly.
        const cpuSeries = cpu?.seriesFor({});
        if (cpuSeries) cpuSeries.value = (usage.user + usage.system) / 1e6;
      }
      const lines: string[] = [];
      for (const family of families.values()) {
        lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.kind}`);
        family.renderSeries(lines);
      }
      return lines.join('\n') + '\n';
    },
  };
}
