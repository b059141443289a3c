import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BedrockAgentCoreClient, InvokeAgentRuntimeCommand, StopRuntimeSessionCommand } from '@aws-sdk/client-bedrock-agentcore';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import type { SigV4Key } from '@gatehouse/auth';
import { SESSION, parseSse, sessionId, startHarness, type Harness } from './support/runtime-harness.ts';

const KEYS: Record<string, SigV4Key & { accessKeyId: string }> = {
  AKIDRUNTIMEINVOKER1: {
    accessKeyId: 'AKIDRUNTIMEINVOKER1',
    secretAccessKey: 'invoker-secret-0123456789abcdefghijklmnopq',
    principal: { subject: 'backend', arn: 'arn:aws:iam::000000000000:user/backend', permissions: ['bedrock-agentcore:InvokeAgentRuntime'] },
  },
  AKIDRUNTIMEFORUSER1: {
    accessKeyId: 'AKIDRUNTIMEFORUSER1',
    secretAccessKey: 'for-user-secret-0123456789abcdefghijklmno',
    principal: {
      subject: 'bff',
      arn: 'arn:aws:iam::000000000000:user/bff',
      permissions: ['bedrock-agentcore:InvokeAgentRuntime', 'bedrock-agentcore:InvokeAgentRuntimeForUser'],
    },
  },
};

describe('SigV4 runtimes with the AWS SDK (InvokeAgentRuntimeCommand)', () => {
  let harness: Harness;
  let arn: string;
  const client = (accessKeyId: keyof typeof KEYS, secret?: string) =>
    new BedrockAgentCoreClient({
      endpoint: harness.baseUrl,
      region: 'local',
      credentials: { accessKeyId, secretAccessKey: secret ?? KEYS[accessKeyId]!.secretAccessKey },
      maxAttempts: 1,
    });

  before(async () => {
    harness = await startHarness({
      runtimes: [{ agentRuntimeName: 'backend_agent', authorizer: false }, { agentRuntimeName: 'jwt_agent' }],
      deps: { lookupAccessKey: async (id) => KEYS[id] },
    });
    arn = harness.runtime.runtimes[0]!.arn;
  });
  after(() => harness.close());

  test('streams an SSE answer to a SigV4-signed InvokeAgentRuntimeCommand', async () => {
    const id = sessionId('sdk');
    const answer = await client('AKIDRUNTIMEINVOKER1').send(
      new InvokeAgentRuntimeCommand({
        agentRuntimeArn: arn,
        runtimeSessionId: id,
        contentType: 'application/json',
        accept: 'text/event-stream',
        payload: Buffer.from(JSON.stringify({ prompt: 'signed and streamed' })),
      }),
    );
    assert.equal(answer.contentType, 'text/event-stream');
    assert.equal(answer.runtimeSessionId, id);
    assert.equal(answer.statusCode, 200);
    let text = '';
    let chunks = 0;
    for await (const chunk of answer.response as AsyncIterable<Uint8Array>) {
      chunks++;
      text += Buffer.from(chunk).toString('utf8');
    }
    assert.ok(chunks >= 1);
    const events = parseSse(text);
    assert.deepEqual(events.map((event) => event.event), ['text-delta', 'text-delta', 'text-delta', 'message']);
    assert.equal(events.at(-1)!.data.sessionId, id);
    // A SigV4 caller that does not act for a user gets no user id and no workload token.
    assert.equal(events.at(-1)!.data.userId, null);
    assert.equal(events.at(-1)!.data.hasWorkloadAccessToken, false);
  });

  test('passes the user id of a caller allowed InvokeAgentRuntimeForUser, and refuses it otherwise', async () => {
    const allowed = await client('AKIDRUNTIMEFORUSER1').send(
      new InvokeAgentRuntimeCommand({ agentRuntimeArn: arn, runtimeUserId: 'carol', payload: Buffer.from('{"prompt":"hi"}') }),
    );
    const body = JSON.parse(await allowed.response!.transformToString()) as { userId: string };
    assert.equal(body.userId, 'carol');
    const before = (await harness.records()).length;
    await assert.rejects(
      client('AKIDRUNTIMEINVOKER1').send(new InvokeAgentRuntimeCommand({ agentRuntimeArn: arn, runtimeUserId: 'carol', payload: Buffer.from('{}') })),
      (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
        assert.equal(error.name, 'AccessDeniedException');
        assert.equal(error.$metadata?.httpStatusCode, 403);
        assert.match(error.message, /InvokeAgentRuntimeForUser/);
        return true;
      },
    );
    assert.equal((await harness.records()).length, before);
  });

  test('maps errors to the SDK’s exception classes', async () => {
    await assert.rejects(
      client('AKIDRUNTIMEINVOKER1').send(new InvokeAgentRuntimeCommand({ agentRuntimeArn: arn, runtimeSessionId: 'short-session-id', payload: Buffer.from('{}') })),
      (error: Error & { reason?: string; fieldList?: { name: string }[] }) => {
        assert.equal(error.name, 'ValidationException');
        assert.equal(error.reason, 'FieldValidationFailed');
        assert.equal(error.fieldList?.[0]?.name, 'runtimeSessionId');
        return true;
      },
    );
    await assert.rejects(
      client('AKIDRUNTIMEINVOKER1').send(new InvokeAgentRuntimeCommand({ agentRuntimeArn: `${arn}x`, payload: Buffer.from('{}') })),
      { name: 'ResourceNotFoundException' },
    );
  });

  test('StopRuntimeSessionCommand ends the session it names', async () => {
    const id = sessionId('sdkstop');
    const sdk = client('AKIDRUNTIMEINVOKER1');
    const first = await sdk.send(new InvokeAgentRuntimeCommand({ agentRuntimeArn: arn, runtimeSessionId: id, payload: Buffer.from('{}') }));
    const { pid } = JSON.parse(await first.response!.transformToString()) as { pid: number };
    const stopped = await sdk.send(new StopRuntimeSessionCommand({ agentRuntimeArn: arn, runtimeSessionId: id }));
    assert.equal(stopped.runtimeSessionId, id);
    assert.throws(() => process.kill(pid, 0), /ESRCH/);
    await assert.rejects(sdk.send(new StopRuntimeSessionCommand({ agentRuntimeArn: arn, runtimeSessionId: id })), { name: 'ResourceNotFoundException' });
  });

  test('refuses a wrong secret, a tampered body and a signature outside the 5-minute window; the agent receives nothing', async () => {
    const before = (await harness.records()).length;
    await assert.rejects(
      client('AKIDRUNTIMEINVOKER1', 'not-the-secret-0123456789abcdefghijklmnop').send(new InvokeAgentRuntimeCommand({ agentRuntimeArn: arn, payload: Buffer.from('{}') })),
      (error: Error & { $metadata?: { httpStatusCode?: number } }) => error.name === 'AccessDeniedException' && error.$metadata?.httpStatusCode === 403,
    );
    const url = new URL(`${harness.baseUrl}/runtimes/${encodeURIComponent(arn)}/invocations`);
    const sign = async (body: string, signingDate: Date) => {
      const signer = new SignatureV4({ credentials: { accessKeyId: KEYS.AKIDRUNTIMEINVOKER1!.accessKeyId, secretAccessKey: KEYS.AKIDRUNTIMEINVOKER1!.secretAccessKey }, region: 'local', service: 'bedrock-agentcore', sha256: Sha256 });
      const signed = await signer.sign(
        { method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query: {}, headers: { host: url.host, 'content-type': 'application/json' }, body },
        { signingDate },
      );
      return signed.headers;
    };
    const tamperedHeaders = await sign('{"prompt":"signed"}', new Date());
    const tampered = await fetch(url, { method: 'POST', headers: tamperedHeaders, body: '{"prompt":"tampered"}' });
    assert.equal(tampered.status, 403);
    assert.equal(tampered.headers.get('x-amzn-errortype'), 'AccessDeniedException');
    const oldHeaders = await sign('{}', new Date(Date.now() - 10 * 60_000));
    const old = await fetch(url, { method: 'POST', headers: oldHeaders, body: '{}' });
    assert.equal(old.status, 403);
    assert.equal(old.headers.get('x-amzn-errortype'), 'AccessDeniedException');
    assert.match(((await old.json()) as { message: string }).message, /X-Amz-Date/);
    const good = await fetch(url, { method: 'POST', headers: await sign('{}', new Date()), body: '{}' });
    assert.equal(good.status, 200, 'the same hand-signed request with a fresh date is accepted');
    await good.arrayBuffer();
    assert.equal((await harness.records()).length, before + 1);
  });

  test('refuses the wrong authorization method either way with “Authorization method mismatch” naming the configured one', async () => {
    const before = (await harness.records()).length;
    const bearerOnSigV4 = await fetch(harness.url('backend_agent'), { method: 'POST', headers: { authorization: `Bearer ${harness.issuer.sign()}` }, body: '{}' });
    assert.equal(bearerOnSigV4.status, 403);
    assert.equal(bearerOnSigV4.headers.get('x-amzn-errortype'), 'AccessDeniedException');
    assert.match(((await bearerOnSigV4.json()) as { message: string }).message, /^Authorization method mismatch.*\(SigV4\)$/);
    const jwtArn = harness.runtime.runtimes[1]!.arn;
    await assert.rejects(
      client('AKIDRUNTIMEINVOKER1').send(new InvokeAgentRuntimeCommand({ agentRuntimeArn: jwtArn, payload: Buffer.from('{}') })),
      (error: Error) => error.name === 'AccessDeniedException' && /Authorization method mismatch.*\(OAuth\)$/.test(error.message),
    );
    const unsigned = await fetch(harness.url('backend_agent'), { method: 'POST', headers: { [SESSION]: sessionId('unsigned') }, body: '{}' });
    assert.equal(unsigned.status, 403);
    assert.equal((await harness.records()).length, before);
  });
});
