import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { CognitoIdentityProviderClient, AdminGetUserCommand } from '@aws-sdk/client-cognito-identity-provider';
import { S3Client, ListBucketsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { closeServer, createAppServer, readBody, type HttpComponent } from '@gatehouse/core';
import { createSigV4Verifier, AuthError, type SigV4Form, type SigV4Key, type SigV4Verification, type SigV4VerifierOptions } from '../src/index.ts';
import { NodeSha256 } from '../src/node-sha256.ts';

/** A key that carries who the caller is, as the sandbox's STS and S3 fronts look keys up. */
type TenantKey = SigV4Key & { readonly tenant: { readonly accountId: string; readonly role: string } };

const keys = new Map<string, TenantKey>([
  ['AKIDTENANT000001', { secretAccessKey: 'tenant-secret-0001', principal: { subject: 'ops', arn: 'arn:aws:iam::111111111111:user/ops', permissions: ['*'] }, tenant: { accountId: '111111111111', role: 'admin' } }],
  ['ASIATENANT000001', { secretAccessKey: 'tenant-secret-0002', sessionToken: 'tenant-session-token', expiresAt: Math.floor(Date.now() / 1000) + 3600, principal: { subject: 'carol', arn: 'arn:aws:sts::222222222222:assumed-role/ReadOnly/carol', permissions: [] }, tenant: { accountId: '222222222222', role: 'ReadOnly' } }],
]);
const lookups: string[] = [];
const lookupKey = async (id: string): Promise<TenantKey | undefined> => {
  lookups.push(id);
  return keys.get(id);
};
const longTerm = { accessKeyId: 'AKIDTENANT000001', secretAccessKey: 'tenant-secret-0001' };
const temporary = { accessKeyId: 'ASIATENANT000001', secretAccessKey: 'tenant-secret-0002', sessionToken: 'tenant-session-token' };

interface Outcome { readonly verified?: SigV4Verification<TenantKey>; readonly error?: AuthError; readonly reached: boolean }

interface Target {
  readonly url: string;
  readonly host: string;
  readonly outcomes: Outcome[];
  close(): Promise<void>;
}

/** A real one-port server whose protected handler runs only after `authenticate` succeeded. */
async function startTarget(options: Omit<SigV4VerifierOptions<TenantKey>, 'lookupKey'>, form: SigV4Form, answer: string, contentType: string): Promise<Target> {
  const verifier = createSigV4Verifier<TenantKey>({ ...options, lookupKey });
  const outcomes: Outcome[] = [];
  const component: HttpComponent = {
    name: 'protected',
    async handle(request, response) {
      const body = await readBody(request, 1024 * 1024);
      try {
        const verified = await verifier.authenticate({ method: request.method ?? 'GET', rawPath: request.url ?? '/', headers: request.headers, body }, form);
        outcomes.push({ verified, reached: true });
        response.writeHead(200, { 'content-type': contentType }).end(answer);
      } catch (error) {
        if (!(error instanceof AuthError)) throw error;
        outcomes.push({ error, reached: false });
        response.writeHead(error.status, { 'content-type': 'application/json', 'x-amzn-errortype': 'AccessDeniedException' }).end(JSON.stringify({ message: error.message }));
      }
      return true;
    },
    async close() {},
  };
  const server = createAppServer([component]);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url: `http://${host}`, host, outcomes, close: () => closeServer(server) };
}

const targets: Target[] = [];
after(async () => {
  for (const target of targets) await target.close();
});

async function adminGetUser(target: Target, region: string, credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = longTerm): Promise<Outcome> {
  const before = target.outcomes.length;
  const client = new CognitoIdentityProviderClient({ region, endpoint: target.url, credentials, maxAttempts: 1 });
  await client.send(new AdminGetUserCommand({ UserPoolId: 'us-east-1_abcdef', Username: 'alice' })).catch(() => undefined);
  client.destroy();
  assert.equal(target.outcomes.length, before + 1, 'exactly one request reached the verifier');
  return target.outcomes[before]!;
}

const USER = '{"Username":"alice","UserAttributes":[]}';

describe('SigV4 region policy', () => {
  let listed: Target;
  let anyRegion: Target;
  let single: Target;

  before(async () => {
    listed = await startTarget({ service: 'cognito-idp', region: ['us-east-1', 'eu-west-1'] }, 'header', USER, 'application/x-amz-json-1.1');
    anyRegion = await startTarget({ service: 'cognito-idp', region: '*' }, 'header', USER, 'application/x-amz-json-1.1');
    single = await startTarget({ service: 'cognito-idp', region: 'eu-west-1' }, 'header', USER, 'application/x-amz-json-1.1');
    targets.push(listed, anyRegion, single);
  });

  it('accepts a request signed for each region of a listed policy and reports that region', async () => {
    for (const region of ['us-east-1', 'eu-west-1']) {
      const outcome = await adminGetUser(listed, region);
      assert.equal(outcome.error, undefined);
      assert.deepEqual([outcome.verified?.region, outcome.verified?.principal.subject], [region, 'ops']);
    }
  });

  it('refuses a request signed for a region outside the list, naming the allowed ones, before any key lookup', async () => {
    const before = lookups.length;
    const outcome = await adminGetUser(listed, 'ap-south-1');
    assert.deepEqual([outcome.error?.code, outcome.error?.status, outcome.reached], ['wrong_region', 403, false]);
    assert.match(outcome.error!.message, /signed for region 'ap-south-1', but this server signs for one of 'us-east-1', 'eu-west-1'\. Set the client's region to 'us-east-1'/);
    assert.equal(lookups.length, before);
  });

  it('a single region still refuses every other region', async () => {
    assert.equal((await adminGetUser(single, 'eu-west-1')).verified?.region, 'eu-west-1');
    const outcome = await adminGetUser(single, 'us-east-1');
    assert.deepEqual([outcome.error?.code, outcome.reached], ['wrong_region', false]);
    assert.match(outcome.error!.message, /signed for region 'us-east-1', but this server signs for 'eu-west-1'/);
  });

  it("'*' accepts any region, including a made-up one, and still checks the signature and the service", async () => {
    for (const region of ['local', 'ap-southeast-2']) {
      assert.equal((await adminGetUser(anyRegion, region)).verified?.region, region);
    }
    const forged = await adminGetUser(anyRegion, 'local', { ...longTerm, secretAccessKey: 'forged' });
    assert.deepEqual([forged.error?.code, forged.reached], ['signature_mismatch', false]);
    const before = anyRegion.outcomes.length;
    const client = new S3Client({ region: 'local', endpoint: anyRegion.url, forcePathStyle: true, credentials: longTerm, maxAttempts: 1 });
    await assert.rejects(client.send(new ListBucketsCommand({})));
    client.destroy();
    assert.deepEqual([anyRegion.outcomes[before]?.error?.code, anyRegion.outcomes[before]?.reached], ['malformed', false]);
    assert.match(anyRegion.outcomes[before]!.error!.message, /service must be 'cognito-idp'/);
  });

  it('refuses a bad region policy when the verifier is created', () => {
    for (const region of ['', 'US-EAST-1', 'us east 1', '**', [], ['us-east-1', 'us-east-1'], ['*']] as const) {
      assert.throws(() => createSigV4Verifier({ service: 'cognito-idp', region, lookupKey }), (error: unknown) => error instanceof Error && /region/.test(error.message), JSON.stringify(region));
    }
  });
});

describe('SigV4 keys with extra fields', () => {
  let target: Target;

  before(async () => {
    target = await startTarget({ service: 'cognito-idp', region: 'us-east-1' }, 'header', USER, 'application/x-amz-json-1.1');
    targets.push(target);
  });

  it('hands the looked-up key, extra fields included, to the caller with the access key id', async () => {
    const outcome = await adminGetUser(target, 'us-east-1', temporary);
    assert.equal(outcome.verified?.key, keys.get('ASIATENANT000001'));
    assert.deepEqual(outcome.verified?.key.tenant, { accountId: '222222222222', role: 'ReadOnly' });
    assert.deepEqual(
      { accessKeyId: outcome.verified?.accessKeyId, form: outcome.verified?.form, subject: outcome.verified?.principal.subject, arn: outcome.verified?.principal.arn },
      { accessKeyId: 'ASIATENANT000001', form: 'header', subject: 'carol', arn: 'arn:aws:sts::222222222222:assumed-role/ReadOnly/carol' },
    );
    assert.equal('tenant' in outcome.verified!.principal, false, 'the principal carries no key fields');
  });

  it('marks a missing or wrong session token with detail session_token, keeping the code', async () => {
    for (const credentials of [{ accessKeyId: temporary.accessKeyId, secretAccessKey: temporary.secretAccessKey }, { ...temporary, sessionToken: 'forged-token' }, { ...longTerm, sessionToken: 'not-for-long-term-keys' }]) {
      const outcome = await adminGetUser(target, 'us-east-1', credentials);
      assert.deepEqual([outcome.error?.code, outcome.error?.detail, outcome.reached], ['unknown_access_key', 'session_token', false]);
    }
    const wrongSecret = await adminGetUser(target, 'us-east-1', { ...longTerm, secretAccessKey: 'wrong' });
    assert.deepEqual([wrongSecret.error?.code, wrongSecret.error?.detail], ['signature_mismatch', undefined]);
  });
});

describe('SigV4 for S3: either form, UNSIGNED-PAYLOAD, body hash', () => {
  const now = Date.now();
  let target: Target;

  before(async () => {
    target = await startTarget({ service: 's3', region: '*', maxPresignExpirySeconds: 604_800, clock: () => now }, 'either', '', 'application/xml');
    targets.push(target);
  });

  function signer(region = 'us-east-1'): SignatureV4 {
    return new SignatureV4({ credentials: temporary, region, service: 's3', sha256: NodeSha256, uriEscapePath: false });
  }

  async function send(path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Outcome> {
    const before = target.outcomes.length;
    const response = await fetch(`${target.url}${path}`, { method: init.method ?? 'GET', headers: init.headers ?? {}, ...(init.body !== undefined ? { body: init.body } : {}) });
    await response.arrayBuffer();
    assert.equal(target.outcomes.length, before + 1);
    return target.outcomes[before]!;
  }

  async function presign(path: string, options: { expiresIn?: number; signingDate?: Date } = {}): Promise<string> {
    // What @aws-sdk/s3-request-presigner does: the payload is UNSIGNED-PAYLOAD, host the only signed header.
    const presigned = await signer().presign(
      { method: 'GET', protocol: 'http:', hostname: '127.0.0.1', path, query: { 'x-id': 'GetObject' }, headers: { host: target.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } },
      { expiresIn: options.expiresIn ?? 900, signingDate: options.signingDate ?? new Date(now) },
    );
    const query = Object.entries(presigned.query ?? {}).map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`).join('&');
    return `${path}?${query}`;
  }

  it('accepts a PutObject from the real S3 client (raw path, signed body hash) in header form', async () => {
    const before = target.outcomes.length;
    const client = new S3Client({ region: 'eu-central-1', endpoint: target.url, forcePathStyle: true, credentials: temporary, maxAttempts: 1, systemClockOffset: now - Date.now() });
    await client.send(new PutObjectCommand({ Bucket: 'reports', Key: 'q3/summary 2026.txt', Body: 'hello' }));
    client.destroy();
    const outcome = target.outcomes[before]!;
    assert.deepEqual([outcome.verified?.form, outcome.verified?.region, outcome.verified?.key.tenant.accountId], ['header', 'eu-central-1', '222222222222']);
  });

  it('accepts UNSIGNED-PAYLOAD in header form for s3', async () => {
    const signed = await signer().sign({ method: 'PUT', protocol: 'http:', hostname: '127.0.0.1', path: '/reports/a.txt', headers: { host: target.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }, body: 'anything' }, { signingDate: new Date(now) });
    const outcome = await send('/reports/a.txt', { method: 'PUT', headers: signed.headers as Record<string, string>, body: 'anything' });
    assert.equal(outcome.verified?.principal.subject, 'carol');
  });

  it('refuses a body that does not match the signed x-amz-content-sha256 with detail content_sha256', async () => {
    const hash = createHash('sha256').update('signed body').digest('hex');
    const signed = await signer().sign({ method: 'PUT', protocol: 'http:', hostname: '127.0.0.1', path: '/reports/a.txt', headers: { host: target.host, 'x-amz-content-sha256': hash }, body: 'signed body' }, { signingDate: new Date(now) });
    const outcome = await send('/reports/a.txt', { method: 'PUT', headers: signed.headers as Record<string, string>, body: 'other body' });
    assert.deepEqual([outcome.error?.code, outcome.error?.detail, outcome.reached], ['signature_mismatch', 'content_sha256', false]);
  });

  it('accepts an S3-style presigned URL and reports the presigned form', async () => {
    const outcome = await send(await presign('/reports/q3/summary%202026.txt'));
    assert.deepEqual([outcome.verified?.form, outcome.verified?.accessKeyId, outcome.verified?.key.tenant.role], ['presigned', 'ASIATENANT000001', 'ReadOnly']);
  });

  it('refuses a tampered or expired presigned URL, one carrying an Authorization header too, and a request with neither', async () => {
    const tampered = await send((await presign('/reports/a.txt')).replace('/reports/a.txt', '/reports/b.txt'));
    assert.deepEqual([tampered.error?.code, tampered.reached], ['signature_mismatch', false]);
    const expired = await send(await presign('/reports/a.txt', { expiresIn: 60, signingDate: new Date(now - 120_000) }));
    assert.deepEqual([expired.error?.code, expired.reached], ['expired', false]);
    const signed = await signer().sign({ method: 'GET', protocol: 'http:', hostname: '127.0.0.1', path: '/reports/a.txt', headers: { host: target.host } }, { signingDate: new Date(now) });
    const both = await send(await presign('/reports/a.txt'), { headers: signed.headers as Record<string, string> });
    assert.deepEqual([both.error?.code, both.reached], ['malformed', false]);
    assert.match(both.error!.message, /not both/);
    const anonymous = await send('/reports/a.txt');
    assert.deepEqual([anonymous.error?.code, anonymous.error?.status, anonymous.reached], ['missing', 403, false]);
  });
});
