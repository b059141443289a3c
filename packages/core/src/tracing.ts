import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';
import {
  INVALID_SPAN_CONTEXT,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context as contextApi,
  trace,
  type Attributes,
  type Context,
  type ContextManager,
  type Span,
  type TextMapPropagator,
  type Tracer,
} from '@opentelemetry/api';
import type * as OtelCore from '@opentelemetry/core';
import type * as OtlpHttpExporter from '@opentelemetry/exporter-trace-otlp-http';
import type * as OtelResources from '@opentelemetry/resources';
import type * as OtelSdk from '@opentelemetry/sdk-trace-base';
import type { BasicTracerProvider, ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Logger } from './logger.ts';

export { SpanKind };
export type { Context as TraceContext, Span as TraceSpan, Attributes as TraceAttributes };

export interface TracingSettings {
  /** `service.name` of every span (OTEL_SERVICE_NAME overrides it). */
  readonly serviceName: string;
  /** OTLP/HTTP base URL from the config (`telemetry.otlpEndpoint`); the OTEL_* variables override it. */
  readonly endpoint?: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
  /** Where the one warning about an unreachable collector goes; never given a secret. */
  readonly logger?: Logger;
}

export interface Tracing {
  /** True when spans are recorded and exported; false leaves the OpenTelemetry API a no-op. */
  readonly enabled: boolean;
  /** Where spans go (`…/v1/traces`), when enabled. */
  readonly endpoint: string | undefined;
  /** Exports what is still buffered (bounded in time) and unregisters the provider. */
  shutdown(): Promise<void>;
}

const TRACER_NAME = 'gatehouse';
/** A collector that is down must not hold up `close()` for the exporter's full timeout. */
const SHUTDOWN_LIMIT_MS = 2000;

/**
 * The SDK, exporter and propagator load on first need (synchronously: they are CommonJS). Loading
 * them takes longer than an agent process needs to start, and a process that neither exports nor
 * receives a `traceparent` never needs them.
 */
const load = createRequire(import.meta.url);
let w3c: TextMapPropagator | undefined;
function propagator(): TextMapPropagator {
  if (!w3c) {
    const { W3CTraceContextPropagator } = load('@opentelemetry/core') as typeof OtelCore;
    w3c = new W3CTraceContextPropagator();
  }
  return w3c;
}
/** Returned for every span while tracing is off and nothing is to be continued: no allocation per request. */
const NOOP_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

let active: { tracer: Tracer; provider: BasicTracerProvider; users: number; endpoint: string } | undefined;
let contextManagerInstalled = false;

/**
 * Where OTLP/HTTP spans go, by the OpenTelemetry conventions: `OTEL_TRACES_EXPORTER=none` or
 * `OTEL_SDK_DISABLED=true` switch tracing off; `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is used as is;
 * `OTEL_EXPORTER_OTLP_ENDPOINT` and the config's endpoint are base URLs that get `/v1/traces`.
 */
export function resolveTracesEndpoint(env: NodeJS.ProcessEnv, configured: string | undefined): string | undefined {
  const exporter = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  if (exporter === 'none' || env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const direct = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (direct) return direct;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || configured?.trim();
  if (!base) return undefined;
  return /\/v1\/traces\/?$/.test(base) ? base : `${base.replace(/\/+$/, '')}/v1/traces`;
}

/**
 * Registers a tracer provider that batches spans to an OTLP/HTTP (JSON) collector — only when an
 * endpoint is configured. Without one nothing is registered: spans stay the API's no-ops, while
 * W3C trace context is still carried from incoming to outgoing requests by the helpers below.
 * A second start in the same process (several components, tests) shares the first provider.
 */
export function startTracing(settings: TracingSettings): Tracing {
  const env = settings.env ?? process.env;
  const endpoint = resolveTracesEndpoint(env, settings.endpoint);
  if (!endpoint) return { enabled: false, endpoint: undefined, shutdown: async () => undefined };
  installContextManager();
  if (!active) {
    const { BasicTracerProvider, BatchSpanProcessor } = load('@opentelemetry/sdk-trace-base') as typeof OtelSdk;
    const { OTLPTraceExporter } = load('@opentelemetry/exporter-trace-otlp-http') as typeof OtlpHttpExporter;
    const { resourceFromAttributes } = load('@opentelemetry/resources') as typeof OtelResources;
    const exporter = new WarnOnceExporter(new OTLPTraceExporter({ url: endpoint, timeoutMillis: 5000 }), endpoint, settings.logger);
    const delay = Number(env.OTEL_BSP_SCHEDULE_DELAY);
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME?.trim() || settings.serviceName }),
      spanProcessors: [new BatchSpanProcessor(exporter, Number.isFinite(delay) && delay > 0 ? { scheduledDelayMillis: delay } : {})],
    });
    trace.setGlobalTracerProvider(provider);
    active = { tracer: provider.getTracer(TRACER_NAME), provider, users: 0, endpoint };
  }
  const current = active;
  current.users += 1;
  let stopped = false;
  return {
    enabled: true,
    endpoint: current.endpoint,
    async shutdown() {
      if (stopped) return;
      stopped = true;
      current.users -= 1;
      if (current.users > 0) {
        await withLimit(current.provider.forceFlush());
        return;
      }
      if (active === current) active = undefined;
      trace.disable();
      await withLimit(current.provider.shutdown());
    },
  };
}

export function tracingEnabled(): boolean {
  return active !== undefined;
}

/** The trace context a request carries (`traceparent`, `tracestate`); the root context when none is valid. */
export function extractTraceContext(headers: IncomingHttpHeaders): Context {
  if (headers.traceparent === undefined) return ROOT_CONTEXT;
  return propagator().extract(ROOT_CONTEXT, headers, headerGetter);
}

/** Writes `traceparent` (and `tracestate`) of `context` into outgoing headers; nothing when it holds no valid span. */
export function injectTraceContext(context: Context, headers: OutgoingHttpHeaders | Record<string, string>): void {
  if (context === ROOT_CONTEXT) return;
  propagator().inject(context, headers, headerSetter);
}

/** The same, for a fetch `Headers` object. */
export function injectTraceHeaders(context: Context, headers: Headers): void {
  if (context === ROOT_CONTEXT) return;
  const carrier: Record<string, string> = {};
  propagator().inject(context, carrier, headerSetter);
  for (const name in carrier) headers.set(name, carrier[name]!);
}

export interface StartedSpan {
  readonly span: Span;
  /** `parent` with this span in it: pass it to children and to `injectTraceContext`. */
  readonly context: Context;
}

/**
 * A span that continues `parent`. With tracing off it records nothing: it is the parent's span
 * context again (so injection still sends the caller's trace id), or a shared no-op when there is
 * no parent. Attributes are ids only — never tokens, headers, arguments or results.
 */
export function startSpan(name: string, kind: SpanKind, parent: Context, attributes?: Attributes): StartedSpan {
  if (active) {
    const span = active.tracer.startSpan(name, attributes ? { kind, attributes } : { kind }, parent);
    return { span, context: trace.setSpan(parent, span) };
  }
  if (parent === ROOT_CONTEXT) return { span: NOOP_SPAN, context: ROOT_CONTEXT };
  const span = trace.getSpan(parent) ?? NOOP_SPAN;
  return { span, context: parent };
}

/** Ends a span with an HTTP status: 5xx (and the proxy's own failures) mark it as an error. */
export function endSpanWithStatus(span: Span, status: number): void {
  if (!span.isRecording()) return;
  span.setAttribute('http.response.status_code', status);
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}

/** Marks a span failed with a code or short reason (a message that may name a secret is not recorded). */
export function failSpan(span: Span, reason: string): void {
  if (!span.isRecording()) return;
  span.setAttribute('error.type', reason);
  span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
}

/** Whether `context` carries anything to continue (the root context does not). */
export function hasTraceContext(context: Context): boolean {
  return context !== ROOT_CONTEXT;
}

/** The context that code running now belongs to (set by `withTraceContext`). */
export function activeTraceContext(): Context {
  return contextManagerInstalled ? contextApi.active() : ROOT_CONTEXT;
}

/**
 * Runs `work` with `context` as the active trace context, so code far below (an SDK's fetch) can
 * put it on outgoing requests. A root context costs nothing: `work` simply runs.
 */
export function withTraceContext<T>(context: Context, work: () => T): T {
  if (context === ROOT_CONTEXT && activeTraceContext() === ROOT_CONTEXT) return work();
  installContextManager();
  return contextApi.with(context, work);
}

/** A `fetch` that adds the active trace context's `traceparent` to each request. */
export function tracingFetch(inner: typeof fetch = fetch): typeof fetch {
  return (input, init) => {
    const context = activeTraceContext();
    if (context === ROOT_CONTEXT || !trace.getSpanContext(context)) return inner(input, init);
    const headers = new Headers(init?.headers);
    injectTraceHeaders(context, headers);
    return inner(input, { ...init, headers });
  };
}

const headerGetter = {
  get(carrier: IncomingHttpHeaders, key: string): string | string[] | undefined {
    return carrier[key];
  },
  keys(carrier: IncomingHttpHeaders): string[] {
    return Object.keys(carrier);
  },
};

const headerSetter = {
  set(carrier: OutgoingHttpHeaders | Record<string, string>, key: string, value: string): void {
    carrier[key] = value;
  },
};

/**
 * The OpenTelemetry context API needs a manager to follow async work; Node's AsyncLocalStorage is
 * that. Installed on first use only, so a process that never carries a trace never pays for it.
 */
function installContextManager(): void {
  if (contextManagerInstalled) return;
  contextManagerInstalled = true;
  contextApi.setGlobalContextManager(new AsyncLocalContextManager());
}

class AsyncLocalContextManager implements ContextManager {
  readonly #storage = new AsyncLocalStorage<Context>();

  active(): Context {
    return this.#storage.getStore() ?? ROOT_CONTEXT;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(context: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return this.#storage.run(context, () => fn.apply(thisArg, args));
  }

  bind<T>(context: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const run = (...args: unknown[]): unknown => this.with(context, () => (target as (...inner: unknown[]) => unknown)(...args));
    return run as T;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this.#storage.disable();
    return this;
  }
}

/** Logs the first failed export at warn (the collector URL, never a header), then stays quiet. */
class WarnOnceExporter implements SpanExporter {
  readonly #inner: SpanExporter;
  readonly #endpoint: string;
  readonly #logger: Logger | undefined;
  #warned = false;

  constructor(inner: SpanExporter, endpoint: string, logger: Logger | undefined) {
    this.#inner = inner;
    this.#endpoint = endpoint;
    this.#logger = logger;
  }

  export(spans: ReadableSpan[], resultCallback: Parameters<SpanExporter['export']>[1]): void {
    this.#inner.export(spans, (result) => {
      if (result.code !== 0 && !this.#warned) {
        this.#warned = true;
        this.#logger?.warn({ endpoint: safeUrl(this.#endpoint), spans: spans.length }, 'trace export failed; spans are dropped until the collector answers');
      }
      resultCallback(result);
    });
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush?.() ?? Promise.resolve();
  }
}

/** A collector URL without user info or query, which could carry credentials. */
function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return 'invalid URL';
  }
}

function withLimit(work: Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, SHUTDOWN_LIMIT_MS);
    timer.unref();
    work.catch(() => undefined).finally(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
