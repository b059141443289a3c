import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { DatabaseSync } from 'node:sqlite';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { S3Client, CreateMultipartUploadCommand, DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { STSClient, AssumeRoleCommand } from '@aws-sdk/client-sts';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import { createAccountRegistry, createOpsTools, TOOL_SCHEMA } from '@gatehouse/tools';
import { adminCredentials, startStack, type TestStack } from '@gatehouse/testing/sandbox-stack';

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
    // References XML does not define: HTML names (&period;&period;&sol; would read "../"), NUL, a bare &.
    `<Delete><Object><Key>&period;&period;&sol;${PRODUCTION_BUCKET}/${PRODUCTION_LOG}</Key></Object></Delete>`,
    '<Delete><Object><Key>a&#0;b</Key></Object></Delete>',
    '<Delete><Object><Key>a & b</Key></Object></Delete>',
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
  const payload = '<Delete><Object><Key>trash/a&#38;b.txt</Key></Object><Object><Key><![CDATA[trash/never&existed.txt]]></Key></Object></Delete>';
  const raw = await signedFetch(writer, 'POST', '/s3/dev-scratch?delete', payload, { 'content-md5': md5(payload) });
  assert.equal(raw.status, 200);
  assert.match(await raw.text(), /<Key>trash\/a&amp;b\.txt<\/Key>/);
  const listing = await client.send(new ListObjectsV2Command({ Bucket: 'dev-scratch', Prefix: 'trash/' }));
  assert.deepEqual(listing.Contents?.map((object) => object.Key), ['trash/keep.txt']);
});

test('an upload id or part number with path segments cannot write into another account\'s bucket', async () => {
  const writer = await roleCredentials('333333333333', 'GatehouseOpsReadWrite', 'ops-readwrite');
  // A real upload of the attacker's own, so the part-number attempts get past the upload id.
  const { UploadId } = await s3(writer).send(new CreateMultipartUploadCommand({ Bucket: 'dev-scratch', Key: 'x' }));
  const forwardedBefore = forwardedCount();
  const attempts: Array<[string, string, number]> = [
    [`/s3/dev-scratch/x?uploadId=${encodeURIComponent(`../../${PRODUCTION_BUCKET}`)}&partNumber=planted`, 'NoSuchUpload', 404],
    [`/s3/dev-scratch/x?uploadId=${'a'.repeat(32)}&partNumber=1`, 'NoSuchUpload', 404],
    [`/s3/dev-scratch/x?uploadId=${UploadId!}&partNumber=${encodeURIComponent(`../../../${PRODUCTION_BUCKET}/${PRODUCTION_LOG}._S3rver_object`)}`, 'InvalidArgument', 400],
    [`/s3/dev-scratch/x?uploadId=${UploadId!}&partNumber=10001`, 'InvalidArgument', 400],
  ];
  for (const [pathAndQuery, code, status] of attempts) {
    const response = await signedFetch(writer, 'PUT', pathAndQuery, 'planted by Development');
    assert.equal(response.status, status, pathAndQuery);
    assert.match(await response.text(), new RegExp(`<Code>${code}</Code>`));
  }
  // CompleteMultipartUpload bodies go through the same XML parser: a DTD is refused there too.
  const complete = '<!DOCTYPE c [<!ENTITY n "1">]><CompleteMultipartUpload><Part><PartNumber>&n;</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>';
  const refused = await signedFetch(writer, 'POST', `/s3/dev-scratch/x?uploadId=${UploadId!}`, complete);
  assert.equal(refused.status, 400);
  assert.match(await refused.text(), /<Code>MalformedXML<\/Code>/);
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

test('sandbox.db is readable by its owner only and holds no temporary secret key or session token in the clear', async () => {
  const credentials = await roleCredentials('222222222222', 'GatehouseOpsReadOnly', 'ops-readonly');
  const file = path.join(stack.dataDir, 'sandbox.db');
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(file + suffix)) assert.equal(statSync(file + suffix).mode & 0o777, 0o600, `sandbox.db${suffix}`);
  }
  const bytes = Buffer.concat(['', '-wal'].filter((suffix) => existsSync(file + suffix)).map((suffix) => readFileSync(file + suffix)));
  assert.ok(bytes.includes(Buffer.from(credentials.accessKeyId)), 'the access key id is stored (the check below would pass on an empty file otherwise)');
  assert.ok(!bytes.includes(Buffer.from(credentials.secretAccessKey)), 'secret access key not in the file');
  assert.ok(!bytes.includes(Buffer.from(credentials.sessionToken)), 'session token not in the file');
  assert.ok(!bytes.includes(Buffer.from(credentials.sessionToken.slice(2, 40))), 'no part of the session token in the file');
  // Positive control: the sealed credentials still sign requests.
  const listing = await s3(credentials).send(new ListObjectsV2Command({ Bucket: 'staging-app-logs' }));
  assert.ok((listing.Contents?.length ?? 0) > 0);
});

test('a sandbox.db left by an older version (0644, secrets in the clear) is narrowed to 0600 and its secrets sealed at start', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-old-sandbox-'));
  const file = path.join(dataDir, 'sandbox.db');
  const secret = 'old-plaintext-secret-0123456789abcdefghijkl';
  const token = `GH${'old-plaintext-session-token'.repeat(4)}`;
  const old = new DatabaseSync(file);
  old.exec('CREATE TABLE temporary_credentials (access_key_id TEXT PRIMARY KEY, secret_access_key TEXT NOT NULL, session_token TEXT NOT NULL, expires_at INTEGER NOT NULL, account_id TEXT NOT NULL, role_name TEXT NOT NULL, role_kind TEXT NOT NULL, session_name TEXT NOT NULL, user_sub TEXT NOT NULL, username TEXT NOT NULL, groups_json TEXT NOT NULL)');
  old.prepare('INSERT INTO temporary_credentials VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').run('ASIAOLDVERSIONKEY0000000000000000', secret, token, Math.floor(Date.now() / 1000) + 3600, '222222222222', 'GatehouseOpsReadOnly', 'read-only', 'old', 'sub-old', 'old', '["ops-readonly"]');
  old.close();
  chmodSync(file, 0o644);
  const restarted = await startStack({ dataDir });
  try {
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const bytes = Buffer.concat(['', '-wal'].filter((suffix) => existsSync(file + suffix)).map((suffix) => readFileSync(file + suffix)));
    assert.ok(bytes.includes(Buffer.from('ASIAOLDVERSIONKEY0000000000000000')));
    assert.ok(!bytes.includes(Buffer.from(secret)) && !bytes.includes(Buffer.from(token)), 'the old plaintext is gone from the file');
    // Positive control: the session still signs.
    const listing = await new S3Client({ endpoint: restarted.sandbox.s3Endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'ASIAOLDVERSIONKEY0000000000000000', secretAccessKey: secret, sessionToken: token }, maxAttempts: 1 })
      .send(new ListObjectsV2Command({ Bucket: 'staging-app-logs' }));
    assert.ok((listing.Contents?.length ?? 0) > 0);
  } finally {
    await restarted.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

/** A raw STS query request (AssumeRoleWithWebIdentity needs no signature), so any parameter text can be sent. */
async function stsForm(parameters: Record<string, string>): Promise<{ status: number; text: string }> {
  const response = await fetch(stack.sandbox.stsEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ Version: '2011-06-15', ...parameters }).toString(),
  });
  return { status: response.status, text: await response.text() };
}

function issuedCount(): number {
  return stack.sandbox.observed.sts.filter((entry) => entry.outcome === 'issued').length;
}

test('AssumeRoleWithWebIdentity names no sandbox role or account before the token is verified', async () => {
  const issuedBefore = issuedCount();
  const forged = `${(await stack.signToken({ sub: 'sub-mallory', 'cognito:groups': ['ops-readwrite'] })).slice(0, -4)}AAAA`;
  for (const RoleArn of ['arn:aws:iam::111111111111:role/Administrator', 'arn:aws:iam::999999999999:role/GatehouseOpsReadWrite', 'arn:aws:iam::000000000000:role/GatehouseToolsBridge']) {
    for (const extra of [{}, { Policy: '{"Version":"2012-10-17"}' }]) {
      const answer = await stsForm({ Action: 'AssumeRoleWithWebIdentity', RoleArn, RoleSessionName: 'mallory', WebIdentityToken: forged, ...extra });
      assert.equal(answer.status, 400, RoleArn);
      assert.match(answer.text, /<Code>InvalidIdentityToken<\/Code>/);
      for (const internal of ['GatehouseOpsReadOnly', 'GatehouseToolsBridge', '000000000000', 'sandbox account', 'roles:']) {
        assert.ok(!answer.text.includes(internal), `${internal} in ${answer.text}`);
      }
    }
  }
  assert.equal(issuedCount(), issuedBefore);
  // Positive control: once the token is verified, an unknown role is explained.
  const token = await stack.signToken({ sub: 'sub-mallory', 'cognito:username': 'mallory', 'cognito:groups': ['ops-readwrite'] });
  const known = await stsForm({ Action: 'AssumeRoleWithWebIdentity', RoleArn: 'arn:aws:iam::111111111111:role/Administrator', RoleSessionName: 'mallory', WebIdentityToken: token });
  assert.equal(known.status, 403);
  assert.match(known.text, /<Code>AccessDenied<\/Code>[\s\S]*roles: GatehouseOpsReadOnly, GatehouseOpsReadWrite/);
});

test('DurationSeconds must be decimal digits: 1e4, 0x1000, " 900", "900.0" are refused naming the field; 900 works', async () => {
  const token = await stack.signToken({ sub: 'sub-dana', 'cognito:username': 'dana', 'cognito:groups': ['ops-readonly'] });
  const request = { Action: 'AssumeRoleWithWebIdentity', RoleArn: 'arn:aws:iam::000000000000:role/GatehouseToolsBridge', RoleSessionName: 'dana', WebIdentityToken: token };
  const issuedBefore = issuedCount();
  for (const DurationSeconds of ['1e4', '0x1000', ' 900', '900 ', '900.0', '+900', '0b1110000100', '', '9'.repeat(400)]) {
    const answer = await stsForm({ ...request, DurationSeconds });
    assert.equal(answer.status, 400, JSON.stringify(DurationSeconds));
    assert.match(answer.text, /<Code>ValidationError<\/Code>\s*<Message>1 validation error detected: Value &apos;.*?&apos; at &apos;durationSeconds&apos; failed to satisfy constraint/, JSON.stringify(DurationSeconds));
  }
  assert.equal(issuedCount(), issuedBefore);
  const accepted = await stsForm({ ...request, DurationSeconds: '900' });
  assert.equal(accepted.status, 200);
  const expiration = /<Expiration>([^<]+)<\/Expiration>/.exec(accepted.text)?.[1];
  assert.ok(expiration);
  assert.ok(Math.abs(Date.parse(expiration) - Date.now() - 900_000) < 10_000, 'a 900-second session');
  assert.equal(issuedCount(), issuedBefore + 1);
});

test('every ops tool refuses an argument its schema does not advertise, naming it, before any request', async () => {
  const registry = await createAccountRegistry({ backend: 'sqlite' }, stack.dataDir);
  const tools = createOpsTools({ registry, region: 'local', stsEndpoint: stack.sandbox.stsEndpoint, s3Endpoint: stack.sandbox.s3Endpoint });
  const context = (tool: string) => ({ functionName: 'ops', awsRequestId: 'r', clientContext: { custom: { bedrockAgentCoreToolName: `ops___${tool}` } }, identity: { sub: 'sub-eve', username: 'eve', groups: ['ops-readwrite'], scopes: [] } });
  try {
    await assert.rejects(tools.handler({ x: 1 }, context('list_accounts')), { code: 'InvalidArguments', message: 'Invalid arguments for list_accounts: unknown argument "x": list_accounts takes no arguments' });
    const sample: Record<string, unknown> = { account: 'Production', bucket: 'prod-app-logs', key: 'k', body: 'b', service: 's3', operation: 'ListBuckets' };
    const stsBefore = stack.sandbox.observed.sts.length;
    const s3Before = stack.sandbox.observed.s3.length;
    for (const entry of TOOL_SCHEMA) {
      assert.equal(entry.inputSchema.additionalProperties, false, entry.name);
      const valid = Object.fromEntries((entry.inputSchema.required ?? []).map((name) => [name, sample[name]]));
      const error = await tools.handler({ ...valid, 'unexpected-field': 1 }, context(entry.name)).then(() => undefined, (caught: unknown) => caught as Error & { code?: string });
      assert.equal(error?.code, 'InvalidArguments', entry.name);
      assert.match(error.message, new RegExp(`unknown argument "unexpected-field": ${entry.name} takes ${Object.keys(entry.inputSchema.properties).join(', ') || 'no arguments'}$`));
      assert.ok(!/additionalProperties|"type"|inputSchema/.test(error.message), 'no schema dump');
    }
    assert.equal(stack.sandbox.observed.sts.length, stsBefore, 'no STS request');
    assert.equal(stack.sandbox.observed.s3.length, s3Before, 'no S3 request');
    // Positive control: the advertised arguments are accepted.
    const listed = (await tools.handler({}, context('list_accounts'))) as { accounts: unknown[] };
    assert.equal(listed.accounts.length, 3);
  } finally {
    await registry.close?.();
  }
});
