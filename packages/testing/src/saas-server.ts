// "The SaaS" of the token-vault tests: a real OAuth/OIDC authorization server (panva's oidc-provider, with its own
// login and consent pages) and a small MCP server of the SaaS that accepts only that server's JWT access tokens
// carrying the right scope, checked against the SaaS's JWKS. Everything on 127.0.0.1, ports chosen at run time.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

export const SAAS_RESOURCE = 'urn:saas:api';
export const SAAS_SCOPE = 'tickets:read';

export interface Saas {
  readonly issuer: string;
  readonly discoveryUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The SaaS's MCP endpoint (`/mcp`), protected by the SaaS's tokens. */
  readonly mcpUrl: string;
  /** Every Authorization header the MCP server received, in order (to prove no Gatehouse token reached it). */
  readonly seenAuthorizations: string[];
  /** How many token requests the SaaS answered, per grant type. */
  readonly grants: Record<string, number>;
  /** Tokens revoked at the SaaS (RFC 7009 requests received). */
  revocations(): number;
  /** Takes the authorization server down (the MCP server stays up): "the provider is down". */
  stopAuthorizationServer(): Promise<void>;
  close(): Promise<void>;
}

async function listenOn(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function closeHttp(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Starts the SaaS authorization server; `callbackUrl` is Gatehouse's redirect URI registered for its client. */
export async function startSaas(options: { callbackUrl: string; accessTokenSeconds?: number }): Promise<Saas> {
  const authServer = createServer();
  const port = await listenOn(authServer);
  const issuer = `http://127.0.0.1:${port}`;
  const clientSecret = `saas-secret-${randomBytes(16).toString('hex')}`;
  const grants: Record<string, number> = {};
  let revoked = 0;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: 'gatehouse-vault', client_secret: clientSecret, redirect_uris: [options.callbackUrl],
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic',
    }],
    pkce: { required: () => true },
    scopes: ['openid', 'offline_access', SAAS_SCOPE],
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => SAAS_RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({ scope: SAAS_SCOPE, audience: SAAS_RESOURCE, accessTokenTTL: options.accessTokenSeconds ?? 3600, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } }),
      },
    },
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(type: string): boolean }) => client.grantTypeAllowed('refresh_token'),
    findAccount: async (_ctx: unknown, id: string) => ({ accountId: id, claims: async () => ({ sub: id }) }),
    cookies: { keys: [randomBytes(16).toString('hex')] },
  });
  provider.on('grant.success', (ctx: { oidc: { params?: { grant_type?: string } } }) => {
    const type = String(ctx.oidc.params?.grant_type ?? 'unknown');
    grants[type] = (grants[type] ?? 0) + 1;
  });
  provider.on('grant.revoked', () => {
    revoked++;
  });
  authServer.on('request', provider.callback());

  const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`));
  const seenAuthorizations: string[] = [];
  const mcpServer = createServer((request, response) => void serveMcp(request, response));
  async function serveMcp(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const authorization = request.headers.authorization ?? '';
    seenAuthorizations.push(authorization);
    let subject: string;
    try {
      const { payload } = await jwtVerify(authorization.replace(/^Bearer /, ''), jwks, { issuer, audience: SAAS_RESOURCE });
      if (!String(payload.scope ?? '').split(' ').includes(SAAS_SCOPE)) throw new Error('scope');
      // client-credentials tokens name the client, user tokens the user
      subject = String(payload.sub ?? payload.client_id);
    } catch {
      response.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"', 'content-type': 'application/json' }).end('{"error":"invalid_token"}');
      return;
    }
    const server = new McpServer({ name: 'saas-tickets', version: '1.0.0' });
    server.registerTool('list_tickets', { description: 'The calling user’s open tickets', inputSchema: { status: z.string().optional() } }, async () => ({
      content: [{ type: 'text', text: `tickets of ${subject}: #1 printer on fire` }],
    }));
    const transport = new StreamableHTTPServerTransport({ enableJsonResponse: true });
    response.on('close', () => void transport.close());
    await server.connect(transport);
    await transport.handleRequest(request, response);
  }
  const mcpPort = await listenOn(mcpServer);
  return {
    issuer,
    discoveryUrl: `${issuer}/.well-known/openid-configuration`,
    clientId: 'gatehouse-vault',
    clientSecret,
    mcpUrl: `http://127.0.0.1:${mcpPort}/mcp`,
    seenAuthorizations,
    grants,
    revocations: () => revoked,
    stopAuthorizationServer: async () => {
      if (authServer.listening) await closeHttp(authServer);
    },
    async close() {
      await closeHttp(mcpServer);
      if (authServer.listening) await closeHttp(authServer);
    },
  };
}
