import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IdentityContext } from './identity-context.ts';

export async function handleOAuth(_context: IdentityContext, _request: IncomingMessage, _response: ServerResponse, _url: URL): Promise<boolean> {
  return false;
}
