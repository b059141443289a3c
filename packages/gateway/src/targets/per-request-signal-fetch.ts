/**
 * A `fetch` that gives every request its own abort signal, aborted with the caller's.
 *
 * The MCP SDK's HTTP client transport passes one long-lived signal (aborted at close) to every
 * request, and undici leaves an abort listener on it until the request is garbage collected. On a
 * kept-alive upstream client those listeners pile up between collections, and adding each one
 * scans the rest (Node's EventTarget refuses duplicates): the gateway's upstream hop got slower
 * with every call (profiled: the top frame of a tools/call). Here the long-lived signal gets one
 * listener per transport, and each request a fresh signal with one listener.
 */
export function perRequestSignalFetch(inner: typeof fetch): typeof fetch {
  const inFlight = new Set<AbortController>();
  const watched = new WeakSet<AbortSignal>();
  return async (input, init) => {
    const outer = init?.signal;
    if (!outer) return inner(input, init);
    if (outer.aborted) throw outer.reason;
    if (!watched.has(outer)) {
      watched.add(outer);
      outer.addEventListener('abort', () => {
        for (const controller of inFlight) controller.abort(outer.reason);
      }, { once: true });
    }
    const controller = new AbortController();
    inFlight.add(controller);
    const done = (): boolean => inFlight.delete(controller);
    let response: Response;
    try {
      response = await inner(input, { ...init, signal: controller.signal });
    } catch (error) {
      done();
      throw error;
    }
    // A JSON answer is read at once; a stream stays abortable by the long-lived signal until it ends.
    if (!response.body || !response.headers.get('content-type')?.includes('text/event-stream')) {
      done();
      return response;
    }
    const body = response.body.pipeThrough(new TransformStream({ flush: () => void done() }));
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}
