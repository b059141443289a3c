import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { S3Client, DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { STSClient, AssumeRoleCommand } from '@aws-sdk/client-sts';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import { adminCredentials, startStack, type TestStack } from './helpers.ts';

/*
 * Hostile input against the sandbox accounts (issue 13): each test sends what an attacker would, asserts the
 * refusal in the caller's wire shape, and asserts that the protected side (Production's objects on disk,
 * the credential store) did not change; each has a positive control.
 */

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken: string };

let stack: TestStack;
const logs = new PassThrough();
let logText = '';
logs.on('data', (chunk: Buffer) => {
  logText += chunk.toString('utf8');
});

before(async () => {
  stack = await startStack({ logs });
});
after(async () => {
  await stack.close();
});

const PRODUCTION_LOG = 'app/2026/11/23/web-01.log';
const PRODUCTION_BUCKET = '111111111111-prod-app-logs';

async function roleCredentials(accountId: string, role: string, groups: string): Promise<Credentials> {
  const sts = new STSClient({ endpoint: stack.sandbox.stsEndpoint, region: 'local', credentials: adminCredentials(), maxAttempts: 1 });
  const result = await sts.send(new AssumeRoleCommand({
    RoleArn: `arn:aws:iam::${accountId}:role/${role}`,
    RoleSessionName: 'attacker',
    Tags: [{ Key: 'sub', Value: 'sub-attacker' }, { Key: 'groups', Value: groups }],
  }));
  return { accessKeyId: result.Credentials!.AccessKeyId!, secretAccessKey: result.Credentials!.SecretAccessKey!, sessionToken: result.Credentials!.SessionToken! };
}

function s3(credentials: Credentials): S3Client {
  return new S3Client({ endpoint: stack.sandbox.s3Endpoint, forcePathStyle: true, region: 'us-east-1', credentials, maxAttempts: 1 });
}

/** Where s3rver keeps an object's bytes: the thing the attack would remove. */
function objectFile(storedBucket: string, key: string): string {
  return path.join(stack.dataDir, 'sandbox-s3', storedBucket, `${key}._S3rver_object`);
}

async function productionLogIsIntact(): Promise<void> {
  assert.ok(existsSync(objectFile(PRODUCTION_BUCKET, PRODUCTION_LOG)), 'the Production object is still on disk');
  const reader = s3(await roleCredentials('111111111111', 'GatehouseOpsReadOnly', 'ops-readonly'));
  const object = await reader.send(new GetObjectCommand({ Bucket: 'prod-app-logs', Key: PRODUCTION_LOG }));
  assert.match(await object.Body!.transformToString(), /request served path=\/checkout/);
}

/**
 * A SigV4-signed request exactly as a client would send it, with a body hash and (optionally) Content-MD5, over
 * node:http so the path goes out byte for byte (fetch would resolve a %2E%2E segment before sending).
 */
async function signedFetch(credentials: Credentials, method: string, pathAndQuery: string, body = '', extraHeaders: Record<string, string> = {}): Promise<{ status: number; text: () => Promise<string> }> {
  const endpoint = new URL(stack.sandbox.s3Endpoint);
  const [pathname, search = ''] = pathAndQuery.split('?');
  const query: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(search)) query[name] = value;
  const signer = new SignatureV4({ credentials, region: 'us-east-1', service: 's3', sha256: Sha256, uriEscapePath: false });
  const headers = { host: endpoint.host, 'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'), 'content-length': String(Buffer.byteLength(body)), ...extraHeaders };
  const signed = await signer.sign({ method, protocol: 'http:', hostname: endpoint.hostname, path: pathname!, query, headers, body });
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: endpoint.hostname, port: endpoint.port, method, path: pathAndQuery, headers: signed.headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: async () => Buffer.concat(chunks).toString('utf8') }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

function md5(body: string): string {
  return createHash('md5').update(body).digest('base64');
}

function forwardedCount(): number {
  return stack.sandbox.observed.s3.filter((entry) => entry.outcome === 'forwarded').length;
}

test('DeleteObjects with a character-reference or CDATA "../" key cannot delete another account\'s object, and the refusal is logged without secrets', async () => {
  const writer = await roleCredentials('333333333333', 'GatehouseOpsReadWrite', 'ops-readwrite');
  await productionLogIsIntact();
  const forwardedBefore = forwardedCount();
  const payloads = [
    `<Delete><Object><Key>&#46;&#46;/${PRODUCTION_BUCKET}/${PRODUCTION_LOG}</Key></Object></Delete>`,
    `<Delete><Object><Key>&#x2E;&#x2e;/${PRODUCTION_BUCKET}/${PRODUCTION_LOG}</Key></Object></Delete>`,
    `<Delete><Object><Key><![CDATA[../${PRODUCTION_BUCKET}/${PRODUCTION_LOG}]]></Key></Object></Delete>`,
    `<Delete><Object><Key>.<![CDATA[.]]>/${PRODUCTION_BUCKET}/${PRODUCTION_LOG}</Key></Object></Delete>`,
    // One harmless key first: a check that stops at the first key would miss the second.
    `<Delete><Object><Key>notes/harmless.txt</Key></Object><Object><Key>a/&#46;&#46;/&#46;&#46;/${PRODUCTION_BUCKET}/${PRODUCTION_LOG}</Key></Object></Delete>`,
  ];
  for (const payload of payloads) {
    const response = await signedFetch(writer, 'POST', '/s3/dev-scratch?delete', payload, { 'content-md5': md5(payload), 'content-type': 'application/xml' });
    const text = await response.text();
    assert.equal(response.status, 400, payload);
    assert.match(text, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>InvalidRequest<\/Code><Message>A DeleteObjects key must not contain &quot;\.&quot; or &quot;\.\.&quot; path segments/, payload);
  }
  assert.equal(forwardedCount(), forwardedBefore, 'nothing reached storage');
  await productionLogIsIntact();

  const refusals = logText.split('\n').filter((line) => line.includes('sandbox S3 request refused'));
  assert.ok(refusals.length >= payloads.length);
  const entry = JSON.parse(refusals.at(-1)!) as Record<string, unknown>;
  assert.equal(entry.code, 'InvalidRequest');
  assert.equal(entry.action, 's3:DeleteObject');
  assert.equal(entry.accountId, '333333333333');
  assert.equal(entry.accessKeyId, writer.accessKeyId);
  assert.ok(!logText.includes(writer.secretAccessKey) && !logText.includes(writer.sessionToken), 'no secret or session token in the log');
});

test('a DeleteObjects body with a DTD or entity declaration is refused as MalformedXML, whatever it declares', async () => {
  const writer = await roleCredentials('333333333333', 'GatehouseOpsReadWrite', 'ops-readwrite');
  const forwardedBefore = forwardedCount();
  const payloads = [
    `<?xml version="1.0"?><!DOCTYPE Delete [<!ENTITY up "..">]><Delete><Object><Key>&up;/${PRODUCTION_BUCKET}/${PRODUCTION_LOG}</Key></Object></Delete>`,
    `<Delete><!DOCTYPE x [<!ENTITY up "..">]><Object><Key>&up;/${PRODUCTION_BUCKET}/${PRODUCTION_LOG}</Key></Object></Delete>`,
    '<?xml version="1.0"?><!DOCTYPE Delete SYSTEM "file:///etc/passwd"><Delete><Object><Key>x</Key></Object></Delete>',
    '<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><Delete><Object><Key>&b;</Key></Object></Delete>',
    `<Delete><Object><Key>&#46;&#46;/${PRODUCTION_BUCKET}/x</Key></Object>`,
    '<NotDelete><Object><Key>x</Key></Object></NotDelete>',
  ];
  for (const payload of payloads) {
    const response = await signedFetch(writer, 'POST', '/s3/dev-scratch?delete', payload, { 'content-md5': md5(payload) });
    assert.equal(response.status, 400, payload);
    assert.match(await response.text(), /<Error><Code>MalformedXML<\/Code><Message>The XML you provided was not well-formed/, payload);
  }
  assert.equal(forwardedCount(), forwardedBefore);
  await productionLogIsIntact();
});

test('a DeleteObjects body that does not match its Content-MD5 is refused as BadDigest', async () => {
  const writer = await roleCredentials('333333333333', 'GatehouseOpsReadWrite', 'ops-readwrite');
  const payload = '<Delete><Object><Key>notes/a.txt</Key></Object></Delete>';
  const response = await signedFetch(writer, 'POST', '/s3/dev-scratch?delete', payload, { 'content-md5': md5(`${payload} `) });
  assert.equal(response.status, 400);
  assert.match(await response.text(), /<Code>BadDigest<\/Code>/);
});

test('positive control: a multi-object delete in the caller\'s own bucket deletes exactly the named keys, character references decoded once', async () => {
  const writer = await roleCredentials('333333333333', 'GatehouseOpsReadWrite', 'ops-readwrite');
  const client = s3(writer);
  for (const Key of ['trash/one.txt', 'trash/two.txt', 'trash/a&b.txt', 'trash/keep.txt']) await client.send(new PutObjectCommand({ Bucket: 'dev-scratch', Key, Body: Key }));
  const result = await client.send(new DeleteObjectsCommand({ Bucket: 'dev-scratch', Delete: { Objects: [{ Key: 'trash/one.txt' }, { Key: 'trash/two.txt' }] } }));
  assert.deepEqual(result.Deleted?.map((deleted) => deleted.Key).sort(), ['trash/one.txt', 'trash/two.txt']);
  // A raw body with a character reference and CDATA, as any XML writer may produce them.
  const payload = '<Delete><Object><Key>trash/a&#38;b.txt</Key></Object><Object><Key><![CDATA[trash/never-existed.txt]]></Key></Object></Delete>';
  const raw = await signedFetch(writer, 'POST', '/s3/dev-scratch?delete', payload, { 'content-md5': md5(payload) });
  assert.equal(raw.status, 200);
  assert.match(await raw.text(), /<Key>trash\/a&amp;b\.txt<\/Key>/);
  const listing = await client.send(new ListObjectsV2Command({ Bucket: 'dev-scratch', Prefix: 'trash/' }));
  assert.deepEqual(listing.Contents?.map((object) => object.Key), ['trash/keep.txt']);
});

test('an upload id or part number with path segments cannot write into another account\'s bucket', async () => {
  const writer = await roleCredentials('333333333333', 'GatehouseOpsReadWrite', 'ops-readwrite');
  const forwardedBefore = forwardedCount();
  const attempts: Array<[string, string, number]> = [
    [`/s3/dev-scratch/x?uploadId=${encodeURIComponent(`../../${PRODUCTION_BUCKET}`)}&partNumber=planted`, 'NoSuchUpload', 404],
    [`/s3/dev-scratch/x?uploadId=${'a'.repeat(32)}&partNumber=${encodeURIComponent(`../../../${PRODUCTION_BUCKET}/${PRODUCTION_LOG}._S3rver_object`)}`, 'InvalidArgument', 400],
    [`/s3/dev-scratch/x?uploadId=${'a'.repeat(32)}&partNumber=10001`, 'InvalidArgument', 400],
  ];
  for (const [pathAndQuery, code, status] of attempts) {
    const response = await signedFetch(writer, 'PUT', pathAndQuery, 'planted by Development');
    assert.equal(response.status, status, pathAndQuery);
    assert.match(await response.text(), new RegExp(`<Code>${code}</Code>`));
  }
  assert.equal(forwardedCount(), forwardedBefore);
  assert.ok(!existsSync(path.join(stack.dataDir, 'sandbox-s3', PRODUCTION_BUCKET, 'planted')));
  await productionLogIsIntact();
});

test('a forged continuation token or a percent-encoded "../" key is checked after decoding, like any other key', async () => {
  const reader = await roleCredentials('333333333333', 'GatehouseOpsReadOnly', 'ops-readonly');
  const forwardedBefore = forwardedCount();
  const token = Buffer.from(`gh1:../${PRODUCTION_BUCKET}/`).toString('base64url');
  const listing = await signedFetch(reader, 'GET', `/s3/dev-scratch?list-type=2&continuation-token=${token}`);
  assert.equal(listing.status, 400);
  assert.match(await listing.text(), /<Code>InvalidRequest<\/Code><Message>The marker parameter must not contain/);
  const get = await signedFetch(reader, 'GET', `/s3/dev-scratch/%2E%2E/${PRODUCTION_BUCKET}/${PRODUCTION_LOG}`);
  assert.equal(get.status, 400);
  assert.match(await get.text(), /<Code>InvalidRequest<\/Code><Message>The object key must not contain/);
  assert.equal(forwardedCount(), forwardedBefore);
});
