import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { startTestIssuer, type TestIssuer } from '@gatehouse/testing/test-issuer';
import { adminCredentials, startStack, type TestStack } from '@gatehouse/testing/sandbox-stack';
import { EmbeddedStore } from '@gatehouse/core';
import type { LambdaContext } from '../src/index.ts';
import { connectClient, startGatewayStack, type GatewayStack } from '@gatehouse/testing/gateway-stack';

// GATEWAY_IAM_ROLE: the gateway assumes the role for the calling user (session name and tags from
// the user) at the sandbox STS and hands those credentials, and only those, to the function.
/** The shared store, recording every value written to it (to check what reaches it at rest). */
class RecordingStore extends EmbeddedStore {
  readonly written: string[] = [];
  override async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    this.written.push(value);
    return super.set(key, value, ttlSeconds);
  }
}

describe('GATEWAY_IAM_ROLE credentials for a function target', () => {
  const store = new RecordingStore();
  let issuer: TestIssuer;
  let sandbox: TestStack;
  let stack: GatewayStack;
  const invocations: LambdaContext[] = [];

  before(async () => {
    issuer = await startTestIssuer();
    sandbox = await startStack();
    stack = await startGatewayStack(
      [
        {
          name: 'default',
          authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: issuer.discoveryUrl, allowedClients: ['test-client'] } },
          targets: [
            {
              name: 'ops',
              targetConfiguration: { mcp: { lambda: { module: 'test:caller-identity' } } },
              credentialProviderConfigurations: [
                { credentialProviderType: 'GATEWAY_IAM_ROLE', iamCredentialProvider: { service: 's3', roleArn: 'arn:aws:iam::111111111111:role/GatehouseOpsReadWrite' } },
              ],
            },
          ],
        },
      ],
      {
        sts: { endpoint: sandbox.sandbox.stsEndpoint, region: 'us-east-1', credentials: adminCredentials() },
        functions: {
          'test:caller-identity': {
            toolSchema: [{ name: 'caller_identity', description: 'Which AWS identity the tool runs as', inputSchema: { type: 'object', properties: {} } }],
            async handler(_event, context) {
              invocations.push(context);
              const credentials = context.identity.credentials;
              if (!credentials) throw new Error('no credentials for this user');
              const sts = new STSClient({ endpoint: sandbox.sandbox.stsEndpoint, region: 'us-east-1', credentials });
              try {
                const identity = await sts.send(new GetCallerIdentityCommand({}));
                return { arn: identity.Arn };
              } finally {
                sts.destroy();
              }
            },
          },
        },
      },
      { store },
    );
  });

  after(async () => {
    await stack.close();
    await store.close();
    await sandbox.close();
    await issuer.close();
  });

  test('runs the tool with role credentials issued for the calling user, cached across calls', async () => {
    const { client } = await connectClient(`${stack.baseUrl}/mcp`, issuer.sign({ sub: 'sub-writer', username: 'writer', 'cognito:groups': ['ops-readwrite'] }));
    try {
      const first = await client.callTool({ name: 'ops___caller_identity', arguments: {} });
      assert.deepEqual(first.structuredContent, { arn: 'arn:aws:sts::111111111111:assumed-role/GatehouseOpsReadWrite/writer' });
      const issued = sandbox.sandbox.observed.sts.filter((entry) => entry.action === 'AssumeRole').length;
      const second = await client.callTool({ name: 'ops___caller_identity', arguments: {} });
      assert.deepEqual(second.structuredContent, first.structuredContent);
      assert.equal(sandbox.sandbox.observed.sts.filter((entry) => entry.action === 'AssumeRole').length, issued, 'the second call used cached credentials');
      // The cached credentials are sealed at rest: no store value holds the secret key or session token.
      const secrets = invocations.flatMap((context) => (context.identity.credentials ? [context.identity.credentials.secretAccessKey, context.identity.credentials.sessionToken] : []));
      assert.ok(secrets.length > 0 && store.written.length > 0);
      for (const value of store.written) for (const secret of secrets) assert.ok(!value.includes(secret), 'a credential reached the store in clear');
    } finally {
      await client.close();
    }
  });

  test('when STS refuses the user, the call fails and the handler is never invoked', async () => {
    const { client } = await connectClient(`${stack.baseUrl}/mcp`, issuer.sign({ sub: 'sub-reader', username: 'reader', 'cognito:groups': ['ops-readonly'] }));
    try {
      const before = invocations.length;
      const result = await client.callTool({ name: 'ops___caller_identity', arguments: {} });
      assert.equal(result.isError, true);
      assert.match(JSON.stringify(result.content), /CredentialsUnavailable: Target ops: STS refused/);
      assert.equal(invocations.length, before, 'the handler did not run');
    } finally {
      await client.close();
    }
  });
});
