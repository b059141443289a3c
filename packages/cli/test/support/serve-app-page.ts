import { createServer, type Server } from 'node:http';
import { listen } from '@gatehouse/core';
import { bundlePage } from './bundle-page.ts';

export interface AppPage {
  readonly server: Server;
  /** http://127.0.0.1:{port}, another origin than Gatehouse's. */
  readonly origin: string;
}

/**
 * Serves a test app on its own origin: `/app.js` is the bundled `entry`, every other path is a page that
 * carries `settings` (read when the page loads, so tests may fill it in after start) and runs the bundle.
 */
export async function serveAppPage(entry: string, settings: Record<string, string>, bodyHtml: string): Promise<AppPage> {
  const bundle = await bundlePage(entry);
  const server = createServer((request, response) => {
    if (request.url === '/app.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
      return;
    }
    const json = JSON.stringify(settings).replace(/</g, '\\u003c');
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end(`<!doctype html><title>app</title><script type="application/json" id="settings">${json}</script>${bodyHtml}<script type="module" src="/app.js"></script>`);
  });
  return { server, origin: `http://127.0.0.1:${await listen(server, 0)}` };
}
