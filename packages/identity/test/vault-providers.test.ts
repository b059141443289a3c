// Credential providers from gatehouse.yaml: vendor presets resolve the provider's endpoints, a custom provider keeps
// its own, and the client secret is read from the secret store only when asked for (never a field of the definition).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig } from '@gatehouse/core';
import { configuredProviders } from '../src/vault/configured-providers.ts';

test('GitHub, Microsoft and custom providers resolve their endpoints; secrets are read on use', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-vault-providers-'));
  try {
    writeFileSync(path.join(dataDir, 'secrets.json'), JSON.stringify({ gh: 'gh-secret', key: 'api-key' }));
    const config = parseConfig({
      tokenVault: {
        oauth2CredentialProviders: [
          { name: 'github', credentialProviderVendor: 'GithubOauth2', clientId: 'Iv1.x', clientSecretName: 'gh' },
          { name: 'outlook', credentialProviderVendor: 'MicrosoftOauth2', tenantId: 'contoso.onmicrosoft.com', clientId: 'c', clientSecretName: 'missing' },
          { name: 'jira', discoveryUrl: 'https://auth.example.com/.well-known/openid-configuration', clientId: 'j', clientSecretName: 'gh' },
        ],
        apiKeyCredentialProviders: [{ name: 'weather', apiKeySecretName: 'key' }],
      },
    });
    const source = configuredProviders(config.tokenVault, { region: 'local', accountId: '000000000000', dataDir });
    const github = source.oauth2('github')!;
    assert.equal(github.arn, 'arn:aws:bedrock-agentcore:local:000000000000:token-vault/default/oauth2credentialprovider/github');
    assert.equal(github.metadata?.tokenEndpoint, 'https://github.com/login/oauth/access_token');
    assert.equal(github.clientAuthenticationMethod, 'CLIENT_SECRET_POST');
    assert.equal(github.clientSecret(), 'gh-secret');
    assert.ok(!JSON.stringify(github).includes('gh-secret'), 'the secret is no field of the definition');
    const outlook = source.oauth2('outlook')!;
    assert.equal(outlook.metadata?.authorizationEndpoint, 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize');
    assert.equal(outlook.clientSecret(), undefined);
    const jira = source.oauth2('jira')!;
    assert.equal(jira.discoveryUrl, 'https://auth.example.com/.well-known/openid-configuration');
    assert.equal(jira.metadata, undefined);
    assert.equal(source.apiKey('weather')?.apiKey(), 'api-key');
    assert.equal(source.oauth2('nope'), undefined);
    assert.throws(() => parseConfig({ tokenVault: { oauth2CredentialProviders: [{ name: 'bad', clientId: 'x', clientSecretName: 'y' }] } }), /exactly one of discoveryUrl or authorizationServerMetadata/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
