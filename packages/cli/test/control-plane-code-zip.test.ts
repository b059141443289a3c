// AWS's "upload code, create runtime" flow: a zip uploaded to the sandbox S3 with the AWS CLI, CreateAgentRuntime
// with codeConfiguration, READY, invoked through the data plane; hostile or broken zips fail and leave nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { BedrockAgentCoreClient, InvokeAgentRuntimeCommand } from '@aws-sdk/client-bedrock-agentcore';
import { BedrockAgentCoreControlClient, CreateAgentRuntimeCommand, DeleteAgentRuntimeCommand, GetAgentRuntimeCommand, UpdateAgentRuntimeCommand } from '@aws-sdk/client-bedrock-agentcore-control';
import { STSClient, AssumeRoleCommand } from '@aws-sdk/client-sts';
import { createLogger } from '@gatehouse/core';
import { awsCli } from '@gatehouse/testing/aws-cli';
import { startGatehouse, type RunningGatehouse } from '../src/start-gatehouse.ts';
import { probeIsolation } from '../../runtime/src/agent-isolation.ts';

const run = promisify(execFile);
const ACCOUNT = '333333333333';
const BUCKET = 'dev-scratch';

const PYTHON_AGENT = `
import json, os
from http.server import BaseHTTPRequestHandler, HTTPServer

class Agent(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass
    def answer(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header('content-type', 'application/json')
        self.send_header('content-length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def do_GET(self):
        if self.path == '/ping':
            self.answer({'status': 'Healthy'})
        else:
            self.send_error(404)
    def do_POST(self):
        length = int(self.headers.get('content-length', '0'))
        self.answer({'agent': 'python', 'echo': json.loads(self.rfile.read(length) or b'null')})

HTTPServer(('127.0.0.1', int(os.environ['PORT'])), Agent).serve_forever()
`;

const NODE_AGENT = `
const http = require('node:http');
http.createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/ping') return void response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"Healthy"}');
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ agent: 'node', echo: JSON.parse(Buffer.concat(chunks).toString() || 'null') })));
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

let gatehouse: RunningGatehouse;
let work: string;
let dataDir: string;

before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'gatehouse-code-zip-'));
  dataDir = path.join(work, 'data');
  gatehouse = await startGatehouse({ dataDir, port: 0, logger: createLogger({ level: 'silent' }) });
});
after(async () => {
  await gatehouse.close();
  rmSync(work, { recursive: true, force: true });
});

function adminCredentials(): { accessKeyId: string; secretAccessKey: string } {
  const text = readFileSync(gatehouse.adminCredentialsFile, 'utf8');
  return { accessKeyId: /aws_access_key_id\s*=\s*(\S+)/.exec(text)![1]!, secretAccessKey: /aws_secret_access_key\s*=\s*(\S+)/.exec(text)![1]! };
}

/** Builds a zip with Python's zipfile, entry names as given (so `../evil` can be written as is). */
async function zip(name: string, entries: Record<string, string>): Promise<string> {
  const file = path.join(work, name);
  const script = 'import json, sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:\n    for n, c in json.loads(sys.argv[2]).items():\n        z.writestr(n, c)\n';
  await run('python3', ['-c', script, file, JSON.stringify(entries)]);
  return file;
}

/** `aws s3 cp` (the real AWS CLI v1) as a role of the sandbox account, path-style against the sandbox S3. */
async function upload(file: string, key: string): Promise<void> {
  const sts = new STSClient({ endpoint: `${gatehouse.url}/sts`, region: 'local', credentials: adminCredentials(), maxAttempts: 1 });
  const role = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/GatehouseOpsReadWrite`, RoleSessionName: 'uploader', Tags: [{ Key: 'sub', Value: 'sub-uploader' }, { Key: 'groups', Value: 'ops-readwrite' }] }));
  const credentials = { accessKeyId: role.Credentials!.AccessKeyId!, secretAccessKey: role.Credentials!.SecretAccessKey!, sessionToken: role.Credentials!.SessionToken! };
  const result = await awsCli({ endpoint: `${gatehouse.url}/s3`, home: work, credentials }, ['s3', 'cp', file, `s3://${BUCKET}/${key}`]);
  assert.equal(result.code, 0, result.stderr);
}

function control(): BedrockAgentCoreControlClient {
  return new BedrockAgentCoreControlClient({ endpoint: gatehouse.url, region: gatehouse.config.region, credentials: adminCredentials(), maxAttempts: 1 });
}

async function create(name: string, key: string, runtime: 'PYTHON_3_12' | 'NODE_22', entryPoint: string, users = false): Promise<{ id: string; arn: string }> {
  const pool = gatehouse.identity.defaultPool;
  const created = await control().send(new CreateAgentRuntimeCommand({
    // Users of the default pool, signed in through its web client, instead of SigV4.
    ...(users ? { authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: pool.discoveryUrl, allowedClients: [pool.webClientId] } } } : {}),
    agentRuntimeName: name,
    agentRuntimeArtifact: { codeConfiguration: { code: { s3: { bucket: BUCKET, prefix: key } }, runtime, entryPoint: [entryPoint] } },
    roleArn: `arn:aws:iam::${ACCOUNT}:role/agent`,
    networkConfiguration: { networkMode: 'PUBLIC' },
  }));
  return { id: created.agentRuntimeId!, arn: created.agentRuntimeArn! };
}

async function waitSettled(id: string): Promise<{ status: string; failureReason?: string }> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const runtime = await control().send(new GetAgentRuntimeCommand({ agentRuntimeId: id }));
    if (runtime.status !== 'CREATING' && runtime.status !== 'UPDATING') return { status: runtime.status!, ...(runtime.failureReason ? { failureReason: runtime.failureReason } : {}) };
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${id} never left CREATING`);
}

async function invoke(arn: string, prompt: string): Promise<unknown> {
  const client = new BedrockAgentCoreClient({ endpoint: gatehouse.url, region: gatehouse.config.region, credentials: adminCredentials(), maxAttempts: 1 });
  const answer = await client.send(new InvokeAgentRuntimeCommand({ agentRuntimeArn: arn, runtimeSessionId: `session-${prompt}-${'x'.repeat(33)}`, payload: new TextEncoder().encode(JSON.stringify({ prompt })) }));
  return JSON.parse(await answer.response!.transformToString());
}

/** The first-run admin user's access token from the default pool's web client (Cognito's InitiateAuth). */
async function userToken(): Promise<string> {
  const response = await fetch(`${gatehouse.url}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth' },
    body: JSON.stringify({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: gatehouse.identity.defaultPool.webClientId, AuthParameters: { USERNAME: gatehouse.firstRun!.username, PASSWORD: gatehouse.firstRun!.password } }),
  });
  return ((await response.json()) as { AuthenticationResult: { AccessToken: string } }).AuthenticationResult.AccessToken;
}

const codeRoot = (): string => path.join(dataDir, 'runtime-code');
const unpacked = (id: string): string[] => (existsSync(path.join(codeRoot(), id)) ? readdirSync(path.join(codeRoot(), id)) : []);

test('a Python agent zipped, uploaded with aws s3 cp and created with codeConfiguration is READY and echoes a signed-in user’s invocation; deleting it removes its files', async () => {
  await upload(await zip('python.zip', { 'main.py': PYTHON_AGENT, 'lib/readme.txt': 'data' }), 'agents/python.zip');
  const { id, arn } = await create('python_zip_agent', 'agents/python.zip', 'PYTHON_3_12', 'main.py', true);
  assert.deepEqual(await waitSettled(id), { status: 'READY' });
  const url = `${gatehouse.url}/runtimes/${encodeURIComponent(arn)}/invocations`;
  const anonymous = await fetch(url, { method: 'POST', body: '{}' });
  assert.equal(anonymous.status, 401, 'the runtime takes the pool’s users only');
  const answer = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${await userToken()}`, 'content-type': 'application/json', 'x-amzn-bedrock-agentcore-runtime-session-id': `python-zip-${'s'.repeat(33)}` },
    body: JSON.stringify({ prompt: 'hello' }),
  });
  assert.equal(answer.status, 200, await answer.clone().text());
  assert.deepEqual(await answer.json(), { agent: 'python', echo: { prompt: 'hello' } });
  const directory = path.join(codeRoot(), id, '1');
  assert.equal(statSync(path.dirname(directory)).mode & 0o777, 0o700, 'the runtime’s code directory is private');
  // Readable inside it, because an isolated agent runs as nobody and sees only its own version directory.
  assert.equal(statSync(directory).mode & 0o777, 0o755, 'unpacked per version');
  assert.equal(readFileSync(path.join(directory, 'lib', 'readme.txt'), 'utf8'), 'data');
  await control().send(new DeleteAgentRuntimeCommand({ agentRuntimeId: id }));
  assert.equal(existsSync(path.join(codeRoot(), id)), false, 'the runtime’s code went with it');
});

test('a Python agent that binds 0.0.0.0:8080 whatever PORT says (as AgentCore agents do) is READY and answers, each session in its own namespace', { skip: probeIsolation().available ? false : `network namespaces are not available here (${probeIsolation().reason})` }, async () => {
  await upload(await zip('fixed.zip', { 'main.py': PYTHON_AGENT.replace("('127.0.0.1', int(os.environ['PORT']))", "('0.0.0.0', 8080)") }), 'agents/fixed.zip');
  const { id, arn } = await create('fixed_port_zip_agent', 'agents/fixed.zip', 'PYTHON_3_12', 'main.py');
  assert.deepEqual(await waitSettled(id), { status: 'READY' });
  assert.deepEqual(await invoke(arn, 'first'), { agent: 'python', echo: { prompt: 'first' } });
  assert.deepEqual(await invoke(arn, 'second'), { agent: 'python', echo: { prompt: 'second' } }, 'a second session binds 8080 too');
  await control().send(new DeleteAgentRuntimeCommand({ agentRuntimeId: id }));
});

test('a Node agent zip (NODE_22) runs with the project’s node; an update with a new zip is version 2, a broken one UPDATE_FAILED', async () => {
  await upload(await zip('node.zip', { 'src/index.js': NODE_AGENT }), 'agents/node.zip');
  const { id, arn } = await create('node_zip_agent', 'agents/node.zip', 'NODE_22', 'src/index.js');
  assert.deepEqual(await waitSettled(id), { status: 'READY' });
  assert.deepEqual(await invoke(arn, 'ahoy'), { agent: 'node', echo: { prompt: 'ahoy' } });

  await upload(await zip('node-2.zip', { 'src/index.js': NODE_AGENT.replace("agent: 'node'", "agent: 'node-2'") }), 'agents/node-2.zip');
  const update = (key: string) => control().send(new UpdateAgentRuntimeCommand({
    agentRuntimeId: id,
    agentRuntimeArtifact: { codeConfiguration: { code: { s3: { bucket: BUCKET, prefix: key } }, runtime: 'NODE_22', entryPoint: ['src/index.js'] } },
    roleArn: `arn:aws:iam::${ACCOUNT}:role/agent`,
    networkConfiguration: { networkMode: 'PUBLIC' },
  }));
  assert.equal((await update('agents/node-2.zip')).agentRuntimeVersion, '2');
  assert.deepEqual(await waitSettled(id), { status: 'READY' });
  assert.deepEqual(await invoke(arn, 'again'), { agent: 'node-2', echo: { prompt: 'again' } });
  assert.deepEqual(unpacked(id).sort(), ['1', '2'], 'each version unpacked on its own');

  await upload(await zip('node-3.zip', { 'index.js': NODE_AGENT }), 'agents/node-3.zip');
  assert.equal((await update('agents/node-3.zip')).agentRuntimeVersion, '3');
  const failed = await waitSettled(id);
  assert.equal(failed.status, 'UPDATE_FAILED');
  assert.match(failed.failureReason ?? '', /entry point "src\/index\.js" is not a file/);
  assert.deepEqual(unpacked(id).sort(), ['1', '2'], 'nothing left of the failed version');
});

test('an object over 100 MB is CREATE_FAILED as too large, and nothing is unpacked', async () => {
  const big = path.join(work, 'big.zip');
  writeFileSync(big, randomBytes(100 * 1024 * 1024 + 1024));
  await upload(big, 'agents/big.zip');
  const { id } = await create('big_zip_agent', 'agents/big.zip', 'PYTHON_3_12', 'main.py');
  const settled = await waitSettled(id);
  assert.equal(settled.status, 'CREATE_FAILED');
  assert.match(settled.failureReason ?? '', /at most 104857600 are accepted/);
  assert.deepEqual(unpacked(id), []);
});

test('a zip with a ../evil entry is CREATE_FAILED naming the traversal, and nothing is written anywhere', async () => {
  await upload(await zip('evil.zip', { 'main.py': PYTHON_AGENT, '../evil': 'owned' }), 'agents/evil.zip');
  const { id, arn } = await create('evil_zip_agent', 'agents/evil.zip', 'PYTHON_3_12', 'main.py');
  const settled = await waitSettled(id);
  assert.equal(settled.status, 'CREATE_FAILED');
  assert.match(settled.failureReason ?? '', /\.\.\/evil.*path traversal/);
  assert.deepEqual(unpacked(id), [], 'no directory left for the runtime');
  assert.equal(existsSync(path.join(codeRoot(), 'evil')) || existsSync(path.join(dataDir, 'evil')), false, 'the entry was not written outside');
  const refused = await fetch(`${gatehouse.url}/runtimes/${encodeURIComponent(arn)}/invocations`, { method: 'POST', body: '{}' });
  assert.equal(refused.status, 404, 'a failed runtime is not served');
});

test('a zip without the entry point is CREATE_FAILED saying so, with nothing left on disk', async () => {
  await upload(await zip('no-entry.zip', { 'other.py': PYTHON_AGENT }), 'agents/no-entry.zip');
  const { id } = await create('no_entry_agent', 'agents/no-entry.zip', 'PYTHON_3_12', 'main.py');
  const settled = await waitSettled(id);
  assert.equal(settled.status, 'CREATE_FAILED');
  assert.match(settled.failureReason ?? '', /entry point "main\.py" is not a file/);
  assert.deepEqual(unpacked(id), []);
});

test('an agent that never answers /ping, and a missing object, are CREATE_FAILED with the cause', async () => {
  await upload(await zip('crash.zip', { 'main.py': 'import sys\nsys.exit(3)\n' }), 'agents/crash.zip');
  const crash = await create('crash_zip_agent', 'agents/crash.zip', 'PYTHON_3_12', 'main.py');
  const crashed = await waitSettled(crash.id);
  assert.equal(crashed.status, 'CREATE_FAILED');
  assert.match(crashed.failureReason ?? '', /exited \(code 3\) before answering GET \/ping/);
  assert.doesNotMatch(crashed.failureReason ?? '', new RegExp(dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'no server path in the reason');
  assert.deepEqual(unpacked(crash.id), []);
  const missing = await create('missing_zip_agent', 'agents/none.zip', 'PYTHON_3_12', 'main.py');
  const absent = await waitSettled(missing.id);
  assert.equal(absent.status, 'CREATE_FAILED');
  assert.match(absent.failureReason ?? '', /NoSuchKey: upload the zip first/);
});
