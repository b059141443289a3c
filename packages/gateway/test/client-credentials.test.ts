// OAUTH CLIENT_CREDENTIALS targets: the gateway gets a token at the target's own token endpoint (a real node:http
// stand-in on 127.0.0.1), sends it to the target, shares and caches it; every failure of the token endpoint is a
// CredentialsUnavailable tool error naming it, the target is never called, and the client secret is nowhere.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { closeServer, listen } from '@gatehouse/core';
import { startTestIssuer, type TestIssuer } from '@gatehouse/testing/test-issuer';
import { connectClient, startGatewayStack, type GatewayStack } from '@gatehouse/testing/gateway-stack';
import { PETS_OPENAPI, startPetsApi, type RecordingServer } from '@gatehouse/testing/upstream-servers';

const SECRET = 'pets-secret: with+special/chars';

describe('OAUTH CLIENT_CREDENTIALS credentials', () => {
  let issuer: TestIssuer;
  let pets: RecordingServer;
  let stack: GatewayStack;
  let tokenServer: Server;
  let tokenEndpoint: string;
  /** How the token endpoint answers the `flaky-client` (the `pets-client` always gets a token). */
  let flaky: (response: ServerResponse) => void;
  const tokenRequests: { clientId: string; authorization: string | undefined; form: Record<string, string> }[] = [];
  let issued = 0;

  before(async () => {
    issuer = await startTestIssuer();
    pets = await startPetsApi();
    tokenServer = createServer((request, response) => {
      let body = '';
      request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => {
        const basic = Buffer.from((request.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString('utf8');
        const [clientId, secret] = basic.split(':').map((part) => decodeURIComponent(part.replace(/\+/g, ' ')));
        tokenRequests.push({ clientId: clientId!, authorization: request.headers.authorization, form: Object.fromEntries(new URLSearchParams(body)) });
        if (secret !== SECRET) {
          response.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_client"}');
          return;
        }
        // answered a little later, so that concurrent calls overlap
        setTimeout(() => (clientId === 'flaky-client' ? flaky(response) : grant(response, 600)), 50);
      });
    });
    tokenEndpoint = `http://127.0.0.1:${await listen(tokenServer, 0)}/token`;
    // listing the targets' tools needs their credentials too: the flaky client first gets a token too short to cache
    flaky = (response) => grant(response, 30);
    process.env.GATEHOUSE_SECRET_PETS_SECRET = SECRET;
    const oauth = (endpoint: string, clientId = 'pets-client') => [{ credentialProviderType: 'OAUTH', oauthCredentialProvider: { grantType: 'CLIENT_CREDENTIALS', tokenEndpoint: endpoint, clientId, clientSecretName: 'pets_secret', scopes: ['pets.read'] } }];
    const target = (name: string, credentials: unknown) => ({ name, targetConfiguration: { mcp: { openApiSchema: { inlinePayload: PETS_OPENAPI }, baseUrl: pets.url } }, credentialProviderConfigurations: credentials });
    stack = await startGatewayStack([
      {
        name: 'default',
        authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: issuer.discoveryUrl, allowedClients: ['test-client'] } },
        targets: [target('pets', oauth(tokenEndpoint)), target('flaky', oauth(tokenEndpoint, 'flaky-client')), target('plain', oauth('http://idp.example/token'))],
      },
    ]);
  });

  after(async () => {
    delete process.env.GATEHOUSE_SECRET_PETS_SECRET;
    await stack.close();
    await closeServer(tokenServer);
    await pets.close();
    await issuer.close();
  });

  function grant(response: ServerResponse, expiresIn: number): void {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: `cc-token-${++issued}`, token_type: 'Bearer', expires_in: expiresIn }));
  }

  const call = async (tool: string, user = 'alice') => {
    const { client } = await connectClient(`${stack.baseUrl}/mcp`, issuer.sign({ sub: user }));
    try {
      await client.listTools();
      const result = await client.callTool({ name: tool, arguments: { petId: 'rex' } });
      return { isError: result.isError === true, text: JSON.stringify(result.content) };
    } finally {
      await client.close();
    }
  };

  test('the target receives the issued token; concurrent calls share one token request and later calls reuse it', async () => {
    const before = pets.requests.length;
    const results = await Promise.all([call('pets___get_pet', 'alice'), call('pets___get_pet', 'bob'), call('pets___get_pet', 'carol')]);
    assert.ok(results.every((result) => !result.isError), JSON.stringify(results));
    assert.equal(await call('pets___get_pet').then((result) => result.isError), false);
    const asked = tokenRequests.filter((request) => request.clientId === 'pets-client');
    assert.equal(asked.length, 1, 'one token request for the listing and four calls');
    assert.deepEqual(asked[0]!.form, { grant_type: 'client_credentials', scope: 'pets.read' });
    const token = /Bearer (cc-token-\d+)/.exec(pets.requests.at(-1)!.authorization ?? '')?.[1];
    assert.ok(token);
    assert.deepEqual(pets.requests.slice(before).map((request) => request.authorization), Array(4).fill(`Bearer ${token}`));
  });

  test('each failure of the token endpoint is CredentialsUnavailable naming its cause, and the target is not called', async () => {
    const before = pets.requests.length;
    const cases: [(response: ServerResponse) => void, RegExp][] = [
      [
        (response) => response.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Basic realm="pets"' }).end('{"error":"invalid_client","error_description":"client authentication failed"}'),
        /CredentialsUnavailable: Target flaky: the token endpoint refused \(invalid_client: client authentication failed\); the call was not sent/,
      ],
      [(response) => response.writeHead(502, { 'content-type': 'text/html' }).end('<h1>bad gateway</h1>'), /CredentialsUnavailable: Target flaky: the token endpoint refused \(HTTP 502\)/],
      [(response) => response.writeHead(200, { 'content-type': 'application/json' }).end('{"access_token":"no-token-type"}'), /CredentialsUnavailable: Target flaky: the token endpoint refused \(HTTP 200\)/],
      [(response) => response.socket?.destroy(), /CredentialsUnavailable: Target flaky: the token endpoint could not be reached; the call was not sent/],
    ];
    for (const [answer, expected] of cases) {
      flaky = answer;
      const result = await call('flaky___get_pet');
      assert.ok(result.isError);
      assert.match(result.text, expected);
      assert.ok(!result.text.includes(SECRET) && !result.text.includes(encodeURIComponent(SECRET)));
    }
    assert.equal(pets.requests.length, before, 'the target saw none of these calls');
  });

  test('a plain-http token endpoint off loopback is refused before anything is sent, and the secret is in no log', async () => {
    assert.match(stack.logs(), /Target plain: The token endpoint http:\/\/idp\.example must use https:\/\//);
    assert.ok(!stack.logs().includes(SECRET) && !stack.logs().includes(encodeURIComponent(SECRET)));
    const { client } = await connectClient(`${stack.baseUrl}/mcp`, issuer.sign({ sub: 'alice' }));
    try {
      const { tools } = await client.listTools();
      assert.ok(!tools.some((tool) => tool.name.startsWith('plain___')), 'its tools could not be listed');
    } finally {
      await client.close();
    }
  });
});
