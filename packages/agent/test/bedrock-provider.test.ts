import { after, afterEach, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AgentError } from '../src/agent-error.ts';
import { runAgentTurn } from '../src/agent-loop.ts';
import type { AgentEvent } from '../src/agent-event.ts';
import type { GatewaySession } from '../src/gateway-session.ts';
import type { ModelChunk, ModelProvider } from '../src/model-provider.ts';
import { createBedrockProvider } from '../src/providers/bedrock-provider.ts';
import { temporaryDirectory } from '@gatehouse/testing/temporary-directory';
import { errorReply, eventFrame, exceptionFrame, startConverseStreamServer, streamReply, textAnswer } from './support/converse-stream-server.ts';

const MODEL = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
const REGION = 'eu-west-1';
const AWS_VARS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE', 'AWS_BEARER_TOKEN_BEDROCK', 'AWS_EC2_METADATA_DISABLED', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_ROLE_ARN'];

const directory = temporaryDirectory('gatehouse-bedrock-');
let bedrock: Awaited<ReturnType<typeof startConverseStreamServer>>;
let saved: Record<string, string | undefined>;

before(async () => {
  bedrock = await startConverseStreamServer();
});
after(() => bedrock.close());
beforeEach(() => {
  // The default chain reads the real process environment and ~/.aws; isolate it: empty files, no IMDS.
  saved = Object.fromEntries(AWS_VARS.map((name) => [name, process.env[name]]));
  for (const name of AWS_VARS) delete process.env[name];
  writeFileSync(path.join(directory, 'empty'), '');
  process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(directory, 'empty');
  process.env.AWS_CONFIG_FILE = path.join(directory, 'empty');
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
});
afterEach(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

function useEnvCredentials(): void {
  process.env.AWS_ACCESS_KEY_ID = 'AKIDENVIRONMENT0001';
  process.env.AWS_SECRET_ACCESS_KEY = 'environment-secret-key';
}

function provider(extra: { profile?: string } = {}): ModelProvider {
  return createBedrockProvider({ modelId: MODEL, region: REGION, endpoint: bedrock.endpoint, ...extra }, { retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 } });
}

async function drain(model: ModelProvider): Promise<ModelChunk[]> {
  const chunks: ModelChunk[] = [];
  for await (const chunk of model.stream({ system: 'be brief', tools: [{ name: 'ops___list_accounts', description: 'List accounts', inputSchema: { type: 'object', properties: {} } }], messages: [{ role: 'user', content: [{ type: 'text', text: 'which accounts?' }] }] })) {
    chunks.push(chunk);
  }
  return chunks;
}

async function failure(model: ModelProvider): Promise<AgentError> {
  try {
    await drain(model);
  } catch (error) {
    assert.ok(error instanceof AgentError, `expected an AgentError, got ${String(error)}`);
    return error;
  }
  assert.fail('the call should have failed');
}

test('bedrock: signs ConverseStream with SigV4 from environment credentials and streams text and a tool use', async () => {
  useEnvCredentials();
  const start = bedrock.requests.length;
  bedrock.reply(
    streamReply([
      eventFrame('messageStart', { role: 'assistant' }),
      eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Checking ' } }),
      eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'accounts.' } }),
      eventFrame('contentBlockStop', { contentBlockIndex: 0 }),
      eventFrame('contentBlockStart', { contentBlockIndex: 1, start: { toolUse: { toolUseId: 'tooluse_1', name: 'ops___list_accounts' } } }),
      eventFrame('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: '{"fil' } } }),
      eventFrame('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: 'ter":"prod"}' } } }),
      eventFrame('contentBlockStop', { contentBlockIndex: 1 }),
      eventFrame('messageStop', { stopReason: 'tool_use' }),
      eventFrame('metadata', { usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 }, metrics: { latencyMs: 1 } }),
    ]),
  );
  const chunks = await drain(provider());
  assert.deepEqual(chunks, [
    { type: 'text-delta', delta: 'Checking ' },
    { type: 'text-delta', delta: 'accounts.' },
    { type: 'tool-use', id: 'tooluse_1', name: 'ops___list_accounts', input: { filter: 'prod' } },
    { type: 'stop', reason: 'tool_use' },
  ]);
  const [request] = bedrock.requests.slice(start);
  assert.ok(request);
  assert.equal(request.method, 'POST');
  assert.equal(request.path, `/model/${encodeURIComponent(MODEL)}/converse-stream`);
  const authorization = String(request.headers.authorization);
  assert.match(authorization, /^AWS4-HMAC-SHA256 Credential=AKIDENVIRONMENT0001\/\d{8}\/eu-west-1\/bedrock\/aws4_request, SignedHeaders=[^,]*(?:host|:authority)[^,]*x-amz-date[^,]*, Signature=[0-9a-f]{64}$/);
  assert.ok(request.headers['x-amz-date']);
  assert.deepEqual(request.body.system, [{ text: 'be brief' }]);
  assert.deepEqual(request.body.messages, [{ role: 'user', content: [{ text: 'which accounts?' }] }]);
  assert.deepEqual(request.body.toolConfig, { tools: [{ toolSpec: { name: 'ops___list_accounts', description: 'List accounts', inputSchema: { json: { type: 'object', properties: {} } } } }] });
});

test('bedrock: uses a named profile from AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE', async () => {
  const credentials = path.join(directory, 'credentials');
  const config = path.join(directory, 'config');
  writeFileSync(credentials, '[ops]\naws_access_key_id = AKIDPROFILEOPS00001\naws_secret_access_key = profile-secret\naws_session_token = profile-session-token\n');
  writeFileSync(config, '[profile ops]\nregion = eu-west-1\n');
  process.env.AWS_SHARED_CREDENTIALS_FILE = credentials;
  process.env.AWS_CONFIG_FILE = config;
  const start = bedrock.requests.length;
  bedrock.reply(textAnswer('from profile'));
  const chunks = await drain(provider({ profile: 'ops' }));
  assert.deepEqual(chunks[0], { type: 'text-delta', delta: 'from profile' });
  const [request] = bedrock.requests.slice(start);
  assert.match(String(request?.headers.authorization), /Credential=AKIDPROFILEOPS00001\/\d{8}\/eu-west-1\/bedrock\/aws4_request/);
  assert.equal(request?.headers['x-amz-security-token'], 'profile-session-token');
});

test('bedrock: AWS_BEARER_TOKEN_BEDROCK is ignored and the request is still signed with SigV4 (seed 002)', async () => {
  useEnvCredentials();
  process.env.AWS_BEARER_TOKEN_BEDROCK = 'bedrock-api-key-should-not-be-sent';
  const start = bedrock.requests.length;
  bedrock.reply(textAnswer('ok'));
  await drain(provider());
  const [request] = bedrock.requests.slice(start);
  assert.match(String(request?.headers.authorization), /^AWS4-HMAC-SHA256 /);
  assert.doesNotMatch(JSON.stringify(request?.headers), /bedrock-api-key-should-not-be-sent/);
});

test('bedrock: no credentials at all → ModelNoCredentials naming SigV4 and how to provide keys; nothing is sent', async () => {
  const start = bedrock.requests.length;
  const error = await failure(provider());
  assert.equal(error.code, 'ModelNoCredentials');
  assert.match(error.message, /No AWS credentials were found/);
  assert.match(error.message, /Signature V4/);
  assert.match(error.fix ?? '', /AWS_ACCESS_KEY_ID/);
  assert.match(error.fix ?? '', /aws sso login/);
  assert.equal(bedrock.requests.length, start, 'no unsigned request may reach Bedrock');
});

test('bedrock: an expired SSO session → ModelExpiredCredentials telling to run aws sso login --profile; nothing is sent', async () => {
  const home = mkdtempSync(path.join(tmpdir(), 'gatehouse-sso-home-'));
  const savedHome = process.env.HOME;
  try {
    const config = path.join(directory, 'sso-config');
    writeFileSync(
      config,
      '[profile corp-dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = ReadOnly\nregion = eu-west-1\n\n[sso-session corp]\nsso_start_url = https://corp.awsapps.example/start\nsso_region = eu-west-1\n',
    );
    process.env.AWS_CONFIG_FILE = config;
    process.env.HOME = home;
    mkdirSync(path.join(home, '.aws', 'sso', 'cache'), { recursive: true });
    const cacheName = createHash('sha1').update('corp').digest('hex');
    writeFileSync(
      path.join(home, '.aws', 'sso', 'cache', `${cacheName}.json`),
      JSON.stringify({ accessToken: 'expired-sso-access-token', expiresAt: '2020-01-01T00:00:00Z', region: 'eu-west-1', startUrl: 'https://corp.awsapps.example/start' }),
    );
    const start = bedrock.requests.length;
    const error = await failure(provider({ profile: 'corp-dev' }));
    assert.equal(error.code, 'ModelExpiredCredentials');
    assert.match(error.message, /SSO session has expired/);
    assert.equal(error.fix, 'Run: aws sso login --profile corp-dev');
    assert.doesNotMatch(`${error.message} ${error.fix}`, /expired-sso-access-token/);
    assert.equal(bedrock.requests.length, start);
  } finally {
    if (savedHome === undefined) delete process.env.HOME;
    else process.env.HOME = savedHome;
    rmSync(home, { recursive: true, force: true });
  }
});

const translations: Array<{ name: string; reply: ReturnType<typeof errorReply>; code: string; message: RegExp; fix: RegExp }> = [
  {
    name: '403 AccessDeniedException for model access not enabled',
    reply: errorReply(403, 'AccessDeniedException', "You don't have access to the model with the specified model ID."),
    code: 'ModelAccessDenied',
    message: /Access to model anthropic\.claude-sonnet-4-5-20250929-v1:0 in eu-west-1 is not enabled/,
    fix: /Bedrock console/,
  },
  {
    name: '403 AccessDeniedException for a missing IAM permission',
    reply: errorReply(403, 'AccessDeniedException', 'User: arn:aws:iam::123456789012:user/dev is not authorized to perform: bedrock:InvokeModelWithResponseStream on resource: arn:aws:bedrock:eu-west-1::foundation-model/x'),
    code: 'ModelAccessDenied',
    message: /lacks permission/,
    fix: /bedrock:InvokeModel and bedrock:InvokeModelWithResponseStream on arn:aws:bedrock:eu-west-1::foundation-model\/anthropic/,
  },
  {
    name: '404 ResourceNotFoundException',
    reply: errorReply(404, 'ResourceNotFoundException', 'Model not found.'),
    code: 'ModelNotFound',
    message: /is not available in eu-west-1/,
    fix: /list-foundation-models/,
  },
  {
    name: 'ValidationException for an invalid model identifier',
    reply: errorReply(400, 'ValidationException', 'The provided model identifier is invalid.'),
    code: 'ModelNotFound',
    message: /is not available in eu-west-1/,
    fix: /inference profile/,
  },
  {
    name: 'ValidationException "too long"',
    reply: errorReply(400, 'ValidationException', 'Input is too long for requested model.'),
    code: 'ModelContextTooLong',
    message: /conversation is too long/,
    fix: /new session/,
  },
  {
    name: '403 ExpiredTokenException',
    reply: errorReply(403, 'ExpiredTokenException', 'The security token included in the request is expired'),
    code: 'ModelExpiredCredentials',
    message: /have expired/,
    fix: /aws sso login|AWS_SESSION_TOKEN/,
  },
  {
    name: '403 UnrecognizedClientException',
    reply: errorReply(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.'),
    code: 'ModelInvalidCredentials',
    message: /rejected the credentials/,
    fix: /get-caller-identity/,
  },
];

for (const translation of translations) {
  test(`bedrock: ${translation.name} → ${translation.code} with a fix`, async () => {
    useEnvCredentials();
    const start = bedrock.requests.length;
    bedrock.reply(translation.reply);
    const error = await failure(provider());
    assert.equal(error.code, translation.code);
    assert.match(error.message, translation.message);
    assert.match(error.fix ?? '', translation.fix);
    assert.equal(bedrock.requests.length - start, 1, 'errors that retrying cannot fix are not retried');
  });
}

test('bedrock: ThrottlingException is retried with backoff and then succeeds', async () => {
  useEnvCredentials();
  const start = bedrock.requests.length;
  bedrock.reply(errorReply(429, 'ThrottlingException', 'Too many requests, please wait before trying again.'), errorReply(429, 'ThrottlingException', 'Too many requests'), textAnswer('after retries'));
  const chunks = await drain(provider());
  assert.deepEqual(chunks[0], { type: 'text-delta', delta: 'after retries' });
  assert.equal(bedrock.requests.length - start, 3);
});

test('bedrock: persistent throttling ends as ModelThrottled after the retry budget', async () => {
  useEnvCredentials();
  const start = bedrock.requests.length;
  bedrock.reply(errorReply(429, 'ThrottlingException', 'Too many requests'));
  const error = await failure(provider());
  assert.equal(error.code, 'ModelThrottled');
  assert.match(error.message, /retries with backoff did not get through/);
  assert.equal(bedrock.requests.length - start, 3);
});

test('bedrock: a throttling exception inside the event stream before any output is retried too', async () => {
  useEnvCredentials();
  const start = bedrock.requests.length;
  bedrock.reply(streamReply([eventFrame('messageStart', { role: 'assistant' }), exceptionFrame('throttlingException', 'slow down')]), textAnswer('second try'));
  const chunks = await drain(provider());
  assert.deepEqual(chunks[0], { type: 'text-delta', delta: 'second try' });
  assert.equal(bedrock.requests.length - start, 2);
});

test('bedrock: a model error reaches the user as an error event with the fix, never a bare 403 or a stack', async () => {
  useEnvCredentials();
  bedrock.reply(errorReply(403, 'AccessDeniedException', "You don't have access to the model with the specified model ID."));
  const gateway: GatewaySession = { listTools: async () => [], callTool: async () => assert.fail('no tool call expected'), close: async () => undefined };
  const events: AgentEvent[] = [];
  for await (const event of runAgentTurn({ model: provider(), gateway, history: [], prompt: 'hi', onCommit: () => assert.fail('nothing to commit') })) events.push(event);
  assert.equal(events.length, 1);
  const [event] = events;
  assert.ok(event?.type === 'error');
  assert.equal(event.code, 'ModelAccessDenied');
  assert.ok(event.fix);
  assert.doesNotMatch(JSON.stringify(event), /\n\s+at /);
});

test('bedrock: check() makes one small signed call and reports access OK', async () => {
  useEnvCredentials();
  const start = bedrock.requests.length;
  bedrock.reply(textAnswer('OK'));
  assert.match(await provider().check(), /credentials and model access OK/);
  const [request] = bedrock.requests.slice(start);
  assert.deepEqual(request?.body.inferenceConfig, { maxTokens: 5 });
});

test('bedrock: a gateway tool name the model API would refuse is sent under a safe alias and mapped back', async () => {
  useEnvCredentials();
  const unsafe = 'docs-server___search.docs/v2';
  const start = bedrock.requests.length;
  let alias = '';
  bedrock.reply((response) => {
    const body = bedrock.requests.at(-1)!.body as { toolConfig: { tools: Array<{ toolSpec: { name: string } }> } };
    alias = body.toolConfig.tools[0]!.toolSpec.name;
    streamReply([
      eventFrame('contentBlockStart', { contentBlockIndex: 0, start: { toolUse: { toolUseId: 'tu', name: alias } } }),
      eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { toolUse: { input: '{"q":"x"}' } } }),
      eventFrame('contentBlockStop', { contentBlockIndex: 0 }),
      eventFrame('messageStop', { stopReason: 'tool_use' }),
    ])(response);
  });
  const chunks: ModelChunk[] = [];
  for await (const chunk of provider().stream({ system: '', tools: [{ name: unsafe, description: 'search', inputSchema: { type: 'object' } }], messages: [{ role: 'user', content: [{ type: 'text', text: 'find x' }] }] })) chunks.push(chunk);
  assert.match(alias, /^docs-server___search_docs_v2_[0-9a-f]{8}$/);
  assert.deepEqual(chunks[0], { type: 'tool-use', id: 'tu', name: unsafe, input: { q: 'x' } });
  assert.equal(bedrock.requests.length - start, 1);
});
