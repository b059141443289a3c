import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { endHop, startHop, type RequestTrace } from './invocation-trace.ts';

export const FORWARDED_HEADER = 'x-gatehouse-forwarded';
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host', 'content-length', FORWARDED_HEADER]);
/** Replaced by this hop's own span context, so the other instance continues the forwarding span. */
const TRACE_CONTEXT = new Set(['traceparent', 'tracestate']);

/**
 * Sends a request whose session lives on another instance to that instance, unchanged (it
 * re-authenticates; nothing is trusted because of the hop). Resolves false when the instance
 * cannot be reached before any answer, so the caller can take the session over locally.
 */
export interface InstanceForward {
  /** The instance that runs the session. */
  readonly instanceUrl: string;
  readonly request: IncomingMessage;
  readonly body: Buffer;
  readonly response: ServerResponse;
  /** The forwarding seal (forwarding-seal.ts): the other instance does not count the request again. */
  readonly seal: string;
  readonly trace?: RequestTrace | undefined;
}

export function forwardToInstance(forward: InstanceForward): Promise<boolean> {
  const { instanceUrl, request, body, response, seal, trace } = forward;
  const target = new URL(request.url ?? '/', instanceUrl);
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(request.headers)) if (value !== undefined && !HOP_BY_HOP.has(name) && !TRACE_CONTEXT.has(name)) headers[name] = value;
  headers[FORWARDED_HEADER] = seal;
  headers['content-length'] = String(body.length);
  const hop = startHop(trace, 'forward to instance', { 'server.address': target.hostname, 'server.port': Number(target.port) || 80 }, headers);
  let ended = false;
  const end = (status: number, failure?: string): void => {
    if (ended) return;
    ended = true;
    endHop(hop, status, failure);
  };
  return new Promise((resolve) => {
    const upstream = httpRequest(target, { method: request.method, headers });
    response.on('close', () => {
      if (!response.writableFinished) upstream.destroy();
    });
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      // Unreachable before any answer: the caller serves the request here, under its own span.
      end(response.headersSent ? response.statusCode : 502, error.code ?? 'InstanceUnreachable');
      if (!response.headersSent) resolve(false);
      else response.destroy();
    });
    upstream.on('response', (answer) => {
      const out: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
      if (answer.headers['content-length']) out['content-length'] = answer.headers['content-length'];
      response.writeHead(answer.statusCode ?? 502, out);
      response.flushHeaders();
      answer.pipe(response);
      answer.on('close', () => {
        if (!answer.complete) response.destroy();
      });
      response.on('finish', () => resolve(true));
      response.on('close', () => {
        end(answer.statusCode ?? 502);
        resolve(true);
      });
    });
    upstream.end(body);
  });
}
