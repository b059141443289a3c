import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { CognitoIdentityProviderClient, InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createJwtAuthorizer, type JwtAuthorizer } from '@gatehouse/auth';
import { closeServer, listen } from '@gatehouse/core';
import { startIdentity, type RunningIdentity } from '@gatehouse/testing/start-identity';
import { connectClient, startGatewayStack, type GatewayStack } from '@gatehouse/testing/gateway-stack';

interface ProtectedMcp {
  readonly url: string;
  readonly seen: { status: number; claims?: Record<string, unknown> }[];
  close(): Promise<void>;
}

/** An MCP server that, like a careful third-party API, accepts only tokens minted for its own URL and acted on by the gateway. */
async function startProtectedMcp(discoveryUrl: string): Promise<ProtectedMcp> {
  const seen: ProtectedMcp['seen'] = [];
  const holder: { authorizer?: JwtAuthorizer } = {};
  const server = createServer((request, response) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      let claims: Record<string, unknown>;
      try {
        const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
        if (!token) throw new Error('no token');
        claims = { ...(await holder.authorizer!.verify(token)).claims };
        if ((claims.act as { sub?: unknown } | undefined)?.sub !== 'gatehouse-gateway') throw new Error('not acted on by the gateway');
      } catch {
        seen.push({ status: 401 });
        response.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_token"}');
        return;
      }
      seen.push({ status: 200, claims });
      const mcp = new McpServer({ name: 'protected', version: '1.0.0' });
      mcp.registerTool('whoami', { description: 'The verified caller as this server sees it' }, async () => ({
        content: [{ type: 'text', text: JSON.stringify({ sub: claims.sub, aud: claims.aud, act: claims.act }) }],
      }));
      const transport = new StreamableHTTPServerTransport({ enableJsonResponse: true });
      response.on('close', () => void mcp.close());
      await mcp.connect(transport);
      const body = Buffer.concat(chunks).toString('utf8');
      await transport.handleRequest(request, response, body ? JSON.parse(body) : undefined);
    })().catch(() => {
      if (!response.headersSent) response.writeHead(500).end();
    });
  });
  const port = await listen(server, 0);
  const url = `http://127.0.0.1:${port}/mcp`;
  holder.authorizer = createJwtAuthorizer({ discoveryUrl, allowedAudience: [url] });
  return {
    url,
    seen,
    async close() {
      holder.authorizer?.close();
      await closeServer(server);
    },
  };
}

describe('OAUTH TOKEN_EXCHANGE credentials against the identity service', () => {
  let identity: RunningIdentity;
  let target: ProtectedMcp;
  let stack: GatewayStack;
  let userToken: string;

  before(async () => {
    identity = await startIdentity();
    const pool = identity.identity.defaultPool;
    const cognito = new CognitoIdentityProviderClient({ endpoint: identity.baseUrl, region: 'local', credentials: { accessKeyId: 'AKIAUNUSED00000000000', secretAccessKey: 'unused' } });
    const first = identity.identity.firstRun!;
    const login = await cognito.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: pool.webClientId, AuthParameters: { USERNAME: first.username, PASSWORD: first.password } }));
    cognito.destroy();
    userToken = login.AuthenticationResult!.AccessToken!;
    target = await startProtectedMcp(pool.discoveryUrl);
    stack = await startGatewayStack(
      [
        {
          name: 'default',
          authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: pool.discoveryUrl, allowedClients: [pool.webClientId] } },
          targets: [
            {
              name: 'partner',
              targetConfiguration: { mcp: { mcpServer: { endpoint: target.url } } },
              credentialProviderConfigurations: [{ credentialProviderType: 'OAUTH', oauthCredentialProvider: { grantType: 'TOKEN_EXCHANGE' } }],
            },
          ],
        },
      ],
      { serviceClient: identity.identity.serviceClient('gateway') },
    );
  });

  after(async () => {
    await stack.close();
    await target.close();
    await identity.close();
  });

  test('the target receives an audience-bound token whose act claim names the gateway', async () => {
    const { client } = await connectClient(`${stack.baseUrl}/mcp`, userToken);
    try {
      const { tools } = await client.listTools();
      assert.ok(tools.some((tool) => tool.name === 'partner___whoami'));
      const result = await client.callTool({ name: 'partner___whoami', arguments: {} });
      const seen = JSON.parse((result.content as { text: string }[])[0]!.text) as { sub: string; aud: unknown; act: { sub: string } };
      const userSub = JSON.parse(Buffer.from(userToken.split('.')[1]!, 'base64url').toString('utf8')).sub as string;
      assert.equal(seen.sub, userSub);
      assert.equal(seen.aud, target.url);
      assert.equal(seen.act.sub, 'gatehouse-gateway');
      assert.ok(target.seen.every((entry) => entry.status === 200), 'every request the gateway sent carried an exchanged token');
    } finally {
      await client.close();
    }
  });

  test('the target rejects the user\'s original token', async () => {
    const response = await fetch(target.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${userToken}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    assert.equal(response.status, 401);
    assert.equal(target.seen.at(-1)?.status, 401);
  });
});
