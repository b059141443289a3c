// The runtime's RFC 8693 workload-token exchange over HTTP (@gatehouse/auth's requestToken): each way the token
// endpoint can fail becomes the runtime's answer for it — 503 to retry, 401 for the caller to refresh, 500 for the
// operator — the agent is never called, and neither the client secret nor the caller's token is in the answer.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { closeServer, listen, parseForm, readBody } from '@gatehouse/core';
import { startTestIssuer, type TestIssuer } from '@gatehouse/testing/test-issuer';
import { sessionId, startHarness, type Harness } from './support/runtime-harness.ts';

const SECRET = 'runtime-secret';
let issuer: TestIssuer;
let harness: Harness;
let standIn: Server;
let answer: (response: ServerResponse) => void;
let exchanges = 0;

before(async () => {
  issuer = await startTestIssuer();
  standIn = createServer((request, response) => {
    void readBody(request, 65_536).then((body) => {
      exchanges++;
      assert.equal(parseForm(body).grant_type, 'urn:ietf:params:oauth:grant-type:token-exchange');
      answer(response);
    });
  });
  const tokenEndpoint = `http://127.0.0.1:${await listen(standIn, 0)}/oauth2/token`;
  harness = await startHarness({
    issuer,
    runtimes: [{ agentRuntimeName: 'exchanging', workloadIdentity: { mode: 'token-exchange', audience: 'https://gateway.example/mcp' }, limits: { warmPoolSize: 0 } }],
    deps: { tokenExchange: { clientId: 'runtime-client', clientSecret: SECRET, tokenEndpoint } },
  });
});
after(async () => {
  await harness.close();
  await closeServer(standIn);
  await issuer.close();
});

const json = (status: number, body: string) => (response: ServerResponse) => response.writeHead(status, { 'content-type': 'application/json' }).end(body);

test('each failure of the token exchange is the runtime answer for it, and the agent is not called', async () => {
  const cases: { name: string; answer: (response: ServerResponse) => void; status: number; type: string }[] = [
    { name: 'connection dropped', answer: (response) => response.socket?.destroy(), status: 503, type: 'ServiceUnavailableException' },
    { name: 'invalid_grant', answer: json(400, '{"error":"invalid_grant","error_description":"subject_token revoked"}'), status: 401, type: 'UnauthorizedException' },
    { name: 'invalid_client', answer: json(401, '{"error":"invalid_client"}'), status: 500, type: 'InternalServerException' },
    { name: '400 invalid_target', answer: json(400, '{"error":"invalid_target"}'), status: 500, type: 'InternalServerException' },
    { name: '502 page', answer: (response) => response.writeHead(502, { 'content-type': 'text/html' }).end('<h1>bad gateway</h1>'), status: 500, type: 'InternalServerException' },
    { name: '200 without token_type', answer: json(200, '{"access_token":"wat","expires_in":900}'), status: 500, type: 'InternalServerException' },
  ];
  for (const [index, entry] of cases.entries()) {
    answer = entry.answer;
    const before = (await harness.records()).length;
    const asked = exchanges;
    const token = issuer.sign({ sub: `user-${entry.status}-${asked}` });
    const response = await fetch(harness.url('exchanging'), { method: 'POST', headers: { authorization: `Bearer ${token}`, 'X-Amzn-Bedrock-AgentCore-Runtime-Session-Id': sessionId(`failure${index}`) }, body: '{}' });
    const text = await response.text();
    assert.equal(response.status, entry.status, `${entry.name}: ${text}`);
    assert.equal(response.headers.get('x-amzn-errortype'), entry.type, entry.name);
    if (entry.status === 401) assert.match(response.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    assert.equal(exchanges, asked + 1, `${entry.name}: one exchange`);
    assert.equal((await harness.records()).length, before, `${entry.name}: the agent received nothing`);
    assert.ok(!text.includes(SECRET) && !text.includes(token), `${entry.name}: no credential in the answer`);
  }
  answer = json(200, '{"access_token":"wat-ok","token_type":"Bearer","expires_in":900}');
  const ok = await fetch(harness.url('exchanging'), { method: 'POST', headers: { authorization: `Bearer ${issuer.sign({ sub: 'fine' })}`, 'X-Amzn-Bedrock-AgentCore-Runtime-Session-Id': sessionId('exchange-ok') }, body: '{}' });
  assert.equal(ok.status, 200, 'positive control: a good answer lets the call through');
  await ok.arrayBuffer();
});
