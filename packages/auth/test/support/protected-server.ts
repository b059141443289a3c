import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createAppServer, sendJson, closeServer, type HttpComponent } from '@gatehouse/core';
import { AuthError } from '../../src/auth-error.ts';
import { readCredential } from '../../src/read-credential.ts';
import type { JwtAuthorizer } from '../../src/jwt-authorizer.ts';

export interface ProtectedServer {
  readonly url: string;
  /** How many requests got past the authorizer to the protected handler. */
  readonly reached: { count: number };
  close(): Promise<void>;
}

/** A real one-port server whose only route is guarded by the authorizer: what a runtime or gateway does. */
export async function startProtectedServer(authorizer: JwtAuthorizer): Promise<ProtectedServer> {
  const reached = { count: 0 };
  const component: HttpComponent = {
    name: 'protected',
    async handle(request, response, url) {
      try {
        const credential = readCredential(request.headers, url.searchParams, request.rawHeaders);
        if (credential.kind !== 'bearer') throw new AuthError('missing', 'A bearer token is required.');
        const principal = await authorizer.verify(credential.token);
        reached.count++;
        sendJson(response, 200, { subject: principal.subject, clientId: principal.clientId ?? null, groups: principal.groups });
      } catch (error) {
        if (!(error instanceof AuthError)) throw error;
        const wire = error.toResponse();
        response.writeHead(wire.status, { ...wire.headers, 'x-auth-code': error.code }).end(wire.body);
      }
      return true;
    },
    async close() {},
  };
  const server: Server = createAppServer([component]);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    reached,
    async close() {
      await closeServer(server);
    },
  };
}
