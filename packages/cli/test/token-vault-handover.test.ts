// handTokenToAgent: a gatehouse.yaml target may opt in to handing the user's SaaS token (from the token vault) to the
// agent in the tool result's `_meta`. Off by default: the same user, the same provider and scopes, a target without the
// opt-in — the SaaS token appears nowhere in what the agent receives. The official MCP client plays the agent.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { decodeJwt } from 'jose';
import { chromium, type Browser } from 'playwright-core';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { gatewayTargetSchema } from '@gatehouse/core';
import type { RunningGatehouse } from '../src/start-gatehouse.ts';
import { SAAS_SCOPE, startSaas, type Saas } from '@gatehouse/testing/saas-server';
import { completeConsent, consentAtSaas, prepareVaultStack, signIn } from './support/vault-session.ts';

const PROVIDER_ARN = 'arn:aws:bedrock-agentcore:local:000000000000:token-vault/default/oauth2credentialprovider/saas';
const META_KEY = 'dev.gatehouse/upstreamToken';
let dir: string;
let saas: Saas;
let gatehouse: RunningGatehouse;
let browser: Browser;
let client: Client;

function target(name: string, handTokenToAgent: boolean | undefined): Record<string, unknown> {
  return {
    name,
    targetConfiguration: { mcp: { mcpServer: { endpoint: saas.mcpUrl } } },
    credentialProviderConfigurations: [{
      credentialProviderType: 'OAUTH',
      oauthCredentialProvider: { providerArn: PROVIDER_ARN, grantType: 'AUTHORIZATION_CODE', scopes: ['openid', SAAS_SCOPE], ...(handTokenToAgent === undefined ? {} : { handTokenToAgent }) },
    }],
  };
}

before(async () => {
  // The default pool's issuer (learnt from a first start) is what the gateway declared below trusts.
  const { dir: stackDir, port, discoveryUrl, webClientId, start } = await prepareVaultStack('gatehouse-handover-');
  dir = stackDir;
  saas = await startSaas({ callbackUrl: `http://localhost:${port}/identities/oauth2/callback` });
  process.env.GATEHOUSE_SECRET_SAAS_HANDOVER = saas.clientSecret;
  gatehouse = await start({
    tokenVault: { oauth2CredentialProviders: [{ name: 'saas', discoveryUrl: saas.discoveryUrl, clientId: saas.clientId, clientSecretName: 'saas_handover' }] },
    gateways: [{
      name: 'default',
      authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl, allowedClients: [webClientId] } },
      targets: [target('tickets', undefined), target('handed', true)],
    }],
  });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  const token = await signIn(gatehouse, 'carol');
  client = new Client({ name: 'handover-test', version: '1.0.0' }, { capabilities: { elicitation: { url: {} } } });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${gatehouse.url}/gateways/default/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  // carol connects the SaaS once (both targets use the same provider and scopes, so one consent serves both)
  let elicitationId = '';
  let url = '';
  try {
    await client.callTool({ name: 'tickets___connect', arguments: {} });
  } catch (error) {
    assert.ok(error instanceof McpError && error.code === -32042, String(error));
    ({ elicitationId, url } = (error.data as { elicitations: { elicitationId: string; url: string }[] }).elicitations[0]!);
  }
  await consentAtSaas(browser, url, 'carol-at-saas');
  assert.equal((await completeConsent(gatehouse, token, elicitationId)).status, 200);
});

after(async () => {
  await client?.close();
  await browser?.close();
  await gatehouse?.close();
  await saas?.close();
  delete process.env.GATEHOUSE_SECRET_SAAS_HANDOVER;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The bearer token the SaaS's MCP server saw on its last call. */
function lastSaasToken(): string {
  const header = saas.seenAuthorizations.at(-1) ?? '';
  assert.match(header, /^Bearer /);
  return header.slice('Bearer '.length);
}

test('by default the agent never sees the user’s SaaS token: the gateway only attaches it upstream', async () => {
  await client.listTools();
  const result = await client.callTool({ name: 'tickets___list_tickets', arguments: {} });
  assert.equal((result.content as { text: string }[])[0]!.text, 'tickets of carol-at-saas: #1 printer on fire');
  const saasToken = lastSaasToken();
  assert.equal(decodeJwt(saasToken).iss, saas.issuer);
  assert.ok(!JSON.stringify(result).includes(saasToken), 'the SaaS token is nowhere in the tool result');
  assert.equal(result._meta?.[META_KEY], undefined);
});

test('a target with handTokenToAgent hands the same SaaS token to the agent in _meta', async () => {
  const result = await client.callTool({ name: 'handed___list_tickets', arguments: {} });
  assert.equal((result.content as { text: string }[])[0]!.text, 'tickets of carol-at-saas: #1 printer on fire');
  const handed = result._meta?.[META_KEY] as { provider: string; accessToken: string; tokenType: string } | undefined;
  assert.ok(handed, 'the token is handed over');
  assert.deepEqual(handed, { provider: 'saas', accessToken: lastSaasToken(), tokenType: 'Bearer' });
});

test('handTokenToAgent without a token-vault provider is refused in the configuration', () => {
  const parsed = gatewayTargetSchema.safeParse({
    name: 'bad', targetConfiguration: { mcp: { mcpServer: { endpoint: 'http://127.0.0.1:1/mcp' } } },
    credentialProviderConfigurations: [{ credentialProviderType: 'OAUTH', oauthCredentialProvider: { grantType: 'CLIENT_CREDENTIALS', tokenEndpoint: 'http://127.0.0.1:1/token', handTokenToAgent: true } }],
  });
  assert.equal(parsed.success, false);
  assert.match(JSON.stringify(parsed.error?.issues), /handTokenToAgent .* needs providerArn/);
});
