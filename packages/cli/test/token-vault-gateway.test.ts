// Gateway targets with token-vault credential providers (created through the control-plane API, as with AgentCore):
// the tool call goes upstream with the calling user's own SaaS token, obtained once with consent (MCP URL-mode
// elicitation, -32042, or a tool error naming the link for older clients), reused, disconnected on demand. The
// upstream never sees a Gatehouse token, user B never gets user A's SaaS token, a consent started by A and completed
// by B is refused; M2M and API-key targets; a provider that is down is a typed tool error.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { binPath } from '@gatehouse/testing/run-cli';
import { Writable } from 'node:stream';
import { decodeJwt } from 'jose';
import { chromium, type Browser } from 'playwright-core';
import { CognitoIdentityProviderClient, GlobalSignOutCommand } from '@aws-sdk/client-cognito-identity-provider';
import {
  BedrockAgentCoreControlClient,
  CreateApiKeyCredentialProviderCommand,
  CreateGatewayCommand,
  CreateGatewayTargetCommand,
  CreateOauth2CredentialProviderCommand,
  GetOauth2CredentialProviderCommand,
} from '@aws-sdk/client-bedrock-agentcore-control';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { createLogger } from '@gatehouse/core';
import { startGatehouse, type RunningGatehouse } from '../src/start-gatehouse.ts';
import { freePort } from '@gatehouse/testing/start-identity';
import { SAAS_SCOPE, startSaas, type Saas } from '@gatehouse/testing/saas-server';
import { startUpstreamMcpServer, type RecordingServer } from '@gatehouse/testing/upstream-servers';
import { adminCredentials as sharedAdminCredentials, completeConsent, consentAtSaas, signIn as sharedSignIn } from './support/vault-session.ts';

const API_KEY = `wk-${randomBytes(12).toString('hex')}`;
let dir: string;
let saas: Saas;
/** A second SaaS whose M2M tokens live 61 s, so the vault (refreshing 60 s early) asks it again on every call. */
let flaky: Saas;
let upstream: RecordingServer;
let gatehouse: RunningGatehouse;
let browser: Browser;
let mcpUrl: string;
let logText = '';
const users: Record<'alice' | 'bob', { token: string; client: Client }> = {} as never;

function adminCredentials(): { accessKeyId: string; secretAccessKey: string } {
  return sharedAdminCredentials(gatehouse);
}

function signIn(username: string): Promise<string> {
  return sharedSignIn(gatehouse, username);
}

/** The official MCP client on 2025-11-25; it declares `capabilities.elicitation.url` unless told not to. */
async function mcpClient(token: string, options: { urlElicitation?: boolean } = {}): Promise<Client> {
  const client = new Client({ name: 'token-vault-test', version: '1.0.0' }, options.urlElicitation === false ? {} : { capabilities: { elicitation: { url: {} } } });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return client;
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-vault-'));
  const port = await freePort();
  saas = await startSaas({ callbackUrl: `http://localhost:${port}/identities/oauth2/callback` });
  flaky = await startSaas({ callbackUrl: `http://localhost:${port}/identities/oauth2/callback`, accessTokenSeconds: 61 });
  upstream = await startUpstreamMcpServer();
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logText += chunk.toString('utf8');
      callback();
    },
  });
  gatehouse = await startGatehouse({ dataDir: path.join(dir, 'data'), port, logger: createLogger({ level: 'debug', destination }), config: { tools: { sandbox: { enabled: false } }, tokenVault: { revokeOnSignOut: true } } });
  const control = new BedrockAgentCoreControlClient({ endpoint: gatehouse.url, region: gatehouse.config.region, credentials: adminCredentials(), maxAttempts: 1 });
  try {
    const custom = (discoveryUrl: string) => ({ customOauth2ProviderConfig: { oauthDiscovery: { discoveryUrl }, clientId: saas.clientId, clientSecret: saas.clientSecret } });
    const provider = await control.send(new CreateOauth2CredentialProviderCommand({ name: 'saas', credentialProviderVendor: 'CustomOauth2', oauth2ProviderConfigInput: custom(saas.discoveryUrl) }));
    assert.equal(provider.callbackUrl, `${gatehouse.url}/identities/oauth2/callback`, 'the redirect URI to register at the SaaS');
    const down = await control.send(new CreateOauth2CredentialProviderCommand({
      name: 'flaky', credentialProviderVendor: 'CustomOauth2',
      oauth2ProviderConfigInput: { customOauth2ProviderConfig: { oauthDiscovery: { discoveryUrl: flaky.discoveryUrl }, clientId: flaky.clientId, clientSecret: flaky.clientSecret } },
    }));
    const key = await control.send(new CreateApiKeyCredentialProviderCommand({ name: 'weather', apiKey: API_KEY }));
    const pool = gatehouse.identity.defaultPool;
    const gateway = await control.send(new CreateGatewayCommand({
      name: 'saas-tools', roleArn: 'arn:aws:iam::123456789012:role/gateway', authorizerType: 'CUSTOM_JWT', protocolType: 'MCP',
      authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: pool.discoveryUrl, allowedClients: [pool.webClientId] } },
    }));
    const target = (name: string, endpoint: string, credential: Record<string, unknown>) => control.send(new CreateGatewayTargetCommand({
      gatewayIdentifier: gateway.gatewayId!, name, targetConfiguration: { mcp: { mcpServer: { endpoint } } }, credentialProviderConfigurations: [credential as never],
    }));
    const oauth = (providerArn: string, grantType: string, scopes: string[]) => ({ credentialProviderType: 'OAUTH', credentialProvider: { oauthCredentialProvider: { providerArn, scopes, grantType } } });
    for (const created of [
      await target('tickets', saas.mcpUrl, oauth(provider.credentialProviderArn!, 'AUTHORIZATION_CODE', ['openid', SAAS_SCOPE])),
      await target('service', saas.mcpUrl, oauth(provider.credentialProviderArn!, 'CLIENT_CREDENTIALS', [SAAS_SCOPE])),
      await target('outage', flaky.mcpUrl, oauth(down.credentialProviderArn!, 'CLIENT_CREDENTIALS', [SAAS_SCOPE])),
      await target('weather', upstream.url, { credentialProviderType: 'API_KEY', credentialProvider: { apiKeyCredentialProvider: { providerArn: key.credentialProviderArn, credentialPrefix: 'Key ' } } }),
    ]) assert.equal(created.status, 'READY', JSON.stringify(created.statusReasons));
    mcpUrl = `${gatehouse.url}/gateways/${gateway.gatewayId}/mcp`;
    const stored = await control.send(new GetOauth2CredentialProviderCommand({ name: 'saas' }));
    assert.ok(!JSON.stringify(stored).includes(saas.clientSecret), 'the client secret is never returned');
  } finally {
    control.destroy();
  }
  for (const name of ['alice', 'bob'] as const) {
    const token = await signIn(name);
    users[name] = { token, client: await mcpClient(token) };
  }
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
});

after(async () => {
  await browser?.close();
  for (const user of Object.values(users)) await user.client.close();
  await gatehouse?.close();
  await saas?.close();
  await flaky?.close();
  await upstream?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The tool call's URL elicitation (MCP 2025-11-25: URLElicitationRequired, -32042). */
async function elicitation(client: Client, name: string): Promise<{ mode: string; elicitationId: string; url: string; message: string }> {
  try {
    await client.callTool({ name, arguments: {} });
  } catch (error) {
    assert.ok(error instanceof McpError, String(error));
    assert.equal(error.code, -32042, error.message);
    const elicitations = (error.data as { elicitations: { mode: string; elicitationId: string; url: string; message: string }[] }).elicitations;
    assert.equal(elicitations.length, 1);
    return elicitations[0]!;
  }
  assert.fail(`${name} was expected to ask for consent`);
}

function consent(url: string, saasLogin: string): Promise<URL> {
  return consentAtSaas(browser, url, saasLogin);
}

function complete(token: string, sessionUri: string): Promise<Response> {
  return completeConsent(gatehouse, token, sessionUri);
}

function text(result: Awaited<ReturnType<Client['callTool']>>): string {
  return (result.content as { text: string }[])[0]?.text ?? '';
}

test('a user-federated target asks for consent, then calls the SaaS with the user’s own token; never another user’s', async () => {
  const { alice, bob } = users;
  const listed = (await alice.client.listTools()).tools.map((tool) => tool.name);
  assert.ok(listed.includes('tickets___connect'), `a connect tool stands in until someone connects: ${listed.join(', ')}`);
  const seenBefore = saas.seenAuthorizations.length;

  // Consent started by alice, finished with bob's Gatehouse session: refused, nothing stored.
  const first = await elicitation(alice.client, 'tickets___connect');
  assert.equal(first.mode, 'url');
  assert.equal(new URL(first.url).origin, saas.issuer);
  assert.match(first.message, /Connect saas/);
  const landed = await consent(first.url, 'alice-at-saas');
  assert.equal(landed.origin, gatehouse.url.replace('localhost', 'localhost'), 'back in the web UI');
  assert.equal(landed.searchParams.get('session_id'), first.elicitationId);
  const stolen = await complete(bob.token, first.elicitationId);
  assert.equal(stolen.status, 403);
  assert.match(((await stolen.json()) as { message: string }).message, /another user/);
  assert.equal((await complete(alice.token, first.elicitationId)).status, 404, 'the hijacked consent is discarded');
  await elicitation(alice.client, 'tickets___connect');
  assert.equal(saas.seenAuthorizations.length, seenBefore, 'the SaaS MCP server was not called without a consented token');

  // alice connects properly; the same question now succeeds with her SaaS token.
  const second = await elicitation(alice.client, 'tickets___connect');
  await consent(second.url, 'alice-at-saas');
  assert.equal((await complete(alice.token, second.elicitationId)).status, 200);
  assert.match(text(await alice.client.callTool({ name: 'tickets___connect', arguments: {} })), /Connected/);
  assert.ok((await alice.client.listTools()).tools.some((tool) => tool.name === 'tickets___list_tickets'));
  const codeGrants = saas.grants.authorization_code ?? 0;
  assert.equal(text(await alice.client.callTool({ name: 'tickets___list_tickets', arguments: {} })), 'tickets of alice-at-saas: #1 printer on fire');
  // second question: the stored token, no new consent or code exchange
  assert.equal(text(await alice.client.callTool({ name: 'tickets___list_tickets', arguments: {} })), 'tickets of alice-at-saas: #1 printer on fire');
  assert.equal(saas.grants.authorization_code ?? 0, codeGrants);

  // bob, same tool, same instance: asked for his own consent; the SaaS is not called for him.
  const seen = saas.seenAuthorizations.length;
  const bobs = await elicitation(bob.client, 'tickets___list_tickets');
  assert.notEqual(bobs.elicitationId, second.elicitationId);
  assert.equal(saas.seenAuthorizations.length, seen);

  // The upstream only ever saw SaaS tokens: never a Gatehouse token.
  for (const header of saas.seenAuthorizations) {
    assert.ok(!header.includes(alice.token) && !header.includes(bob.token));
    if (header.startsWith('Bearer ')) assert.equal(decodeJwt(header.slice(7)).iss, saas.issuer);
  }
});

test('clients before MCP 2025-11-25 get a tool error naming the consent link', async () => {
  const headers = { authorization: `Bearer ${users.bob.token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const initialized = await fetch(mcpUrl, {
    method: 'POST', headers,
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'old', version: '1' } } }),
  });
  const session = initialized.headers.get('mcp-session-id')!;
  await initialized.text();
  const call = await fetch(mcpUrl, {
    method: 'POST', headers: { ...headers, 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'tickets___list_tickets', arguments: {} } }),
  });
  const body = (await call.json()) as { result: { isError: boolean; content: { text: string }[]; structuredContent: { elicitation: { url: string } } } };
  assert.equal(body.result.isError, true);
  assert.match(body.result.content[0]!.text, /^ConsentRequired: Connect saas/);
  assert.ok(body.result.content[0]!.text.includes(body.result.structuredContent.elicitation.url));
});

test('a client on 2025-11-25 that does not declare elicitation.url gets the tool error, not -32042', async () => {
  const plain = await mcpClient(users.bob.token, { urlElicitation: false });
  try {
    const result = await plain.callTool({ name: 'tickets___list_tickets', arguments: {} });
    assert.equal(result.isError, true);
    assert.match(text(result), /^ConsentRequired: Connect saas/);
    const elicited = (result.structuredContent as { elicitation: { mode: string; url: string } }).elicitation;
    assert.equal(elicited.mode, 'url');
    assert.ok(text(result).includes(elicited.url), 'the link is in the text for the user to open');
  } finally {
    await plain.close();
  }
  // the same user, a client declaring the capability: the elicitation itself
  assert.equal((await elicitation(users.bob.client, 'tickets___list_tickets')).mode, 'url');
});

test('disconnect revokes the token at the SaaS and the next call asks again', async () => {
  const { alice } = users;
  const connections = await fetch(`${gatehouse.url}/identities/vault/connections`, { headers: { authorization: `Bearer ${alice.token}` } });
  const listed = (await connections.json()) as { connections: { provider: string }[] };
  assert.deepEqual(listed.connections.map((entry) => entry.provider), ['saas']);
  assert.ok(!JSON.stringify(listed).includes('eyJ'), 'connections never include a token');
  const revocations = saas.revocations();
  const answer = await fetch(`${gatehouse.url}/identities/vault/disconnect`, { method: 'POST', headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' }, body: '{"provider":"saas"}' });
  assert.deepEqual(await answer.json(), { disconnected: 1 });
  assert.equal(saas.revocations(), revocations + 1);
  await elicitation(alice.client, 'tickets___list_tickets');
  const anonymous = await fetch(`${gatehouse.url}/identities/vault/disconnect`, { method: 'POST' });
  assert.equal(anonymous.status, 401);
});

test('M2M and API-key targets; a provider that is down is a typed tool error and nothing is cached', async () => {
  const { alice, bob } = users;
  assert.equal(text(await bob.client.callTool({ name: 'service___list_tickets', arguments: {} })), `tickets of ${saas.clientId}: #1 printer on fire`);
  assert.equal(text(await alice.client.callTool({ name: 'weather___echo', arguments: { text: 'sunny?' } })), 'echo:sunny?');
  const keyed = upstream.requests.filter((request) => request.body.includes('tools/call'));
  assert.ok(keyed.length > 0 && keyed.every((request) => request.authorization === `Key ${API_KEY}`));
  // The provider works, then goes down: the call is a typed tool error, the target is not called, nothing stale is used.
  assert.match(text(await alice.client.callTool({ name: 'outage___list_tickets', arguments: {} })), /tickets of/);
  await flaky.stopAuthorizationServer();
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const calls = flaky.seenAuthorizations.length;
  for (let attempt = 0; attempt < 2; attempt++) {
    const down = await alice.client.callTool({ name: 'outage___list_tickets', arguments: {} });
    assert.equal(down.isError, true);
    assert.match(text(down), /^CredentialsUnavailable: Target outage: Credential provider flaky could not be reached .*The call was not sent/);
  }
  assert.equal(flaky.seenAuthorizations.length, calls, 'the upstream was not called without a fresh token');
});

test('with tokenVault.revokeOnSignOut, signing out of Gatehouse forgets and revokes the user’s SaaS tokens', async () => {
  const { bob } = users;
  const asked = await elicitation(bob.client, 'tickets___list_tickets');
  await consent(asked.url, 'bob-at-saas');
  assert.equal((await complete(bob.token, asked.elicitationId)).status, 200);
  assert.equal(text(await bob.client.callTool({ name: 'tickets___list_tickets', arguments: {} })), 'tickets of bob-at-saas: #1 printer on fire');
  const stored = decodeJwt(bob.token);
  assert.equal((await gatehouse.identity.vault.connections({ iss: String(stored.iss), sub: String(stored.sub) })).length, 1);
  const revoked = saas.revocations();
  const cognito = new CognitoIdentityProviderClient({ endpoint: gatehouse.url, region: gatehouse.config.region, credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' } });
  try {
    await cognito.send(new GlobalSignOutCommand({ AccessToken: bob.token }));
  } finally {
    cognito.destroy();
  }
  assert.equal(saas.revocations(), revoked + 1, 'revoked at the SaaS');
  const claims = decodeJwt(bob.token);
  assert.deepEqual(await gatehouse.identity.vault.connections({ iss: String(claims.iss), sub: String(claims.sub) }), [], 'nothing left in the vault for bob');
});

test('gatehouse vault list|disconnect: an administrator sees and cuts a user’s SaaS connections', async () => {
  const token = await signIn('carol');
  const carol = await mcpClient(token);
  try {
    const asked = await elicitation(carol, 'tickets___list_tickets');
    await consent(asked.url, 'carol-at-saas');
    assert.equal((await complete(token, asked.elicitationId)).status, 200);
    const cli = (...args: string[]) => spawnSync(process.execPath, [binPath, 'vault', ...args, '--data-dir', gatehouse.dataDir], { encoding: 'utf8', env: { ...process.env, GATEHOUSE_LOG_LEVEL: 'silent' } });
    const listed = cli('list', 'carol');
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, /^saas {2}workload gateway-[\w-]+ {2}scopes openid tickets:read/m);
    assert.ok(!listed.stdout.includes('eyJ'), 'no token printed');
    const cut = cli('disconnect', 'carol', '--provider', 'saas');
    assert.equal(cut.status, 0, cut.stderr);
    assert.match(cut.stdout, /disconnected 1 connection of carol to saas/);
    await elicitation(carol, 'tickets___list_tickets');
    assert.equal(cli('list', 'nobody').status, 2);
  } finally {
    await carol.close();
  }
});

test('no client secret, API key or SaaS token in logs or audit rows', async () => {
  const auditFiles = ['audit.db', 'audit.db-wal'].map((file) => path.join(gatehouse.dataDir, file)).filter((file) => existsSync(file));
  const audit = auditFiles.map((file) => readFileSync(file).toString('latin1')).join('');
  for (const [where, content] of [['log', logText], ['audit', audit]] as const) {
    assert.ok(!content.includes(saas.clientSecret), `client secret in ${where}`);
    assert.ok(!content.includes(API_KEY), `API key in ${where}`);
  }
  const tokens = logText.match(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/g) ?? [];
  assert.deepEqual(tokens, [], 'no token in the log');
});
