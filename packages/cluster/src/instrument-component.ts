import type { HttpComponent } from '@gatehouse/core';
import type { Metrics } from './metrics.ts';
import { standardMetrics } from './standard-metrics.ts';

/**
 * Wraps a component so each request it claims is counted and timed under its name. Only claimed
 * requests count; the path is left out of the labels because it carries ARNs and session ids.
 */
export function instrumentComponent(component: HttpComponent, metrics: Metrics): HttpComponent {
  const { requests, requestDuration } = standardMetrics(metrics);
  const wrapped: HttpComponent = {
    name: component.name,
    async handle(request, response, url) {
      const method = request.method ?? 'GET';
      const stop = requestDuration.startTimer({ component: component.name, method });
      // Listen before handing over: a fast handler may finish the response before it returns.
      const onClose = (): void => {
        stop();
        requests.inc({ component: component.name, method, status: response.statusCode });
      };
      response.once('close', onClose);
      let claimed = false;
      try {
        claimed = await component.handle(request, response, url);
        return claimed;
      } catch (error) {
        // The app server turns this into the wire response; it is counted when that response closes.
        claimed = true;
        throw error;
      } finally {
        if (!claimed) response.off('close', onClose);
      }
    },
    close: () => component.close(),
  };
  if (component.upgrade) {
    const upgrade = component.upgrade.bind(component);
    wrapped.upgrade = (request, socket, head, url) => {
      const claimed = upgrade(request, socket, head, url);
      if (claimed) requests.inc({ component: component.name, method: 'GET', status: 'upgrade' });
      return claimed;
    };
  }
  return wrapped;
}
