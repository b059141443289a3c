import { z } from 'zod';

/**
 * Timeouts of the one-port HTTP server. They bound what a client may hold open while sending a
 * request (slowloris on headers or body) and between requests; none of them applies to a response,
 * so long SSE streams and WebSockets (after the upgrade) are not cut.
 */
export const serverSchema = z
  .strictObject({
    /** From the first byte of a request to the end of its headers. */
    headersTimeoutSeconds: z.number().positive().max(3600).default(20),
    /** From the first byte of a request to the end of its body (headers included); then 408 and the connection is closed. */
    requestTimeoutSeconds: z.number().positive().max(3600).default(60),
    /** How long an idle keep-alive connection stays open between requests (above common load balancers' 60 s). */
    keepAliveTimeoutSeconds: z.number().positive().max(3600).default(65),
  })
  .refine((value) => value.headersTimeoutSeconds <= value.requestTimeoutSeconds, {
    message: 'headersTimeoutSeconds must not exceed requestTimeoutSeconds (the request timeout covers the headers too)',
    path: ['headersTimeoutSeconds'],
  });

export type ServerConfig = z.infer<typeof serverSchema>;

export const DEFAULT_SERVER_CONFIG: ServerConfig = Object.freeze({ headersTimeoutSeconds: 20, requestTimeoutSeconds: 60, keepAliveTimeoutSeconds: 65 });
