import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import { sessionId, startHarness, type Harness } from './support/runtime-harness.ts';

const PROTOCOL = 'base64UrlBearerAuthorization';
const KEY = {
  accessKeyId: 'AKIDWEBSOCKETCALLER',
  secretAccessKey: 'ws-secret-0123456789abcdefghijklmnopqrstu',
  principal: {
    subject: 'ws-backend',
    arn: 'arn:aws:iam::000000000000:user/ws-backend',
    permissions: ['bedrock-agentcore:InvokeAgentRuntime', 'bedrock-agentcore:InvokeAgentRuntimeWithWebSocketStream'],
  },
};

/** Collects text frames until `count` arrived. */
async function frames(socket: WebSocket, count: number): Promise<Record<string, unknown>[]> {
  const result: Record<string, unknown>[] = [];
  return new Promise((resolve, reject) => {
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      result.push(JSON.parse(data.toString()) as Record<string, unknown>);
      if (result.length === count) resolve(result);
    });
    socket.on('close', () => reject(new Error(`closed after ${result.length} frames`)));
  });
}

/** Resolves with the HTTP status of a refused upgrade (and its error type). */
function refusal(socket: WebSocket): Promise<{ status: number; type: string | undefined }> {
  return new Promise((resolve, reject) => {
    socket.on('unexpected-response', (_request, response) => {
      resolve({ status: response.statusCode ?? 0, type: response.headers['x-amzn-errortype'] as string | undefined });
      response.resume();
      socket.terminate();
    });
    socket.on('open', () => reject(new Error('the upgrade was accepted')));
    socket.on('error', () => undefined);
  });
}

describe('GET /runtimes/{arn}/ws', () => {
  let harness: Harness;
  let token: string;
  const wsUrl = (name: string, id: string, extra = '') => `${harness.baseUrl.replace('http', 'ws')}/runtimes/${name}/ws?X-Amzn-Bedrock-AgentCore-Runtime-Session-Id=${id}${extra}`;
  const offer = (value: string) => [`${PROTOCOL}.${Buffer.from(value).toString('base64url')}`, PROTOCOL];
  const wsRecords = async () => (await harness.records()).filter((entry) => entry.event === 'websocket');

  before(async () => {
    harness = await startHarness({
      runtimes: [
        {
          agentRuntimeName: 'chat',
          requestHeaderConfiguration: { requestHeaderAllowlist: ['X-Amzn-Bedrock-AgentCore-Runtime-Custom-Locale'] },
          limits: { warmPoolSize: 1, websocket: { maxFrameBytes: 1024, maxFramesPerSecond: 20, maxConnectionSeconds: 2 } },
        },
        { agentRuntimeName: 'signed_chat', authorizer: false, limits: { warmPoolSize: 0 } },
      ],
      deps: { lookupAccessKey: async (id) => (id === KEY.accessKeyId ? KEY : undefined) },
    });
    token = harness.issuer.sign({ sub: 'dave' });
  });
  after(() => harness.close());

  test('accepts the bearer token in Sec-WebSocket-Protocol, answers with the bare protocol and pipes frames both ways', async () => {
    const id = sessionId('ws');
    const socket = new WebSocket(wsUrl('chat', id, '&X-Amzn-Bedrock-AgentCore-Runtime-Custom-Locale=de-CH'), offer(token));
    await once(socket, 'open');
    assert.equal(socket.protocol, PROTOCOL);
    const received = frames(socket, 3);
    socket.send(JSON.stringify({ prompt: 'hello socket' }));
    const [first, second, final] = await received;
    assert.deepEqual([first!.type, first!.delta, second!.delta], ['text-delta', 'hello', 'socket']);
    assert.equal(final!.type, 'message');
    assert.equal(final!.userId, 'dave');
    assert.equal(final!.sessionId, id);
    const binary = once(socket, 'message');
    socket.send(Buffer.from([1, 2, 3]), { binary: true });
    const [data, isBinary] = (await binary) as [Buffer, boolean];
    assert.equal(isBinary, true);
    assert.deepEqual([...data], [1, 2, 3]);
    socket.close();
    const seen = (await wsRecords()).at(-1)!;
    assert.equal(seen.headers!['x-amzn-bedrock-agentcore-runtime-custom-locale'], 'de-CH');
    assert.equal(seen.headers!['sec-websocket-protocol'], undefined, 'the token-bearing subprotocol never reaches the agent');
  });

  test('accepts Authorization: Bearer on the upgrade too', async () => {
    const socket = new WebSocket(wsUrl('chat', sessionId('wsheader')), { headers: { authorization: `Bearer ${token}` } });
    await once(socket, 'open');
    const received = frames(socket, 2);
    socket.send(JSON.stringify({ prompt: 'x' }));
    assert.equal((await received)[1]!.userId, 'dave');
    socket.close();
  });

  test('refuses the upgrade before it happens: 401 without a token, 403 with a forged one or another user’s session', async () => {
    const owned = sessionId('wsowned');
    const socket = new WebSocket(wsUrl('chat', owned), offer(token));
    await once(socket, 'open');
    socket.close();
    const before = (await wsRecords()).length;
    assert.deepEqual(await refusal(new WebSocket(wsUrl('chat', sessionId('wsnone')))), { status: 401, type: 'UnauthorizedException' });
    const forged = `${token.slice(0, -4)}AAAA`;
    assert.deepEqual(await refusal(new WebSocket(wsUrl('chat', sessionId('wsforged')), offer(forged))), { status: 403, type: 'AccessDeniedException' });
    const erin = harness.issuer.sign({ sub: 'erin' });
    assert.deepEqual(await refusal(new WebSocket(wsUrl('chat', owned), offer(erin))), { status: 403, type: 'AccessDeniedException' });
    assert.equal((await wsRecords()).length, before);
  });

  test('closes with 1009 when a frame exceeds maxFrameBytes', async () => {
    const socket = new WebSocket(wsUrl('chat', sessionId('wsbig')), offer(token));
    await once(socket, 'open');
    socket.send('x'.repeat(2048));
    const [code] = (await once(socket, 'close')) as [number, Buffer];
    assert.equal(code, 1009);
  });

  test('closes with 1008 when the client sends more than maxFramesPerSecond', async () => {
    const socket = new WebSocket(wsUrl('chat', sessionId('wsrate')), offer(token));
    await once(socket, 'open');
    for (let index = 0; index < 40; index++) socket.send('ping');
    const [code, reason] = (await once(socket, 'close')) as [number, Buffer];
    assert.equal(code, 1008);
    assert.match(reason.toString(), /20 frames per second/);
  });

  test('closes with 1008 after maxConnectionSeconds', async () => {
    const socket = new WebSocket(wsUrl('chat', sessionId('wslong')), offer(token));
    await once(socket, 'open');
    const [code, reason] = (await once(socket, 'close')) as [number, Buffer];
    assert.equal(code, 1008);
    assert.match(reason.toString(), /Max connection duration of 2 seconds is exceeded/);
  });

  test('an agent that dies closes the client with 1011 and the session restarts fresh', async () => {
    const id = sessionId('wscrash');
    const socket = new WebSocket(wsUrl('chat', id), offer(token));
    await once(socket, 'open');
    const answer = frames(socket, 2);
    socket.send(JSON.stringify({ prompt: 'pid' }));
    const pid = (await answer)[1]!.pid as number;
    socket.send(JSON.stringify({ crash: true }));
    const [code] = (await once(socket, 'close')) as [number, Buffer];
    assert.equal(code, 1011);
    const again = new WebSocket(wsUrl('chat', id), offer(token));
    await once(again, 'open');
    const next = frames(again, 2);
    again.send(JSON.stringify({ prompt: 'pid' }));
    assert.notEqual((await next)[1]!.pid, pid);
    again.close();
  });

  test('accepts a SigV4 presigned URL on a SigV4 runtime and refuses a tampered one', async () => {
    const arn = harness.runtime.runtimes[1]!.arn;
    const url = new URL(`${harness.baseUrl}/runtimes/${encodeURIComponent(arn)}/ws`);
    const id = sessionId('wspresigned');
    const signer = new SignatureV4({ credentials: KEY, region: 'local', service: 'bedrock-agentcore', sha256: Sha256 });
    const presigned = await signer.presign(
      { method: 'GET', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query: { 'X-Amzn-Bedrock-AgentCore-Runtime-Session-Id': id }, headers: { host: url.host } },
      { expiresIn: 300 },
    );
    const query = new URLSearchParams(presigned.query as Record<string, string>).toString().replace(/\+/g, '%20');
    const target = `ws://${url.host}${url.pathname}?${query}`;
    const socket = new WebSocket(target);
    await once(socket, 'open');
    const received = frames(socket, 2);
    socket.send(JSON.stringify({ prompt: 'signed' }));
    assert.equal((await received)[1]!.sessionId, id);
    socket.close();
    const tampered = target.replace(encodeURIComponent(id), encodeURIComponent(sessionId('wsother')));
    assert.deepEqual(await refusal(new WebSocket(tampered)), { status: 403, type: 'AccessDeniedException' });
  });
});
