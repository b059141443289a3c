import { z } from 'zod';

/**
 * Where traces go. Without an endpoint (and without the OTEL_* variables) nothing is exported and
 * the OpenTelemetry API stays a no-op; W3C trace context is still passed on.
 */
export const telemetrySchema = z.strictObject({
  /** OTLP/HTTP base URL of a collector (Jaeger, OpenTelemetry Collector), e.g. http://127.0.0.1:4318; `/v1/traces` is appended. */
  otlpEndpoint: z.string().url().optional(),
});

export type TelemetryConfig = z.infer<typeof telemetrySchema>;
