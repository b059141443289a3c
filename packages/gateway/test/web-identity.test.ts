import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CognitoIdentityProviderClient, InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { createJwtAuthorizer, type JwtAuthorizer } from '@gatehouse/auth';
import { EmbeddedStore, closeServer, createAppServer, createLogger, listen, parseConfig, type HttpComponent } from '@gatehouse/core';
import { createSandbox, type SandboxService } from '@gatehouse/sandbox';
import { startIdentity, type RunningIdentity } from '@gatehouse/testing/start-identity';
import type { LambdaContext } from '../src/index.ts';
import { connectClient, startGatewayStack, type GatewayStack } from '@gatehouse/testing/gateway-stack';

// The whole delegated-credentials chain: the user's token → token exchange for audience "sts"
// (identity service) → AssumeRoleWithWebIdentity at the sandbox STS → credentials for this user only.
describe('GATEWAY_IAM_ROLE with web identity through the identity service and the sandbox STS', () => {
  let identity: RunningIdentity;
  let stsAuthorizer: JwtAuthorizer;
  let sandbox: SandboxService;
  let sandboxServer: ReturnType<typeof createAppServer>;
  let sandboxDir: string;
  let stack: GatewayStack;
  let userToken: string;
  let username: string;
  const contexts: LambdaContext[] = [];

  before(async () => {
    identity = await startIdentity();
    const pool = identity.identity.defaultPool;
    const first = identity.identity.firstRun!;
    username = first.username;
    const cognito = new CognitoIdentityProviderClient({ endpoint: identity.baseUrl, region: 'local', credentials: { accessKeyId: 'AKIAUNUSED00000000000', secretAccessKey: 'unused' } });
    userToken = (await cognito.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: pool.webClientId, AuthParameters: { USERNAME: first.username, PASSWORD: first.password } }))).AuthenticationResult!.AccessToken!;
    cognito.destroy();

    stsAuthorizer = createJwtAuthorizer({ discoveryUrl: pool.discoveryUrl, allowedAudience: ['sts'] });
    sandboxDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-gateway-sandbox-'));
    const components: HttpComponent[] = [];
    sandboxServer = createAppServer(components);
    const port = await listen(sandboxServer, 0);
    sandbox = await createSandbox(
      { config: parseConfig({}), dataDir: sandboxDir, baseUrl: `http://127.0.0.1:${port}`, logger: createLogger({ level: 'silent' }), clock: Date.now, store: new EmbeddedStore() },
      {
        lookupAccessKey: async () => undefined,
        async verifyWebIdentity(token) {
          const principal = await stsAuthorizer.verify(token);
          return { subject: principal.subject, username: principal.username, groups: principal.groups, issuer: principal.issuer, claims: principal.claims };
        },
      },
    );
    components.push(sandbox);

    stack = await startGatewayStack(
      [
        {
          name: 'default',
          authorizerConfiguration: { customJWTAuthorizer: { discoveryUrl: pool.discoveryUrl, allowedClients: [pool.webClientId] } },
          targets: [
            {
              name: 'ops',
              targetConfiguration: { mcp: { lambda: { module: 'test:whoami-aws' } } },
              credentialProviderConfigurations: [
                { credentialProviderType: 'GATEWAY_IAM_ROLE', iamCredentialProvider: { service: 'sts', roleArn: 'arn:aws:iam::000000000000:role/GatehouseToolsBridge', webIdentity: true } },
              ],
            },
          ],
        },
      ],
      {
        serviceClient: identity.identity.serviceClient('gateway'),
        sts: { endpoint: sandbox.stsEndpoint, region: 'us-east-1' },
        functions: {
          'test:whoami-aws': {
            toolSchema: [{ name: 'whoami_aws', inputSchema: { type: 'object' } }],
            async handler(_event, context) {
              contexts.push(context);
              const sts = new STSClient({ endpoint: sandbox.stsEndpoint, region: 'us-east-1', credentials: context.identity.credentials! });
              try {
                return { arn: (await sts.send(new GetCallerIdentityCommand({}))).Arn };
              } finally {
                sts.destroy();
              }
            },
          },
        },
      },
    );
  });

  after(async () => {
    await stack.close();
    await sandbox.close();
    await closeServer(sandboxServer);
    stsAuthorizer.close();
    rmSync(sandboxDir, { recursive: true, force: true });
    await identity.close();
  });

  test('the function gets bridge-role credentials named after the user, obtained with an STS-audience token', async () => {
    const { client } = await connectClient(`${stack.baseUrl}/mcp`, userToken);
    try {
      const result = await client.callTool({ name: 'ops___whoami_aws', arguments: {} });
      assert.equal(result.isError, undefined, JSON.stringify(result.content));
      assert.deepEqual(result.structuredContent, { arn: `arn:aws:sts::000000000000:assumed-role/GatehouseToolsBridge/${username}` });
      assert.equal(contexts.at(-1)?.identity.username, username);
      assert.ok(sandbox.observed.sts.some((entry) => entry.action === 'AssumeRoleWithWebIdentity' && entry.outcome === 'issued'));
    } finally {
      await client.close();
    }
  });

  test('STS refuses the user\'s own gateway token as a web identity (it is not meant for STS)', async () => {
    const sts = new STSClient({ endpoint: sandbox.stsEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIAUNUSED00000000000', secretAccessKey: 'unused' } });
    try {
      await assert.rejects(
        sts.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: 'arn:aws:iam::000000000000:role/GatehouseToolsBridge', RoleSessionName: 'x1', WebIdentityToken: userToken })),
        (error: unknown) => (error as { name?: string }).name === 'InvalidIdentityTokenException',
      );
    } finally {
      sts.destroy();
    }
  });
});
